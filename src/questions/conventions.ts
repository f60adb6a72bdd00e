import { ANSWERS, ANSWER_COUNT, QUESTIONS, TOPOLOGICAL_ORDER, question } from './tree.js';

/**
 * Two label conventions for the same 37 answers:
 * - `conditional` (GZ2 catalogues): each question's answers sum to 1 among those who answered it;
 * - `cumulative` (Kaggle): P(answer) = P(reaching its question) × conditional.
 */
export type Convention = 'conditional' | 'cumulative';

/**
 * How the probability of reaching Q6 ("anything odd?") is defined.
 * - `tree`: the sum of the totals of Q5, Q7 and Q9, the questions leading to it (= 1 − P(star)).
 * - `kaggle`: always 1, reproducing the Kaggle training data, where Q6 sums to 1 even for stars.
 */
export type Q6Reach = 'tree' | 'kaggle';

/**
 * What conditional distribution an unreached question (reach probability 0) gets when converting
 * cumulative to conditional: `uniform` (1/k for each of its k answers, so every question is still a
 * distribution) or `zero` (all answers 0, as in GZ2 catalogues where nobody answered it).
 */
export type UnreachedPolicy = 'uniform' | 'zero';

/** Options of the conversions between conventions. */
export interface TreeOptions {
  /**
   * How Q6 is reached (default `'kaggle'`, the project-wide default: reach(Q6) = 1, as in the
   * Kaggle data; `'tree'`: 1 − P(star), the tree's own definition). See docs/tree.md.
   */
  readonly q6Reach?: Q6Reach;
}

/** Reach probabilities at or below this are treated as "question not reached". */
export const UNREACHED_EPSILON = 1e-12;

/**
 * Probability of reaching each question (index 0 = Q1) given per-question conditional
 * distributions: Q1 is always reached; every other question is reached with the summed
 * cumulative probability of the answers leading to it.
 */
export function reachProbabilities(conditional: ArrayLike<number>, options: TreeOptions = {}): Float64Array {
  checkLength(conditional, 'conditional');
  const reach = new Float64Array(QUESTIONS.length);
  for (const number of TOPOLOGICAL_ORDER) {
    const q = question(number);
    if (q.parentAnswers.length === 0 || (number === 6 && (options.q6Reach ?? 'kaggle') === 'kaggle')) {
      reach[number - 1] = 1;
      continue;
    }
    let total = 0;
    for (const parent of q.parentAnswers) {
      const parentQuestion = ANSWERS[parent].question;
      total += reach[parentQuestion - 1] * conditional[parent];
    }
    reach[number - 1] = total;
  }
  return reach;
}

/** Cumulative (Kaggle) vector from conditional distributions: answer × reach of its question. */
export function toCumulative(conditional: ArrayLike<number>, options: TreeOptions = {}): Float64Array {
  const reach = reachProbabilities(conditional, options);
  const cumulative = new Float64Array(ANSWER_COUNT);
  for (const answer of ANSWERS) {
    cumulative[answer.index] = reach[answer.question - 1] * conditional[answer.index];
  }
  return cumulative;
}

/** Options of {@link toConditional}. */
export interface ToConditionalOptions {
  /** What the conditional values of a question nobody reached become (default `zero`). */
  readonly unreached?: UnreachedPolicy;
}

/**
 * Conditional distributions from a cumulative vector: each question's answers divided by the
 * question's total. A question whose total is ≤ UNREACHED_EPSILON was not reached; its answers are
 * set by `unreached` (default `uniform`). Never produces NaN for finite input.
 */
export function toConditional(cumulative: ArrayLike<number>, options: ToConditionalOptions = {}): Float64Array {
  checkLength(cumulative, 'cumulative');
  const policy = options.unreached ?? 'uniform';
  const conditional = new Float64Array(ANSWER_COUNT);
  for (const q of QUESTIONS) {
    let total = 0;
    for (const a of q.answers) total += cumulative[a.index];
    for (const a of q.answers) {
      conditional[a.index] =
        total > UNREACHED_EPSILON ? cumulative[a.index] / total : policy === 'uniform' ? 1 / q.answers.length : 0;
    }
  }
  return conditional;
}

/** Sum of each question's answers (index 0 = Q1). */
export function questionTotals(vector: ArrayLike<number>): Float64Array {
  checkLength(vector, 'vector');
  const totals = new Float64Array(QUESTIONS.length);
  for (const q of QUESTIONS) {
    let total = 0;
    for (const a of q.answers) total += vector[a.index];
    totals[q.number - 1] = total;
  }
  return totals;
}

/**
 * The probability each question should sum to in a cumulative vector, from the vector itself:
 * 1 for Q1 (and Q6 in Kaggle mode), else the sum of the cumulative values of its parent answers.
 */
export function expectedCumulativeTotals(cumulative: ArrayLike<number>, options: TreeOptions = {}): Float64Array {
  checkLength(cumulative, 'cumulative');
  const expected = new Float64Array(QUESTIONS.length);
  for (const q of QUESTIONS) {
    if (q.parentAnswers.length === 0 || (q.number === 6 && (options.q6Reach ?? 'kaggle') === 'kaggle')) {
      expected[q.number - 1] = 1;
    } else {
      let total = 0;
      for (const parent of q.parentAnswers) total += cumulative[parent];
      expected[q.number - 1] = total;
    }
  }
  return expected;
}

/** Conditional distributions from raw vote counts per answer (GZ2 `_count` columns). */
export function conditionalFromCounts(counts: ArrayLike<number>, options: ToConditionalOptions = {}): Float64Array {
  return toConditional(counts, { unreached: options.unreached ?? 'zero' });
}

function checkLength(vector: ArrayLike<number>, name: string): void {
  if (vector.length !== ANSWER_COUNT) {
    throw new RangeError(`${name} must have ${ANSWER_COUNT} values (Class1.1 … Class11.6), got ${vector.length}`);
  }
}
