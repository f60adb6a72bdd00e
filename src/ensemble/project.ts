/**
 * Projection of an arbitrary 37-vector onto the decision tree's constraints.
 *
 * A flat model's 37 independent sigmoids need not respect the tree: Q1 need not sum to 1, Q2 need
 * not sum to Class1.2, and so on. Before such a member is averaged with tree-consistent members its
 * outputs are mapped to the nearest-in-spirit valid cumulative vector:
 *
 *  1. sanitise: everything is clamped to [0, 1]; a non-finite value (NaN, ±Infinity) is not an
 *     output a model can mean, so it is an error (NonFiniteError), never projected into a
 *     valid-looking answer;
 *  2. read each question as a distribution: divide its answers by the question's own total
 *     (`toConditional`; a question whose total is 0 gets the uniform distribution 1/k) — this keeps
 *     the member's *relative* preference between the answers of every question;
 *  3. rebuild the cumulative vector through the tree (`toCumulative`): every answer is multiplied
 *     by the probability of reaching its question, computed from the normalised parent answers,
 *     with the target `q6Reach`.
 *
 * The result always satisfies every constraint (values in [0, 1], Q1 sums to 1, each question sums
 * to its parent answers; Q6 to 1 under `kaggle`). A vector that is already valid comes back
 * unchanged up to rounding: its question totals are its reach probabilities, so step 2 recovers
 * the conditional distributions exactly and step 3 multiplies them back by the same reaches.
 *
 * Conditional-convention vectors (per-question distributions, GZ2) go through steps 1–3 too: step 2
 * renormalises each question and step 3 applies the tree.
 */
import { NonFiniteError } from '../errors.js';
import {
  ANSWER_COUNT,
  KAGGLE_COLUMNS,
  type Convention,
  type Q6Reach,
  toConditional,
  toCumulative,
} from '../questions/index.js';

/** Options of `projectToTree` and `projectRows`. */
export interface ProjectOptions {
  /** How the vector is to be read (default `cumulative`). */
  readonly from?: Convention;
  /** Q6 reach of the resulting cumulative vector (default `kaggle`, as the Kaggle labels). */
  readonly q6Reach?: Q6Reach;
}

/** Projects any 37 numbers onto a valid cumulative vector (see the module comment). */
export function projectToTree(vector: ArrayLike<number>, options: ProjectOptions = {}): Float64Array {
  if (vector.length !== ANSWER_COUNT) {
    throw new RangeError(`expected ${ANSWER_COUNT} values (Class1.1 … Class11.6), got ${vector.length}`);
  }
  const clean = new Float64Array(ANSWER_COUNT);
  for (let i = 0; i < ANSWER_COUNT; i++) {
    const v = vector[i];
    if (!Number.isFinite(v))
      throw new NonFiniteError(`${KAGGLE_COLUMNS[i]} is ${v}: a model output must be a finite number`);
    clean[i] = Math.min(1, Math.max(0, v));
  }
  // toConditional normalises each question by its own total whatever the input convention.
  const conditional = toConditional(clean, { unreached: 'uniform' });
  return toCumulative(conditional, { q6Reach: options.q6Reach ?? 'kaggle' });
}

/**
 * Projects an N×37 row-major block in place (float32 storage). Used on member outputs that do not
 * come out of a DecisionTreeLayer with the ensemble's q6Reach.
 */
export function projectRows(rows: Float32Array, options: ProjectOptions = {}): Float32Array {
  if (rows.length % ANSWER_COUNT !== 0)
    throw new RangeError(`row block length ${rows.length} is not a multiple of ${ANSWER_COUNT}`);
  for (let r = 0; r < rows.length; r += ANSWER_COUNT) {
    try {
      rows.set(projectToTree(rows.subarray(r, r + ANSWER_COUNT), options), r);
    } catch (error) {
      if (error instanceof NonFiniteError) throw new NonFiniteError(`row ${r / ANSWER_COUNT}: ${error.message}`);
      throw error;
    }
  }
  return rows;
}
