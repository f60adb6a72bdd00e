import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalogue } from '../../src/data/catalogue.js';
import { ingest } from '../../src/data/ingest.js';
import { stratifiedSplit } from '../../src/data/split.js';
import { validateVector } from '../../src/questions/index.js';
import { DATA, realDataAvailable } from '../helpers/data.js';
import type { SplitName } from '../../src/data/batch.js';

const kaggle = realDataAvailable(DATA.kaggleSolutions);
const gz2 = realDataAvailable(DATA.gz2SampleLabels);
const stripe82 = realDataAvailable(DATA.stripe82Table);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'gzh-real-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Largest |share of class c in split s − share of c overall|, in percentage points. */
function maxClassShareGap(catalogue: Catalogue): number {
  const counts = catalogue.classCounts();
  const splitTotals: Record<string, number> = {};
  const classTotals: Record<string, number> = {};
  let total = 0;
  for (const { split, stratClass, n } of counts) {
    splitTotals[split] = (splitTotals[split] ?? 0) + n;
    classTotals[stratClass] = (classTotals[stratClass] ?? 0) + n;
    total += n;
  }
  let gap = 0;
  for (const c of Object.keys(classTotals)) {
    for (const s of ['train', 'validation', 'test'] as SplitName[]) {
      const n = counts.find((x) => x.split === s && x.stratClass === c)?.n ?? 0;
      gap = Math.max(gap, Math.abs(n / splitTotals[s] - classTotals[c] / total) * 100);
    }
  }
  return gap;
}

describe.skipIf(!kaggle.available)(`Kaggle sample ingest ${kaggle.reason}`, () => {
  it('ingests all 5,408 rows with 0 rejected, a stratified split and conditional targets', async () => {
    const path = join(work, 'kaggle.sqlite');
    const report = await ingest(path, { format: 'kaggle', labels: DATA.kaggleSolutions, images: DATA.kaggleImages });
    expect(report.rows).toBe(5408);
    expect(report.accepted).toBe(5408);
    expect(report.rejected).toBe(0);
    expect(report.splits.train + report.splits.validation + report.splits.test).toBe(5408);
    expect(Math.abs(report.splits.validation - 541)).toBeLessThanOrEqual(2);
    const catalogue = new Catalogue(path);
    expect(catalogue.meta().conditional_unreached).toBe('zero');
    expect(catalogue.meta().cumulative_q6_reach).toBe('kaggle');
    expect(maxClassShareGap(catalogue)).toBeLessThan(1);
    const g = catalogue.galaxies().find((x) => x.id === '100008')!;
    expect(g.cumulative[0]).toBeCloseTo(0.383147, 6);
    // Q1 conditional = cumulative; Q2 conditional = Class2.x / Class1.2
    expect(g.conditional[1]).toBeCloseTo(0.616853, 6);
    expect(g.conditional[4]).toBeCloseTo(1, 6);
    for (const row of catalogue.galaxies().slice(0, 500)) {
      expect(validateVector(row.conditional, { convention: 'conditional', tolerance: 1e-4 })).toEqual([]);
    }
    catalogue.close();
  });

  it('gives the same split for the same seed, whatever the row order, and another for another seed', async () => {
    const catalogue = new Catalogue(join(work, 'kaggle.sqlite'));
    const rows = catalogue.galaxies().map((g) => ({ id: g.id, stratClass: g.stratClass }));
    const stored = new Map(catalogue.galaxies().map((g) => [g.id, g.split]));
    catalogue.close();
    const again = stratifiedSplit([...rows].reverse(), 42);
    expect(rows.every((r) => again.get(r.id) === stored.get(r.id))).toBe(true);
    const other = stratifiedSplit(rows, 43);
    expect(rows.filter((r) => other.get(r.id) !== stored.get(r.id)).length).toBeGreaterThan(500);
    // pinned: the first galaxies' splits for seed 42 must not change between versions or machines
    const first = (split: SplitName) =>
      rows
        .filter((r) => stored.get(r.id) === split)
        .slice(0, 5)
        .map((r) => r.id);
    expect({ validation: first('validation'), test: first('test') }).toMatchSnapshot();
  });
});

describe.skipIf(!gz2.available)(`GZ2 sample ingest ${gz2.reason}`, () => {
  it('ingests all 767 rows (weighted fractions) with 0 rejected, classes from gz2_class', async () => {
    const path = join(work, 'gz2.sqlite');
    const report = await ingest(path, { format: 'gz2', labels: DATA.gz2SampleLabels, images: DATA.gz2SampleImages });
    expect(report.rows).toBe(767);
    expect(report.accepted).toBe(767);
    expect(report.rejected).toBe(0);
    const catalogue = new Catalogue(path);
    expect(catalogue.meta().strat_class_source).toBe('gz2_class');
    expect(catalogue.meta().value_kind).toBe('weighted_fraction');
    const classes = new Set(catalogue.galaxies().map((g) => g.stratClass));
    expect(classes.has('SuperRare')).toBe(true);
    expect(maxClassShareGap(catalogue)).toBeLessThan(1.5);
    catalogue.close();
  });

  it('debiased values: the one row with empty values is reported, the rest renormalised', async () => {
    const report = await ingest(join(work, 'gz2d.sqlite'), {
      format: 'gz2',
      labels: DATA.gz2SampleLabels,
      images: DATA.gz2SampleImages,
      values: 'debiased',
    });
    // its image then has no accepted row … but it has a row, so it is not an orphan
    expect(report.rejectedByReason).toEqual({ 'invalid-value': 1 });
    expect(report.rejectedByReason['invalid-value']).toBe(1);
    expect(report.firstRejections[0].detail).toMatch(/_debiased=""/);
  });
});

describe.skipIf(!stripe82.available)(`Stripe 82 vote table ${stripe82.reason}`, () => {
  it('ingests 19,761 label-only rows with their 37 vote counts', async () => {
    const path = join(work, 's82.sqlite');
    const report = await ingest(path, {
      format: 'gz2',
      labels: DATA.stripe82Table,
      labelsOnly: true,
      values: 'fraction',
    });
    expect(report.accepted).toBe(19761);
    expect(report.rejected).toBe(0);
    expect(report.hasCounts).toBe(true);
    const catalogue = new Catalogue(path);
    const rows = catalogue.galaxies();
    const first = rows.find((r) => r.id === '8647474690312307154')!;
    expect(first.imagePath).toBeNull();
    expect(Array.from(first.counts!.slice(0, 3))).toEqual([10, 5, 1]);
    expect(first.conditional[0]).toBeCloseTo(0.625, 6);
    // counts are whole, non-negative votes; Q1 was answered in every classification (16 for this galaxy)
    for (const r of rows) for (const v of r.counts!) expect(Number.isInteger(v) && v >= 0).toBe(true);
    expect(first.counts![0] + first.counts![1] + first.counts![2]).toBe(16);
    expect(catalogue.meta().has_counts).toBe('true');
    catalogue.close();
  });
});
