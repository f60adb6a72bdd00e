import fc from 'fast-check';
import { ANSWER_COUNT, QUESTIONS } from '../../src/questions/index.js';

/** One probability distribution over k answers (non-negative, sums to 1). */
export function distribution(k: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: k, maxLength: k }).chain((weights) => {
    const total = weights.reduce((a, b) => a + b, 0);
    // An all-zero draw becomes a one-hot: a valid (degenerate) distribution.
    return fc
      .integer({ min: 0, max: k - 1 })
      .map((hot) => (total > 0 ? weights.map((w) => w / total) : weights.map((_, i) => (i === hot ? 1 : 0))));
  });
}

/** Arbitrary per-question conditional distributions laid out as a 37-vector. */
export const conditionalVector: fc.Arbitrary<Float64Array> = fc
  .tuple(...QUESTIONS.map((q) => distribution(q.answers.length)))
  .map((parts) => {
    const vector = new Float64Array(ANSWER_COUNT);
    parts.forEach((part, q) => vector.set(part, QUESTIONS[q].offset));
    return vector;
  });
