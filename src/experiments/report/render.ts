/**
 * Comparison report: report.md (charts and images as files beside it), report.html (one
 * self-contained file: SVG inline, images as data URIs) and report.json (the numbers).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ANSWERS, QUESTIONS } from '../../questions/index.js';
import { fmt, fmtDelta, formatDuration } from '../format.js';
import { type ReportCharts, renderCharts } from './charts.js';
import type { ComparisonResult, ExampleGalaxy, ImageRef, VariantResult } from './types.js';

/** The files a report was written to. */
export interface ReportFiles {
  /** The report folder. */
  readonly dir: string;
  /** report.md. */
  readonly markdown: string;
  /** report.html. */
  readonly html: string;
  /** report.json (the ComparisonResult). */
  readonly json: string;
  /** Chart name → its Vega-Lite spec file. */
  readonly charts: Readonly<Record<string, string>>;
}

const CHART_FILES: Record<keyof ReportCharts, string> = {
  curves: 'training-curves.svg',
  questionR2: 'r2-per-question.svg',
  answerR2: 'r2-per-answer.svg',
  scatter: 'predicted-vs-true.svg',
  learningCurve: 'learning-curve.svg',
};

const CHART_TITLES: Record<keyof ReportCharts, string> = {
  curves: 'Training curves',
  questionR2: 'R² per question',
  answerR2: 'R² per answer',
  scatter: 'Predicted vs true',
  learningCurve: 'Learning curve',
};

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

function bestIndex(values: readonly number[], higherIsBetter: boolean): number {
  let best = -1;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    if (best < 0 || (higherIsBetter ? v > values[best] : v < values[best])) best = i;
  });
  return best;
}

function ensembleText(v: VariantResult): string {
  return v.ensembleSize > 1 ? `×${v.ensembleSize}` : '1';
}

function answerLabel(index: number): string {
  const a = ANSWERS[index];
  return `${a.kaggleId} ${QUESTIONS[a.question - 1].name.replace(/_/g, ' ')}: ${a.text}`;
}

/** The answers worth showing for one galaxy: top 5 by truth, plus each variant's top answer. */
export function topAnswers(example: ExampleGalaxy, variants: readonly VariantResult[], count = 5): number[] {
  const byValue = (values: readonly number[]) =>
    values
      .map((v, i) => [v, i] as const)
      .filter(([v]) => Number.isFinite(v))
      .sort((a, b) => b[0] - a[0])
      .map(([, i]) => i);
  const chosen = byValue(example.truth).slice(0, count);
  for (const v of variants) {
    const p = example.predictions[v.name];
    if (!p) continue;
    const top = byValue(p)[0];
    if (top !== undefined && !chosen.includes(top)) chosen.push(top);
  }
  return chosen;
}

function mimeOf(path: string): 'image/jpeg' | 'image/png' {
  return extname(path).toLowerCase() === '.png' ? 'image/png' : 'image/jpeg';
}

function imageBytes(image: ImageRef): { mime: 'image/jpeg' | 'image/png'; data: Uint8Array } {
  if ('data' in image) return image;
  return { mime: mimeOf(image.path), data: readFileSync(image.path) };
}

function summaryLines(result: ComparisonResult): Array<[string, string]> {
  const e = result.experiment;
  const lines: Array<[string, string]> = [];
  if (e.runId) lines.push(['Run', e.runId]);
  lines.push(['Data', `${e.dataSource}${e.dataPath ? ` (${e.dataPath})` : ''}, ${e.convention} convention`]);
  lines.push([
    'Split',
    `${result.split.train} train / ${result.split.validation} validation / ${result.split.test} test galaxies ` +
      '(identical for every variant)',
  ]);
  if (e.budget) lines.push(['Budget per model', e.budget]);
  lines.push(['Seed', String(e.seed)]);
  if (e.backend) lines.push(['Backend', e.backend]);
  if (e.gitCommit) lines.push(['Git commit', e.gitCommit]);
  lines.push(['Config hash', e.configHash.slice(0, 16)]);
  lines.push(['Created', e.createdAt]);
  return lines;
}

interface OverallRow {
  cells: string[];
  bestRmse: boolean;
  bestR2: boolean;
}

function overallRows(result: ComparisonResult): { headers: string[]; rows: OverallRow[] } {
  const vs = result.variants;
  const ref = vs[0];
  const rmseBest = bestIndex(
    vs.map((v) => v.overall.rmse),
    false,
  );
  const r2Best = bestIndex(
    vs.map((v) => v.overall.r2),
    true,
  );
  const headers = [
    'Variant',
    'Model',
    'Ensemble',
    'TTA',
    'RMSE',
    'R²',
    `ΔR² vs ${ref.label}`,
    'Mean answer R²',
    'Epochs',
    'Train time',
  ];
  const rows = vs.map((v, i) => ({
    cells: [
      v.label,
      v.modelKind,
      ensembleText(v),
      v.tta,
      fmt(v.overall.rmse),
      fmt(v.overall.r2),
      i === 0 ? '—' : fmtDelta(v.overall.r2 - ref.overall.r2),
      fmt(v.overall.meanAnswerR2),
      v.epochs !== undefined ? String(v.epochs) : '—',
      v.trainSeconds !== undefined ? formatDuration(v.trainSeconds) : '—',
    ],
    bestRmse: i === rmseBest,
    bestR2: i === r2Best,
  }));
  return { headers, rows };
}

function questionRows(result: ComparisonResult): { headers: string[]; rows: string[][]; best: boolean[][] } {
  const vs = result.variants;
  const headers = ['Question', ...vs.map((v) => `RMSE ${v.label}`), ...vs.map((v) => `R² ${v.label}`)];
  const rows: string[][] = [];
  const best: boolean[][] = [];
  for (const q of QUESTIONS) {
    const rmse = vs.map((v) => v.perQuestion.find((p) => p.question === q.number)?.rmse ?? NaN);
    const r2 = vs.map((v) => v.perQuestion.find((p) => p.question === q.number)?.r2 ?? NaN);
    const br = bestIndex(rmse, false);
    const b2 = bestIndex(r2, true);
    rows.push([`Q${q.number} ${q.text}`, ...rmse.map((x) => fmt(x)), ...r2.map((x) => fmt(x))]);
    best.push([
      false,
      ...rmse.map((_, i) => i === br && vs.length > 1),
      ...r2.map((_, i) => i === b2 && vs.length > 1),
    ]);
  }
  return { headers, rows, best };
}

interface MemberTable {
  readonly variant: VariantResult;
  readonly headers: string[];
  readonly rows: string[][];
  /** e.g. "ensemble RMSE 0.1000 vs best member 0.1050 alone: 4.8% lower". */
  readonly summary: string;
}

/** For each ensemble variant with member scores: every member alone, and the ensemble against the best. */
export function memberTables(result: ComparisonResult): MemberTable[] {
  return result.variants.flatMap((v) => {
    const members = v.members ?? [];
    if (members.length === 0) return [];
    const hasTta = members.some((m) => m.rmseTta !== undefined);
    const headers = ['Member', 'RMSE alone', 'R² alone', ...(hasTta ? [`RMSE alone + ${v.tta} TTA`] : [])];
    const rows = members.map((m) => [
      m.label ? `${m.member + 1}: ${m.label}` : String(m.member + 1),
      fmt(m.rmse),
      fmt(m.r2),
      ...(hasTta ? [fmt(m.rmseTta)] : []),
    ]);
    const best = Math.min(...members.map((m) => m.rmse));
    const gain = (best - v.overall.rmse) / best;
    const word = gain >= 0 ? 'lower' : 'higher';
    const spread =
      v.memberSpread !== undefined
        ? ` Members' predictions lie ${fmt(v.memberSpread)} (RMS) from their average: their plain average has ` +
          `MSE = mean member MSE − ${fmt(v.memberSpread)}², all that averaging them can remove.`
        : '';
    const summary =
      `${v.label}: ensemble RMSE ${fmt(v.overall.rmse)} vs best member alone ${fmt(best)}: ` +
      `${(Math.abs(gain) * 100).toFixed(1)}% ${word}.${spread}`;
    return [{ variant: v, headers, rows, summary }];
  });
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

function mdEscape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function mdTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  align?: readonly ('l' | 'r')[],
): string {
  const a = align ?? headers.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [
    `| ${headers.map(mdEscape).join(' | ')} |`,
    `|${a.map((x) => (x === 'r' ? '---:' : ':---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(
  result: ComparisonResult,
  files: { charts: Partial<Record<keyof ReportCharts, string>>; examples: Record<string, string> },
): string {
  const out: string[] = [];
  const e = result.experiment;
  out.push(`# ${e.name}: ${result.variants.map((v) => v.label).join(' vs ')}`, '');
  if (e.description) out.push(e.description, '');
  for (const [k, v] of summaryLines(result)) out.push(`- **${k}:** ${v}`);
  out.push('');

  out.push(`## Overall (test split, ${result.split.test} galaxies)`, '');
  const overall = overallRows(result);
  out.push(
    mdTable(
      overall.headers,
      overall.rows.map((r) =>
        r.cells.map((c, i) => ((i === 4 && r.bestRmse) || (i === 5 && r.bestR2) ? `**${c}**` : c)),
      ),
      overall.headers.map((_, i) => (i <= 3 ? 'l' : 'r')),
    ),
    '',
    'RMSE over all 37 outputs (the Kaggle competition metric); R² pooled over all 37 outputs. Best in bold.',
    '',
  );

  const ensembles = memberTables(result);
  if (ensembles.length) {
    out.push('## Ensemble members (test split, each member alone)', '');
    for (const t of ensembles) out.push(`### ${t.variant.label}`, '', mdTable(t.headers, t.rows), '', t.summary, '');
  }

  out.push('## Per question', '');
  const q = questionRows(result);
  out.push(
    mdTable(
      q.headers,
      q.rows.map((r, i) => r.map((c, j) => (q.best[i][j] ? `**${c}**` : c))),
    ),
    '',
  );

  out.push('## Charts', '');
  for (const key of Object.keys(CHART_FILES) as Array<keyof ReportCharts>) {
    const file = files.charts[key];
    if (file) out.push(`### ${CHART_TITLES[key]}`, '', `![${CHART_TITLES[key]}](${file})`, '');
  }

  if (result.examples.length) {
    out.push('## Example galaxies (test split)', '');
    for (const ex of result.examples) {
      out.push(`### Galaxy ${ex.id}`, '');
      if (files.examples[ex.id]) out.push(`<img src="${files.examples[ex.id]}" alt="galaxy ${ex.id}" width="160">`, '');
      const rows = topAnswers(ex, result.variants).map((i) => [
        answerLabel(i),
        fmt(ex.truth[i], 3),
        ...result.variants.map((v) => fmt(ex.predictions[v.name]?.[i], 3)),
      ]);
      out.push(mdTable(['Answer', 'True', ...result.variants.map((v) => v.label)], rows), '');
    }
  }

  out.push('## Per answer', '', '<details><summary>R² and RMSE for all 37 answers</summary>', '');
  out.push(
    mdTable(
      ['Answer', ...result.variants.map((v) => `R² ${v.label}`), ...result.variants.map((v) => `RMSE ${v.label}`)],
      ANSWERS.map((a) => [
        answerLabel(a.index),
        ...result.variants.map((v) => fmt(v.perAnswerR2[a.index], 3)),
        ...result.variants.map((v) => fmt(v.perAnswerRmse[a.index], 4)),
      ]),
    ),
    '',
    '</details>',
    '',
  );

  if (result.phases && Object.keys(result.phases).length) {
    out.push('## Phases', '');
    out.push(
      mdTable(
        ['Phase', 'Duration'],
        Object.entries(result.phases).map(([p, s]) => [p, formatDuration(s)]),
      ),
      '',
    );
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function htmlTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  strong?: ReadonlyArray<readonly boolean[]>,
  leftCols = 1,
): string {
  const th = headers.map((h, i) => `<th class="${i < leftCols ? 'l' : 'r'}">${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (r, ri) =>
        `<tr>${r
          .map((c, ci) => {
            const content = strong?.[ri]?.[ci] ? `<strong>${esc(c)}</strong>` : esc(c);
            return `<td class="${ci < leftCols ? 'l' : 'r'}">${content}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `
body{font-family:Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1180px;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e5e5e5}th{background:#f6f6f6}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}td.l,th.l{text-align:left}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0}
.chart{margin:1rem 0;overflow-x:auto}.note{color:#666;font-size:.85rem}
.examples{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1rem}
.example{border:1px solid #e5e5e5;border-radius:6px;padding:.6rem}
.example img{width:128px;height:128px;image-rendering:auto;float:left;margin-right:.6rem;border-radius:4px}
.example table{font-size:.78rem;clear:both}
`;

export function renderHtml(result: ComparisonResult, charts: ReportCharts): string {
  const e = result.experiment;
  const parts: string[] = [];
  const title = `${e.name}: ${result.variants.map((v) => v.label).join(' vs ')}`;
  parts.push(
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" ' +
      'content="width=device-width,initial-scale=1">',
  );
  parts.push(`<title>${esc(title)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>${esc(title)}</h1>`);
  if (e.description) parts.push(`<p>${esc(e.description)}</p>`);
  parts.push(
    `<dl class="meta">${summaryLines(result)
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
      .join('')}</dl>`,
  );

  parts.push(`<h2>Overall (test split, ${result.split.test} galaxies)</h2>`);
  const overall = overallRows(result);
  parts.push(
    htmlTable(
      overall.headers,
      overall.rows.map((r) => r.cells),
      overall.rows.map((r) => r.cells.map((_, i) => (i === 4 && r.bestRmse) || (i === 5 && r.bestR2))),
      4,
    ),
  );
  parts.push(
    '<p class="note">RMSE over all 37 outputs (the Kaggle competition metric); R² pooled over all 37 outputs. ' +
      'Best in bold.</p>',
  );

  const ensembles = memberTables(result);
  if (ensembles.length) {
    parts.push(`<h2>Ensemble members (test split, each member alone)</h2>`);
    for (const t of ensembles)
      parts.push(
        `<h3>${esc(t.variant.label)}</h3>`,
        htmlTable(t.headers, t.rows),
        `<p class="note">${esc(t.summary)}</p>`,
      );
  }

  parts.push(`<h2>Per question</h2>`);
  const q = questionRows(result);
  parts.push(htmlTable(q.headers, q.rows, q.best));

  parts.push(`<h2>Charts</h2>`);
  for (const key of Object.keys(CHART_FILES) as Array<keyof ReportCharts>) {
    const svg = charts[key];
    if (svg) parts.push(`<div class="chart" id="chart-${key}">${svg}</div>`);
  }

  if (result.examples.length) {
    parts.push(`<h2>Example galaxies (test split)</h2><div class="examples">`);
    for (const ex of result.examples) {
      const img = imageBytes(ex.image);
      const uri = `data:${img.mime};base64,${Buffer.from(img.data).toString('base64')}`;
      const rows = topAnswers(ex, result.variants).map((i) => [
        answerLabel(i),
        fmt(ex.truth[i], 3),
        ...result.variants.map((v) => fmt(ex.predictions[v.name]?.[i], 3)),
      ]);
      parts.push(
        `<div class="example"><img src="${uri}" alt="galaxy ${esc(ex.id)}"><strong>Galaxy ${esc(ex.id)}</strong>` +
          htmlTable(['Answer', 'True', ...result.variants.map((v) => v.label)], rows) +
          `</div>`,
      );
    }
    parts.push(`</div>`);
  }

  parts.push(`<h2>Per answer</h2><details><summary>R² and RMSE for all 37 answers</summary>`);
  parts.push(
    htmlTable(
      ['Answer', ...result.variants.map((v) => `R² ${v.label}`), ...result.variants.map((v) => `RMSE ${v.label}`)],
      ANSWERS.map((a) => [
        answerLabel(a.index),
        ...result.variants.map((v) => fmt(v.perAnswerR2[a.index], 3)),
        ...result.variants.map((v) => fmt(v.perAnswerRmse[a.index], 4)),
      ]),
    ),
  );
  parts.push(`</details>`);
  if (result.phases && Object.keys(result.phases).length) {
    parts.push(`<h2>Phases</h2>`);
    parts.push(
      htmlTable(
        ['Phase', 'Duration'],
        Object.entries(result.phases).map(([p, s]) => [p, formatDuration(s)]),
      ),
    );
  }
  parts.push(`</body></html>`);
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------
// JSON + writing
// ---------------------------------------------------------------------------------------------

function jsonSafe(result: ComparisonResult, exampleFiles: Record<string, string>): unknown {
  return {
    ...result,
    examples: result.examples.map((ex) => ({ ...ex, image: exampleFiles[ex.id] ?? null })),
  };
}

/** A plain-text table of overall RMSE / R² per variant (what `gzh compare` prints). */
export function renderTextSummary(result: ComparisonResult): string {
  const vs = result.variants;
  const ref = vs[0];
  const headers = ['variant', 'model', 'ens', 'tta', 'RMSE', 'R²', `ΔR²`];
  const rows = vs.map((v, i) => [
    v.label,
    v.modelKind,
    ensembleText(v),
    v.tta,
    fmt(v.overall.rmse),
    fmt(v.overall.r2),
    i === 0 ? '—' : fmtDelta(v.overall.r2 - ref.overall.r2),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const members = memberTables(result).map((t) => t.summary);
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...members].join('\n');
}

/** Write report.md, report.html, report.json, charts/*.svg and examples/* into `dir`. */
export async function writeReport(result: ComparisonResult, dir: string): Promise<ReportFiles> {
  if (result.variants.length === 0) throw new Error('a report needs at least one variant');
  mkdirSync(join(dir, 'charts'), { recursive: true });
  const charts = await renderCharts(result);
  const chartFiles: Partial<Record<keyof ReportCharts, string>> = {};
  const chartPaths: Record<string, string> = {};
  for (const key of Object.keys(CHART_FILES) as Array<keyof ReportCharts>) {
    const svg = charts[key];
    if (!svg) continue;
    const rel = `charts/${CHART_FILES[key]}`;
    writeFileSync(join(dir, rel), svg);
    chartFiles[key] = rel;
    chartPaths[key] = join(dir, rel);
  }
  const exampleFiles: Record<string, string> = {};
  if (result.examples.length) mkdirSync(join(dir, 'examples'), { recursive: true });
  for (const ex of result.examples) {
    const safeId = ex.id.replace(/[^A-Za-z0-9._-]/g, '_');
    if ('data' in ex.image) {
      const rel = `examples/${safeId}${ex.image.mime === 'image/png' ? '.png' : '.jpg'}`;
      writeFileSync(join(dir, rel), ex.image.data);
      exampleFiles[ex.id] = rel;
    } else {
      const rel = `examples/${safeId}${extname(ex.image.path) || '.jpg'}`;
      copyFileSync(ex.image.path, join(dir, rel));
      exampleFiles[ex.id] = rel;
    }
  }
  const markdown = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  const json = join(dir, 'report.json');
  writeFileSync(markdown, renderMarkdown(result, { charts: chartFiles, examples: exampleFiles }));
  writeFileSync(html, renderHtml(result, charts));
  writeFileSync(json, `${JSON.stringify(jsonSafe(result, exampleFiles), null, 2)}\n`);
  return { dir, markdown, html, json, charts: chartPaths };
}
