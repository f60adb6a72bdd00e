/**
 * Combining predictions: weighted convex combinations in cumulative space and the per-answer
 * spread across members × test-time views.
 *
 * Why cumulative space: every constraint of a valid cumulative vector is linear (values in
 * [0, 1]; Q1 sums to 1; each question sums to its parent answers; Q6 to 1 or to Q5+Q7+Q9), so a
 * convex combination of valid vectors is valid. Averaging conditional distributions instead would
 * weight a question's answers equally from a member that thinks it is never reached.
 */
import { NonFiniteError } from '../errors.js';
import { ANSWER_COUNT, KAGGLE_COLUMNS } from '../questions/index.js';

/** Throws a NonFiniteError naming the first non-finite value of a [view][item][37] block. */
export function assertFinite(values: ArrayLike<number>, items = values.length / ANSWER_COUNT): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const answer = i % ANSWER_COUNT;
      const row = (i - answer) / ANSWER_COUNT;
      const where = items > 0 ? `view ${Math.floor(row / items)}, item ${row % items}` : `row ${row}`;
      throw new NonFiniteError(
        `${where}: ${KAGGLE_COLUMNS[answer]} is ${values[i]}; a prediction must be finite (corrupt model or input?)`,
      );
    }
  }
}

/** Non-negative finite weights with a positive sum, normalised to sum to 1. */
export function normaliseWeights(weights: readonly number[] | undefined, count: number): Float64Array {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`need at least one member, got ${count}`);
  if (weights === undefined) return new Float64Array(count).fill(1 / count);
  if (weights.length !== count) throw new RangeError(`${weights.length} weights for ${count} members`);
  let sum = 0;
  weights.forEach((w, i) => {
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`weight ${i} is ${w}: weights must be finite and ≥ 0`);
    sum += w;
  });
  if (!(sum > 0)) throw new RangeError('weights sum to 0: at least one must be positive');
  return Float64Array.from(weights, (w) => w / sum);
}

/** Σ wᵢ·vᵢ over 37-vectors, with weights normalised (default equal). */
export function convexCombination(
  vectors: ReadonlyArray<ArrayLike<number>>,
  weights?: readonly number[],
): Float64Array {
  const w = normaliseWeights(weights, vectors.length);
  const out = new Float64Array(ANSWER_COUNT);
  vectors.forEach((v, i) => {
    if (v.length !== ANSWER_COUNT) throw new RangeError(`vector ${i} has ${v.length} values, expected ${ANSWER_COUNT}`);
    assertFinite(v);
    for (let a = 0; a < ANSWER_COUNT; a++) out[a] += w[i] * v[a];
  });
  return out;
}

/** The weighted mean of several predictions and their spread about it. */
export interface MeanAndSpread {
  /** Weighted mean per answer. */
  readonly mean: Float64Array;
  /** Weighted population standard deviation per answer (0 for a single view). */
  readonly std: Float64Array;
}

/**
 * Weighted mean and standard deviation of `views` 37-vectors per item. `values` is laid out as
 * [view][item][37]; `viewWeights` (normalised here) says how much each view counts — an ensemble
 * gives member m's weight wₘ split equally over its T TTA views (wₘ / T each).
 */
export function meanAndSpread(
  values: Float32Array | Float64Array,
  items: number,
  viewWeights: readonly number[],
): MeanAndSpread[] {
  const views = viewWeights.length;
  if (values.length !== views * items * ANSWER_COUNT) {
    throw new RangeError(`expected ${views} views × ${items} items × ${ANSWER_COUNT} values, got ${values.length}`);
  }
  const w = normaliseWeights(viewWeights, views);
  assertFinite(values, items);
  const out: MeanAndSpread[] = [];
  for (let n = 0; n < items; n++) {
    const mean = new Float64Array(ANSWER_COUNT);
    for (let v = 0; v < views; v++) {
      const base = (v * items + n) * ANSWER_COUNT;
      for (let a = 0; a < ANSWER_COUNT; a++) mean[a] += w[v] * values[base + a];
    }
    const variance = new Float64Array(ANSWER_COUNT);
    for (let v = 0; v < views; v++) {
      const base = (v * items + n) * ANSWER_COUNT;
      for (let a = 0; a < ANSWER_COUNT; a++) {
        const d = values[base + a] - mean[a];
        variance[a] += w[v] * d * d;
      }
    }
    out.push({ mean, std: variance.map(Math.sqrt) });
  }
  return out;
}
