import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BatchSource } from '../../src/data/batch.js';
import { trainFractionRows, trainSubset } from '../../src/data/subset.js';
import { ANSWER_COUNT } from '../../src/questions/index.js';
import { MemoryBatchSource } from '../../src/train/memory-source.js';

/** n ≤ 1000 galaxies of 2×2 gray pixels whose first pixel and first target encode the row. */
function source(n: number): MemoryBatchSource {
  const images = new Uint8Array(n * 4).map((_, i) => Math.floor(i / 4) % 256);
  const cumulative = new Float32Array(n * ANSWER_COUNT).map((_, i) =>
    i % ANSWER_COUNT === 0 ? Math.floor(i / ANSWER_COUNT) / 1000 : 0,
  );
  return new MemoryBatchSource({
    images,
    shape: [2, 2, 1],
    cumulative,
    ids: Array.from({ length: n }, (_, i) => `g${i}`),
  });
}

async function epochIds(
  s: BatchSource,
  batchSize: number,
  seed: number,
  epoch: number,
  shuffle = true,
  skipBatches = 0,
): Promise<string[]> {
  const ids: string[] = [];
  for await (const b of s.batches({ batchSize, shuffle, seed, epoch, skipBatches })) {
    expect(b.size).toBe(b.ids.length);
    expect(b.images.length).toBe(b.size * 4);
    // pixels and targets travel with their galaxy
    b.ids.forEach((id, j) => {
      const row = Number(id.slice(1));
      expect(b.images[j * 4]).toBe(row % 256);
      expect(b.cumulative[j * ANSWER_COUNT]).toBeCloseTo(row / 1000, 6);
    });
    ids.push(...b.ids);
  }
  return ids;
}

const fraction = fc.double({ min: 0.001, max: 1, noNaN: true });

describe('trainFractionRows', () => {
  it('keeps round(f·n) rows (at least one), distinct, in split order, the same for the same seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fraction,
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (n, f, seed) => {
          const rows = trainFractionRows(n, f, seed);
          expect(rows).toHaveLength(Math.min(n, Math.max(1, Math.round(f * n))));
          for (let i = 1; i < rows.length; i++) expect(rows[i]).toBeGreaterThan(rows[i - 1]);
          expect(rows[0]).toBeGreaterThanOrEqual(0);
          expect(rows[rows.length - 1]).toBeLessThan(n);
          expect(trainFractionRows(n, f, seed)).toEqual(rows);
        },
      ),
    );
  });

  it('nests: the rows of a smaller fraction are among those of a larger one (same seed)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fraction,
        fraction,
        fc.integer({ min: 0, max: 1000 }),
        (n, a, b, seed) => {
          const [small, large] = a <= b ? [a, b] : [b, a];
          const kept = new Set(trainFractionRows(n, large, seed));
          for (const r of trainFractionRows(n, small, seed)) expect(kept.has(r)).toBe(true);
        },
      ),
    );
  });

  it('keeps every row at 1, and another seed draws other rows', () => {
    expect(trainFractionRows(50, 1, 3)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(trainFractionRows(0, 0.5, 3)).toEqual([]);
    expect(trainFractionRows(1000, 0.25, 1)).not.toEqual(trainFractionRows(1000, 0.25, 2));
  });

  it('refuses fractions outside (0, 1]', () => {
    for (const f of [0, -0.1, 1.01, Number.NaN])
      expect(() => trainFractionRows(10, f, 1)).toThrow(/trainFraction must be in \(0, 1\]/);
  });
});

describe('trainSubset', () => {
  it('streams exactly the kept galaxies once per epoch, shuffled by (seed, epoch), resumable mid-epoch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fraction,
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 0, max: 99 }),
        async (n, f, batchSize, seed) => {
          const all = source(n);
          const sub = trainSubset(all, f, seed);
          const kept = trainFractionRows(n, f, seed).map((r) => `g${r}`);
          expect(sub.length).toBe(kept.length);
          expect(sub.ids).toEqual(kept);
          expect(sub.split).toBe(all.split);
          const e0 = await epochIds(sub, batchSize, seed, 0);
          expect([...e0].sort()).toEqual([...kept].sort());
          expect(await epochIds(sub, batchSize, seed, 0, false)).toEqual(kept);
          expect(await epochIds(sub, batchSize, seed, 0)).toEqual(e0);
          const skip = Math.floor(kept.length / batchSize / 2);
          expect(await epochIds(sub, batchSize, seed, 0, true, skip)).toEqual(e0.slice(skip * batchSize));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is the source itself at fraction 1, and a subset of a subset keeps to its rows', async () => {
    const all = source(40);
    expect(trainSubset(all, 1, 5)).toBe(all);
    const half = trainSubset(all, 0.5, 5);
    const quarterOfHalf = trainSubset(half, 0.5, 9);
    expect(quarterOfHalf.length).toBe(10);
    for (const id of await epochIds(quarterOfHalf, 3, 1, 2)) expect(half.ids).toContain(id);
  });

  it('shuffles differently from epoch to epoch', async () => {
    const sub = trainSubset(source(300), 0.5, 4);
    expect(await epochIds(sub, 32, 4, 1)).not.toEqual(await epochIds(sub, 32, 4, 2));
  });
});
