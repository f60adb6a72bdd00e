import { type Convention, type Q6Reach, expectedCumulativeTotals, questionTotals } from './conventions.js';
import { ANSWERS, ANSWER_COUNT, QUESTIONS } from './tree.js';

/** Options of {@link validateVector}. */
export interface ValidateOptions {
  /** Convention the vector is in. */
  readonly convention: Convention;
  /** Absolute tolerance on every sum and range check. */
  readonly tolerance: number;
  /** Cumulative convention only: how Q6's expected total is defined (default `kaggle`, as everywhere). */
  readonly q6Reach?: Q6Reach;
  /**
   * Conditional convention only: accept a question whose answers are all 0 (nobody answered it,
   * as GZ2 catalogues record unreached questions). Default true.
   */
  readonly allowUnanswered?: boolean;
}

/** What a violation is: a non-finite value, a value outside [0, 1], or a question whose sum is off. */
export type ViolationKind = 'not-finite' | 'out-of-range' | 'sum';

/** One problem {@link validateVector} found in a vector. */
export interface Violation {
  /** What is wrong. */
  readonly kind: ViolationKind;
  /** 1-based question number. */
  readonly question: number;
  /** Kaggle id of the offending answer for per-value violations. */
  readonly answer?: string;
  /** The value or sum expected. */
  readonly expected: number;
  /** The value or sum found. */
  readonly actual: number;
  /** The tolerance it was checked with. */
  readonly tolerance: number;
  /** The problem in words, naming the question (and answer). */
  readonly message: string;
}

/**
 * Every violated constraint of a 37-vector under a convention: non-finite values, values outside
 * [0, 1], and question sums that differ from what the tree requires by more than the tolerance.
 * An empty list means the vector is valid.
 */
export function validateVector(vector: ArrayLike<number>, options: ValidateOptions): Violation[] {
  if (vector.length !== ANSWER_COUNT) {
    throw new RangeError(`expected ${ANSWER_COUNT} values (Class1.1 … Class11.6), got ${vector.length}`);
  }
  const { tolerance } = options;
  const violations: Violation[] = [];
  const badQuestions = new Set<number>();
  for (const answer of ANSWERS) {
    const value = vector[answer.index];
    if (!Number.isFinite(value)) {
      badQuestions.add(answer.question);
      violations.push({
        kind: 'not-finite',
        question: answer.question,
        answer: answer.kaggleId,
        expected: 0,
        actual: value,
        tolerance,
        message: `Q${answer.question} ${answer.kaggleId} is ${value}, not a finite number`,
      });
    } else if (value < -tolerance || value > 1 + tolerance) {
      violations.push({
        kind: 'out-of-range',
        question: answer.question,
        answer: answer.kaggleId,
        expected: value < 0 ? 0 : 1,
        actual: value,
        tolerance,
        message: `Q${answer.question} ${answer.kaggleId} = ${value} lies outside [0, 1] (tolerance ${tolerance})`,
      });
    }
  }
  const totals = questionTotals(vector);
  const expected =
    options.convention === 'cumulative'
      ? expectedCumulativeTotals(vector, { q6Reach: options.q6Reach ?? 'kaggle' })
      : new Float64Array(QUESTIONS.length).fill(1);
  for (const q of QUESTIONS) {
    if (badQuestions.has(q.number)) continue;
    const actual = totals[q.number - 1];
    const want = expected[q.number - 1];
    if (!Number.isFinite(want)) continue; // a parent value is not finite: already reported
    if (options.convention === 'conditional' && (options.allowUnanswered ?? true) && actual === 0) continue;
    if (Math.abs(actual - want) > tolerance) {
      const what =
        options.convention === 'conditional'
          ? 'should sum to 1'
          : q.parentAnswers.length === 0 || want === 1
            ? 'should sum to 1'
            : `should sum to its parent answers (${q.parentAnswers.map((i) => ANSWERS[i].kaggleId).join(' + ')})`;
      violations.push({
        kind: 'sum',
        question: q.number,
        expected: want,
        actual,
        tolerance,
        message:
          `Q${q.number} (${q.text}) ${what}: expected ${want.toFixed(6)}, got ${actual.toFixed(6)} (|Δ| = ` +
          `${Math.abs(actual - want).toExponential(2)} > ${tolerance})`,
      });
    }
  }
  return violations;
}

/** Throws an error listing every violation; returns the vector unchanged when it is valid. */
export function assertValidVector<T extends ArrayLike<number>>(vector: T, options: ValidateOptions): T {
  const violations = validateVector(vector, options);
  if (violations.length > 0) {
    throw new Error(`invalid ${options.convention} vector:\n  ${violations.map((v) => v.message).join('\n  ')}`);
  }
  return vector;
}
