import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { learningCurveSpec } from '../../src/experiments/report/charts.js';
import { renderTextSummary, topAnswers, writeReport } from '../../src/experiments/report/index.js';
import type { ComparisonResult } from '../../src/experiments/report/types.js';
import { fixtureComparison } from './fixtures.js';

describe('comparison report', () => {
  it('writes markdown, self-contained HTML with SVG charts, and JSON', async () => {
    const result = await fixtureComparison();
    const dir = mkdtempSync(join(tmpdir(), 'gzh-report-'));
    const files = await writeReport(result, dir);

    const md = readFileSync(files.markdown, 'utf8');
    expect(md).toContain('# fixture: Flat (seed CNN) vs Hierarchical vs Hierarchical ×3 ensemble');
    expect(md).toMatch(/\| Flat \(seed CNN\) \| flat \| 1 \| none \| 0\.1288 \| 0\.7123 \| — \|/);
    expect(md).toMatch(
      /\| Hierarchical ×3 ensemble \| hierarchical \| ×3 \| d4 \| \*\*0\.1215\*\* \| \*\*0\.7846\*\* \| \+0\.0722 \|/,
    );
    expect(md).toContain('| Q1 Is the galaxy simply smooth and rounded, with no sign of a disk?');
    expect(md).toContain('![R² per question](charts/r2-per-question.svg)');
    expect(md).toContain('<img src="examples/1001.png"');
    // Ensemble members alone: 0.130 / 0.125 / 0.128; the ensemble (0.1215) is 2.8% below the best.
    expect(md).toContain('## Ensemble members (test split, each member alone)');
    expect(md).toMatch(/\| 2 \| 0\.1250 \| 0\.7000 \| 0\.1250 \|/);
    expect(md).toMatch(/\| 3: preprocess\.centerCrop 160 \| 0\.1280 \| 0\.7000 \| 0\.1260 \|/);
    expect(md).toContain(
      "Hierarchical ×3 ensemble: ensemble RMSE 0.1215 vs best member alone 0.1250: 2.8% lower. Members' " +
        'predictions lie 0.0217 (RMS) from their average: their plain average has MSE = mean member MSE − ' +
        '0.0217², all that averaging them can remove.',
    );
    for (const chart of Object.values(files.charts)) {
      expect(readFileSync(chart, 'utf8')).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
    expect(Object.keys(files.charts).sort()).toEqual(['answerR2', 'curves', 'questionR2', 'scatter']);
    expect(existsSync(join(dir, 'examples', '1001.png'))).toBe(true);

    const html = readFileSync(files.html, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('data:image/png;base64,');
    expect(html).toContain('&lt;for tests&gt; &amp; checks');
    // Self-contained: nothing is fetched (namespace URIs are identifiers, not requests).
    const withoutNamespaces = html.replace(/xmlns(:\w+)?="[^"]*"/g, '');
    expect(withoutNamespaces).not.toMatch(/(src|href)\s*=\s*"(https?:)?\/\//i);
    expect(withoutNamespaces).not.toMatch(/url\(\s*['"]?(https?:)?\/\//i);
    expect(withoutNamespaces).not.toMatch(/<script[^>]+src=/i);
    expect(withoutNamespaces).not.toMatch(/<link[^>]+href=/i);
    expect(html).toContain('0.7846');

    const json = JSON.parse(readFileSync(files.json, 'utf8')) as {
      variants: Array<{ overall: { r2: number }; perAnswerR2: Array<number | null> }>;
      examples: Array<{ image: string }>;
    };
    expect(json.variants.map((v) => v.overall.r2)).toEqual([0.71234, 0.75321, 0.78456]);
    expect(json.variants[0].perAnswerR2[36]).toBeNull();
    expect(json.examples[0].image).toBe('examples/1001.png');
  });

  it('draws a learning curve per recipe when variants train on different amounts of galaxies', async () => {
    const base = await fixtureComparison();
    const [flat, hier] = base.variants;
    const at = (
      v: (typeof base.variants)[number],
      label: string,
      recipe: string,
      trainGalaxies: number,
      rmse: number,
    ) => ({ ...v, name: label, label, recipe, trainGalaxies, overall: { ...v.overall, rmse } });
    const result: ComparisonResult = {
      ...base,
      variants: [
        at(flat, 'Plain, 25% of the training split', 'plain', 25, 0.15),
        at(hier, 'Equivariant, 25% of the training split', 'equi', 25, 0.13),
        at(flat, 'Plain, 100% of the training split', 'plain', 100, 0.1),
        at(hier, 'Equivariant, 100% of the training split', 'equi', 100, 0.095),
      ],
    };
    const spec = learningCurveSpec(result) as unknown as {
      data: { values: Array<{ series: string; galaxies: number; rmse: number }> };
    };
    expect(spec.data.values).toEqual([
      { series: 'Plain', variant: 'Plain, 25% of the training split', galaxies: 25, rmse: 0.15 },
      { series: 'Plain', variant: 'Plain, 100% of the training split', galaxies: 100, rmse: 0.1 },
      { series: 'Equivariant', variant: 'Equivariant, 25% of the training split', galaxies: 25, rmse: 0.13 },
      { series: 'Equivariant', variant: 'Equivariant, 100% of the training split', galaxies: 100, rmse: 0.095 },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'gzh-report-lc-'));
    const files = await writeReport(result, dir);
    expect(readFileSync(files.charts.learningCurve, 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(files.markdown, 'utf8')).toContain('![Learning curve](charts/learning-curve.svg)');
    // One amount of training galaxies (the fixture's variants, or all at 100%): no curve.
    expect(learningCurveSpec(base)).toBeNull();
    expect(
      learningCurveSpec({ ...result, variants: result.variants.map((v) => ({ ...v, trainGalaxies: 100 })) }),
    ).toBeNull();
  });

  it('prints a text summary with deltas against the first variant', async () => {
    const text = renderTextSummary(await fixtureComparison());
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^variant\s+model\s+ens\s+tta\s+RMSE\s+R²\s+ΔR²$/);
    expect(lines[2]).toMatch(/^Flat \(seed CNN\)\s+flat\s+1\s+none\s+0\.1288\s+0\.7123\s+—$/);
    expect(lines[3]).toMatch(/0\.7532\s+\+0\.0409$/);
    expect(lines.at(-1)).toMatch(
      /^Hierarchical ×3 ensemble: ensemble RMSE 0\.1215 vs best member alone 0\.1250: 2\.8% lower\. Members' predictions lie 0\.0217/,
    );
  });

  it('picks the top answers of an example by truth, plus each variant’s favourite', async () => {
    const result = await fixtureComparison();
    const top = topAnswers(result.examples[0], result.variants, 3);
    expect(top[0]).toBe(0);
    expect(top[1]).toBe(1);
    expect(top.length).toBeGreaterThanOrEqual(3);
  });
});
