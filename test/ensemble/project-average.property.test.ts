import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../../src/errors.js';
import { ANSWER_COUNT, KAGGLE_COLUMNS, type Q6Reach, toCumulative, validateVector } from '../../src/questions/index.js';
import { projectRows, projectToTree } from '../../src/ensemble/project.js';
import { convexCombination, meanAndSpread, normaliseWeights } from '../../src/ensemble/average.js';
import { conditionalVector } from '../questions/arbitraries.js';

const q6Reach = fc.constantFrom<Q6Reach>('kaggle', 'tree');
const validCumulative = fc
  .tuple(conditionalVector, q6Reach)
  .map(([c, reach]) => ({ vector: toCumulative(c, { q6Reach: reach }), q6Reach: reach }));
/** Any finite output a flat head could emit, and worse: out of range, exact 0s and 1s. */
const anyVector = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
    { weight: 2, arbitrary: fc.double({ min: -5, max: 5, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1) },
  ),
  { minLength: ANSWER_COUNT, maxLength: ANSWER_COUNT },
);
const nonFinite = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);

describe('projectToTree', () => {
  it('always returns a valid cumulative vector', () => {
    fc.assert(
      fc.property(anyVector, q6Reach, (v, reach) => {
        const p = projectToTree(v, { q6Reach: reach });
        expect(validateVector(p, { convention: 'cumulative', tolerance: 1e-9, q6Reach: reach })).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a vector with any non-finite value (NonFiniteError naming the answer) instead of projecting it', () => {
    fc.assert(
      fc.property(anyVector, fc.nat(ANSWER_COUNT - 1), nonFinite, (v, at, bad) => {
        const vector = [...v];
        vector[at] = bad;
        expect(() => projectToTree(vector)).toThrow(NonFiniteError);
        expect(() => projectToTree(vector)).toThrow(KAGGLE_COLUMNS[at]);
        expect(() => projectRows(Float32Array.from([...v, ...vector]))).toThrow(/row 1/);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves valid vectors unchanged (within 1e-9)', () => {
    fc.assert(
      fc.property(validCumulative, ({ vector, q6Reach: reach }) => {
        const p = projectToTree(vector, { q6Reach: reach });
        for (let i = 0; i < ANSWER_COUNT; i++) expect(Math.abs(p[i] - vector[i])).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a conditional vector as per-question distributions and applies the tree', () => {
    fc.assert(
      fc.property(conditionalVector, q6Reach, (c, reach) => {
        const p = projectToTree(c, { from: 'conditional', q6Reach: reach });
        const want = toCumulative(c, { q6Reach: reach });
        for (let i = 0; i < ANSWER_COUNT; i++) expect(Math.abs(p[i] - want[i])).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the relative preference within each question of a flat output', () => {
    const flat = new Float64Array(ANSWER_COUNT).fill(0.5);
    flat[0] = 0.9; // smooth
    flat[1] = 0.3; // features
    flat[2] = 0.0; // star
    const p = projectToTree(flat);
    expect(p[0] / p[1]).toBeCloseTo(3, 12);
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 12);
    // Q2 is reached with P(features) = 0.25, and splits it evenly (0.5 / 0.5 in the flat output)
    expect(p[3]).toBeCloseTo(0.125, 12);
    expect(p[4]).toBeCloseTo(0.125, 12);
  });

  it('projects float32 row blocks in place', () => {
    const rows = new Float32Array(3 * ANSWER_COUNT).map((_, i) => (i % 7) / 7);
    projectRows(rows, { q6Reach: 'kaggle' });
    for (let r = 0; r < 3; r++) {
      const row = rows.subarray(r * ANSWER_COUNT, (r + 1) * ANSWER_COUNT);
      expect(validateVector(row, { convention: 'cumulative', tolerance: 1e-6, q6Reach: 'kaggle' })).toEqual([]);
    }
    expect(() => projectToTree([0.5])).toThrow(/37 values/);
  });
});

describe('convex combinations', () => {
  it('of valid cumulative vectors are valid, with any non-negative weights', () => {
    fc.assert(
      fc.property(
        q6Reach,
        fc.array(fc.tuple(conditionalVector, fc.double({ min: 0, max: 10, noNaN: true })), {
          minLength: 1,
          maxLength: 6,
        }),
        (reach, members) => {
          fc.pre(members.some(([, w]) => w > 0));
          const vectors = members.map(([c]) => toCumulative(c, { q6Reach: reach }));
          const mean = convexCombination(
            vectors,
            members.map(([, w]) => w),
          );
          expect(validateVector(mean, { convention: 'cumulative', tolerance: 1e-9, q6Reach: reach })).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('of projected flat outputs are valid', () => {
    fc.assert(
      fc.property(fc.array(anyVector, { minLength: 1, maxLength: 4 }), (vs) => {
        const mean = convexCombination(vs.map((v) => projectToTree(v)));
        expect(validateVector(mean, { convention: 'cumulative', tolerance: 1e-9, q6Reach: 'kaggle' })).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects bad weights', () => {
    expect(() => normaliseWeights([1, -1], 2)).toThrow(/≥ 0/);
    expect(() => normaliseWeights([0, 0], 2)).toThrow(/sum to 0/);
    expect(() => normaliseWeights([1, Number.NaN], 2)).toThrow(/finite/);
    expect(() => normaliseWeights([1], 2)).toThrow(/1 weights for 2 members/);
    expect(Array.from(normaliseWeights([1, 3], 2))).toEqual([0.25, 0.75]);
  });
});

describe('meanAndSpread', () => {
  it(
    'mean is the weighted convex combination; spread is 0 when all views agree and bounded by the range ' + 'otherwise',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(conditionalVector, fc.double({ min: 0.01, max: 5, noNaN: true })), {
            minLength: 1,
            maxLength: 5,
          }),
          (views) => {
            const vectors = views.map(([c]) => toCumulative(c, { q6Reach: 'kaggle' }));
            const weights = views.map(([, w]) => w);
            const values = new Float64Array(views.length * ANSWER_COUNT);
            vectors.forEach((v, i) => values.set(v, i * ANSWER_COUNT));
            const [{ mean, std }] = meanAndSpread(values, 1, weights);
            const want = convexCombination(vectors, weights);
            for (let a = 0; a < ANSWER_COUNT; a++) {
              expect(mean[a]).toBeCloseTo(want[a], 12);
              const lo = Math.min(...vectors.map((v) => v[a]));
              const hi = Math.max(...vectors.map((v) => v[a]));
              expect(std[a]).toBeGreaterThanOrEqual(0);
              expect(std[a]).toBeLessThanOrEqual((hi - lo) / 2 + 1e-12);
            }
            const same = new Float64Array(views.length * ANSWER_COUNT);
            vectors.forEach((_, i) => same.set(vectors[0], i * ANSWER_COUNT));
            const [agree] = meanAndSpread(same, 1, weights);
            for (let a = 0; a < ANSWER_COUNT; a++) expect(agree.std[a]).toBeLessThanOrEqual(1e-12);
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it('keeps items apart ([view][item][37] layout)', () => {
    const values = new Float32Array(2 * 2 * ANSWER_COUNT);
    values.fill(0.2, 0, ANSWER_COUNT); // view 0 item 0
    values.fill(0.4, ANSWER_COUNT, 2 * ANSWER_COUNT); // view 0 item 1
    values.fill(0.6, 2 * ANSWER_COUNT, 3 * ANSWER_COUNT); // view 1 item 0
    values.fill(0.4, 3 * ANSWER_COUNT, 4 * ANSWER_COUNT); // view 1 item 1
    const [a, b] = meanAndSpread(values, 2, [1, 1]);
    expect(a.mean[5]).toBeCloseTo(0.4, 6);
    expect(a.std[5]).toBeCloseTo(0.2, 6);
    expect(b.mean[5]).toBeCloseTo(0.4, 6);
    expect(b.std[5]).toBeCloseTo(0, 6);
  });
});

describe('non-finite predictions', () => {
  it('meanAndSpread and convexCombination refuse a non-finite value instead of averaging it into the answer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        nonFinite,
        (views, items, at, bad) => {
          const values = new Float32Array(views * items * ANSWER_COUNT).fill(0.5);
          const index = at % values.length;
          values[index] = bad;
          expect(() => meanAndSpread(values, items, new Array(views).fill(1))).toThrow(NonFiniteError);
          const vector = new Float64Array(ANSWER_COUNT).fill(0.2);
          vector[at % ANSWER_COUNT] = bad;
          expect(() => convexCombination([vector])).toThrow(KAGGLE_COLUMNS[at % ANSWER_COUNT]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
