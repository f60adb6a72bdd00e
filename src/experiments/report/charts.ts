/**
 * Report charts: vega-lite specs compiled to vega and rendered to standalone SVG strings in Node
 * (no browser, no canvas). vega and vega-lite (about 300 modules) are imported when the first
 * chart is drawn, not when the CLI starts: a command that writes no report (a `gzh predict` shard
 * task, a train unit) does not pay for loading them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ANSWERS, KAGGLE_COLUMNS, QUESTIONS } from '../../questions/index.js';
import type { ComparisonResult } from './types.js';

/** Colour per variant, stable across charts (Tableau 10). */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const BASE_CONFIG = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, anchor: 'start' as const },
};

function variantColor(result: ComparisonResult) {
  const domain = result.variants.map((v) => v.label);
  return { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]) };
}

/** Render a vega-lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ View, parse }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = compile({ ...spec, config: { ...BASE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface ReportCharts {
  /** Training curves (train loss, validation loss, validation RMSE per epoch), or null without history. */
  readonly curves: string | null;
  /** Per-question R², grouped bars per variant. */
  readonly questionR2: string;
  /** Per-answer R², grouped bars per variant. */
  readonly answerR2: string;
  /** Predicted vs true for the chosen answers, one row per variant, or null without samples. */
  readonly scatter: string | null;
  /** Test RMSE against training galaxies per recipe, or null unless the variants train on different amounts. */
  readonly learningCurve: string | null;
}

export function curvesSpec(result: ComparisonResult): TopLevelSpec | null {
  const rows: Array<{ variant: string; member: string; epoch: number; metric: string; value: number }> = [];
  for (const v of result.variants) {
    for (const h of v.history) {
      const member = `${v.label}#${h.member ?? 0}`;
      const push = (metric: string, value: number | undefined) => {
        if (value !== undefined && Number.isFinite(value))
          rows.push({ variant: v.label, member, epoch: h.epoch, metric, value });
      };
      push('train loss', h.loss);
      push('validation loss', h.valLoss);
      push('validation RMSE', h.valRmse);
    }
  }
  if (rows.length === 0) return null;
  const metrics = ['train loss', 'validation loss', 'validation RMSE'].filter((m) => rows.some((r) => r.metric === m));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Training curves (every ensemble member)',
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', sort: metrics, title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 240,
      height: 180,
      mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.6 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'variant', type: 'nominal', title: 'variant', scale: variantColor(result) },
        detail: { field: 'member', type: 'nominal' },
      },
    },
  } as TopLevelSpec;
}

export function questionR2Spec(result: ComparisonResult): TopLevelSpec {
  const rows = result.variants.flatMap((v) =>
    v.perQuestion.map((q) => ({
      variant: v.label,
      question: `Q${q.question}`,
      text: QUESTIONS[q.question - 1]?.text ?? '',
      r2: Number.isFinite(q.r2) ? q.r2 : null,
    })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'R² per question (test split)',
    width: 640,
    height: 260,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'question',
        type: 'nominal',
        sort: QUESTIONS.map((q) => `Q${q.number}`),
        title: 'question',
        axis: { labelAngle: 0 },
      },
      xOffset: { field: 'variant', type: 'nominal', sort: result.variants.map((v) => v.label) },
      y: { field: 'r2', type: 'quantitative', title: 'R²' },
      color: {
        field: 'variant',
        type: 'nominal',
        title: 'variant',
        scale: variantColor(result),
        legend: { orient: 'bottom', direction: 'horizontal' },
      },
      tooltip: [{ field: 'variant' }, { field: 'question' }, { field: 'text' }, { field: 'r2', format: '.3f' }],
    },
  } as TopLevelSpec;
}

export function answerR2Spec(result: ComparisonResult): TopLevelSpec {
  const rows = result.variants.flatMap((v) =>
    v.perAnswerR2.map((r2, i) => ({
      variant: v.label,
      answer: KAGGLE_COLUMNS[i].replace('Class', ''),
      text: ANSWERS[i].text,
      r2: Number.isFinite(r2) ? Math.max(r2, -0.5) : null,
    })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'R² per answer (test split; clipped at −0.5)',
    width: 900,
    height: 220,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'answer',
        type: 'nominal',
        sort: KAGGLE_COLUMNS.map((c) => c.replace('Class', '')),
        title: 'answer (ClassN.M)',
      },
      xOffset: { field: 'variant', type: 'nominal', sort: result.variants.map((v) => v.label) },
      y: { field: 'r2', type: 'quantitative', title: 'R²' },
      color: {
        field: 'variant',
        type: 'nominal',
        title: 'variant',
        scale: variantColor(result),
        legend: { orient: 'bottom', direction: 'horizontal' },
      },
    },
  } as TopLevelSpec;
}

export function scatterSpec(result: ComparisonResult): TopLevelSpec | null {
  const rows: Array<{ variant: string; answer: string; truth: number; predicted: number }> = [];
  const answerOrder: string[] = [];
  for (const v of result.variants) {
    for (const s of v.scatter) {
      const idx = KAGGLE_COLUMNS.indexOf(s.answer);
      const title =
        idx >= 0
          ? `${s.answer} ${QUESTIONS[ANSWERS[idx].question - 1].name.replace(/_/g, ' ')}: ${ANSWERS[idx].text}`
          : s.answer;
      if (!answerOrder.includes(title)) answerOrder.push(title);
      const n = Math.min(s.truth.length, s.predicted.length);
      for (let i = 0; i < n; i++)
        rows.push({ variant: v.label, answer: title, truth: s.truth[i], predicted: s.predicted[i] });
    }
  }
  if (rows.length === 0) return null;
  const lo = Math.min(0, ...rows.map((r) => Math.min(r.truth, r.predicted)));
  const hi = Math.max(1, ...rows.map((r) => Math.max(r.truth, r.predicted)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Predicted vs true (test split sample; diagonal = perfect)',
    data: { values: rows },
    facet: {
      row: { field: 'variant', type: 'nominal', sort: result.variants.map((v) => v.label), title: null },
      column: { field: 'answer', type: 'nominal', sort: answerOrder, title: null },
    },
    spec: {
      width: 150,
      height: 150,
      layer: [
        {
          mark: { type: 'rule', color: '#999', strokeDash: [4, 3] },
          encoding: {
            x: { datum: lo, type: 'quantitative' },
            y: { datum: lo, type: 'quantitative' },
            x2: { datum: hi },
            y2: { datum: hi },
          },
        },
        {
          mark: { type: 'circle', size: 10, opacity: 0.45 },
          encoding: {
            x: { field: 'truth', type: 'quantitative', title: 'true', scale: { domain: [lo, hi] } },
            y: { field: 'predicted', type: 'quantitative', title: 'predicted', scale: { domain: [lo, hi] } },
            color: { field: 'variant', type: 'nominal', scale: variantColor(result), legend: null },
          },
        },
      ],
    },
  } as TopLevelSpec;
}

/** The longest common start of some labels, without trailing separators ("Plain, 25%" + "Plain, 50%" → "Plain"). */
function commonLabel(labels: readonly string[]): string {
  let prefix = labels[0] ?? '';
  for (const l of labels) while (!l.startsWith(prefix)) prefix = prefix.slice(0, -1);
  prefix = prefix.replace(/[\s,;:(–—-]+$/u, '');
  return labels.length > 1 && prefix.length > 0 ? prefix : labels.join(' / ');
}

/**
 * A learning curve: test RMSE against the number of training galaxies, one line per training
 * recipe (variants that differ only in `data.trainFraction`). Null unless the variants trained
 * on at least two different amounts.
 */
export function learningCurveSpec(result: ComparisonResult): TopLevelSpec | null {
  const points = result.variants.filter((v) => v.trainGalaxies !== undefined);
  if (new Set(points.map((v) => v.trainGalaxies)).size < 2) return null;
  const groups = new Map<string, typeof points>();
  for (const v of points) groups.set(v.recipe ?? v.name, [...(groups.get(v.recipe ?? v.name) ?? []), v]);
  const rows = [...groups.values()].flatMap((vs) => {
    const series = commonLabel(vs.map((v) => v.label));
    return vs.map((v) => ({ series, variant: v.label, galaxies: v.trainGalaxies!, rmse: v.overall.rmse }));
  });
  const series = [...new Set(rows.map((r) => r.series))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Learning curve: test RMSE against training galaxies',
    width: 420,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', point: { size: 50 }, strokeWidth: 1.8 },
    encoding: {
      x: { field: 'galaxies', type: 'quantitative', title: 'training galaxies (log scale)', scale: { type: 'log' } },
      y: { field: 'rmse', type: 'quantitative', title: 'test RMSE', scale: { zero: false } },
      color: {
        field: 'series',
        type: 'nominal',
        title: 'recipe',
        scale: { domain: series, range: series.map((_, i) => PALETTE[i % PALETTE.length]) },
      },
      tooltip: [{ field: 'variant' }, { field: 'galaxies' }, { field: 'rmse', format: '.4f' }],
    },
  } as TopLevelSpec;
}

export async function renderCharts(result: ComparisonResult): Promise<ReportCharts> {
  const curves = curvesSpec(result);
  const scatter = scatterSpec(result);
  const learning = learningCurveSpec(result);
  const [c, q, a, s, l] = await Promise.all([
    curves ? renderSvg(curves) : Promise.resolve(null),
    renderSvg(questionR2Spec(result)),
    renderSvg(answerR2Spec(result)),
    scatter ? renderSvg(scatter) : Promise.resolve(null),
    learning ? renderSvg(learning) : Promise.resolve(null),
  ]);
  return { curves: c, questionR2: q, answerR2: a, scatter: s, learningCurve: l };
}
