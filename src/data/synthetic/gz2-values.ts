/**
 * The per-answer value families of the Hart et al. (2016) GZ2 table, from a synthetic galaxy's
 * simulated vote counts:
 *
 * - `count`: votes for the answer;
 * - `weight`: the consistency-weighted votes (GZ2 down-weights volunteers who often disagree with
 *   the consensus: here about 7% of votes weigh a random 0.05–1 instead of 1);
 * - `fraction`, `weighted_fraction`: count and weight over the question's total (conditional,
 *   stored rounded to 3 decimals; all 0 for a question nobody reached);
 * - `debiased`: the weighted fraction corrected answer by answer for the tendency of small, faint
 *   galaxies to look smooth (features boosted, their complements damped, more the less visible
 *   the galaxy), so a question's debiased values do not sum exactly to 1, as in the real table;
 * - `flag`: 1 when the debiased fraction is at least 0.8 and at least 20 volunteers answered the
 *   question (the "clean" sample), else 0.
 */
import { ANSWERS, ANSWER_COUNT, QUESTIONS } from '../../questions/index.js';
import type { Random } from '../../util/random.js';
import type { SyntheticGalaxy } from './galaxy.js';

/** The six value families of every answer, Kaggle answer order. */
export interface Gz2Values {
  readonly count: Float64Array;
  readonly weight: Float64Array;
  readonly fraction: Float64Array;
  readonly weightedFraction: Float64Array;
  readonly debiased: Float64Array;
  readonly flag: Uint8Array;
}

/** Share of votes from volunteers the consistency weighting down-weights. */
const DOWN_WEIGHTED = 0.07;
/** Clean-sample thresholds of the flags. */
const FLAG_FRACTION = 0.8;
const FLAG_ANSWERS = 20;

/**
 * Debiasing exponent signs by GZ2 column: answers that say "there is structure" are boosted
 * (fraction^γ with γ < 1), their "no structure" complements damped (γ > 1); others are left as they
 * are.
 */
const DEBIAS: Readonly<Record<string, number>> = {
  t01_smooth_or_features_a01_smooth: 1,
  t01_smooth_or_features_a02_features_or_disk: -1.5,
  t03_bar_a06_bar: -1,
  t03_bar_a07_no_bar: 0.5,
  t04_spiral_a08_spiral: -1.5,
  t04_spiral_a09_no_spiral: 1,
  t06_odd_a14_yes: -0.8,
  t06_odd_a15_no: 0.3,
};
const DEBIAS_SIGN = Float64Array.from(ANSWERS, (a) => DEBIAS[a.gz2Column] ?? 0);

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Per-question shares of `values` (0 for a question with no total), rounded when asked. */
function shares(values: Float64Array, rounded: boolean): Float64Array {
  const out = new Float64Array(ANSWER_COUNT);
  for (const q of QUESTIONS) {
    let total = 0;
    for (let i = 0; i < q.answers.length; i++) total += values[q.offset + i];
    if (total <= 0) continue;
    for (let i = 0; i < q.answers.length; i++) {
      const share = values[q.offset + i] / total;
      out[q.offset + i] = rounded ? round3(share) : share;
    }
  }
  return out;
}

/** Votes answering each question, per answer (the answer's question total). */
function answerers(count: Float64Array): Float64Array {
  const out = new Float64Array(ANSWER_COUNT);
  for (const q of QUESTIONS) {
    let total = 0;
    for (let i = 0; i < q.answers.length; i++) total += count[q.offset + i];
    for (let i = 0; i < q.answers.length; i++) out[q.offset + i] = total;
  }
  return out;
}

/** The Hart16 value families of one galaxy; `rng` draws the consistency weights. */
export function gz2Values(galaxy: SyntheticGalaxy, rng: Random): Gz2Values {
  const count = Float64Array.from(galaxy.votes.counts);
  const weight = new Float64Array(ANSWER_COUNT);
  for (let a = 0; a < ANSWER_COUNT; a++) {
    let w = 0;
    for (let v = 0; v < count[a]; v++) w += rng.bool(DOWN_WEIGHTED) ? rng.uniform(0.05, 1) : 1;
    weight[a] = round3(w);
  }
  const weighted = shares(weight, false);
  const strength = 0.6 * (1 - galaxy.morphology.visibility);
  const debiased = weighted.map((f, a) => (f > 0 ? Math.pow(f, Math.exp(DEBIAS_SIGN[a] * strength)) : 0));
  const total = answerers(count);
  const flag = Uint8Array.from(debiased, (d, a) => (d >= FLAG_FRACTION && total[a] >= FLAG_ANSWERS ? 1 : 0));
  return { count, weight, fraction: shares(count, true), weightedFraction: weighted.map(round3), debiased, flag };
}
