/**
 * Training losses, each a pure tf function of prediction and target tensors (N×37, Kaggle answer
 * order). Per-question sums go through `questionTotals` (the tree's answer→question map).
 */
import * as tf from '@tensorflow/tfjs';
import { QUESTION_COUNT } from '../questions/index.js';
import { expandToAnswers, questionTotals } from '../models/tree-ops.js';

/** Mean squared error over all N×37 cumulative outputs (the Kaggle metric, squared). */
export function cumulativeMse(targets: tf.Tensor2D, predictions: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(predictions, targets)) as tf.Scalar);
}

/**
 * Reach weights from cumulative targets: the share of the vote that reached each question, i.e.
 * the sum of that question's cumulative answers, clipped to [0, 1]. N×37 → N×11.
 */
export function reachWeights(cumulativeTargets: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.clipByValue(questionTotals(cumulativeTargets), 0, 1) as tf.Tensor2D);
}

/**
 * Per-question cross-entropy weighted by the question's reach probability:
 * mean over galaxies of Σ_q w_q · (−Σ_{a∈q} t_a log p_a), with t the conditional targets, p the
 * conditional predictions (each question a distribution) and w (N×11) usually
 * `reachWeights(cumulativeTargets)`. A question nobody reached (w = 0) contributes nothing,
 * whatever its targets hold. Predictions are clipped to [epsilon, 1] inside the log.
 */
export function reachWeightedCrossEntropy(
  conditionalTargets: tf.Tensor2D,
  conditionalPredictions: tf.Tensor2D,
  weights: tf.Tensor2D,
  epsilon = 1e-7,
): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.log(tf.clipByValue(conditionalPredictions, epsilon, 1));
    const perQuestion = questionTotals(tf.neg(tf.mul(conditionalTargets, logP)) as tf.Tensor2D);
    return tf.mean(tf.sum(tf.mul(perQuestion, weights), 1)) as tf.Scalar;
  });
}

/**
 * Squared error on the conditional distributions, weighted by reach like the cross-entropy:
 * mean over galaxies of Σ_q w_q · Σ_{a∈q} (p_a − t_a)².
 */
export function reachWeightedConditionalMse(
  conditionalTargets: tf.Tensor2D,
  conditionalPredictions: tf.Tensor2D,
  weights: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const perQuestion = questionTotals(tf.squaredDifference(conditionalPredictions, conditionalTargets) as tf.Tensor2D);
    return tf.mean(tf.sum(tf.mul(perQuestion, weights), 1)) as tf.Scalar;
  });
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log Γ(x) for x > 0, elementwise: shifts x up by 6 (log Γ(x) = log Γ(x+6) − Σ_{i<6} log(x+i)) and
 * uses Stirling's series there (error < 1e-9, well below float32 resolution). Differentiable
 * (its gradient is the digamma function), so it can sit inside a loss.
 */
export function lgamma(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let logProduct = tf.log(x);
    for (let i = 1; i < 6; i++) logProduct = tf.add(logProduct, tf.log(tf.add(x, i)));
    const y = tf.add(x, 6);
    const inv = tf.reciprocal(y);
    const inv2 = tf.square(inv);
    // 1/(12y) − 1/(360y³) + 1/(1260y⁵)
    const series = tf.mul(inv, tf.add(1 / 12, tf.mul(inv2, tf.add(-1 / 360, tf.mul(inv2, 1 / 1260)))));
    const stirling = tf.add(tf.sub(tf.mul(tf.sub(y, 0.5), tf.log(y)), y), tf.add(series, HALF_LOG_2PI));
    return tf.sub(stirling, logProduct);
  });
}

/**
 * Dirichlet concentrations from a model's conditional output: α_a = p_a · κ_q + ε, where κ_q is the
 * total concentration of answer a's question (one number for all questions, or 11 numbers).
 * This is how models provide concentrations: the per-question softmax heads give the mean
 * vote distribution and κ sets how overdispersed the votes are around it (larger κ → closer to a
 * plain multinomial). κ is a fixed hyperparameter of the loss here.
 */
export function dirichletConcentrations(
  conditionalPredictions: tf.Tensor2D,
  concentration: number | readonly number[] = DEFAULT_CONCENTRATION,
  epsilon = 1e-6,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (typeof concentration === 'number') {
      return tf.add(tf.mul(conditionalPredictions, concentration), epsilon) as tf.Tensor2D;
    }
    if (concentration.length !== QUESTION_COUNT) {
      throw new RangeError(
        `concentration needs ${QUESTION_COUNT} values (one per question), got ${concentration.length}`,
      );
    }
    const perAnswer = expandToAnswers(tf.tensor2d([...concentration], [1, QUESTION_COUNT]));
    return tf.add(tf.mul(conditionalPredictions, perAnswer), epsilon) as tf.Tensor2D;
  });
}

/** Default total concentration κ per question for the Dirichlet–multinomial loss. */
export const DEFAULT_CONCENTRATION = 20;

/**
 * Dirichlet–multinomial negative log-likelihood of raw vote counts (GZ2 `_count` columns),
 * mean over galaxies of the sum over questions:
 *   −log P(n | α) = −[log n! − Σ_a log n_a! + log Γ(A) − log Γ(n + A) + Σ_a (log Γ(n_a + α_a) − log Γ(α_a))]
 * with n = Σ_a n_a and A = Σ_a α_a over the question's answers. A question with no votes
 * contributes exactly 0. `concentrations` (N×37, > 0) usually come from `dirichletConcentrations`.
 */
export function dirichletMultinomialNll(counts: tf.Tensor2D, concentrations: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const perAnswer = tf.sub(
      tf.sub(lgamma(tf.add(counts, concentrations)), lgamma(concentrations)),
      lgamma(tf.add(counts, 1)),
    );
    const n = questionTotals(counts);
    const a = questionTotals(concentrations);
    const perQuestion = tf.add(
      tf.sub(tf.add(lgamma(tf.add(n, 1)), lgamma(a)), lgamma(tf.add(n, a))),
      questionTotals(perAnswer as tf.Tensor2D),
    );
    return tf.neg(tf.mean(tf.sum(perQuestion, 1))) as tf.Scalar;
  });
}

/** Which loss a trainer minimises. */
export type LossSpec =
  | {
      /** MSE on the 37 cumulative outputs. */
      readonly kind: 'mse';
    }
  | {
      /** Reach-weighted per-question cross-entropy. */
      readonly kind: 'cross-entropy';
    }
  | {
      /** Reach-weighted MSE on the per-question conditionals. */
      readonly kind: 'conditional-mse';
    }
  | {
      /** Dirichlet-multinomial negative log-likelihood of the vote counts. */
      readonly kind: 'dirichlet-multinomial';
      /** Total concentration of the predicted Dirichlet: one, or one per question (default DEFAULT_CONCENTRATION). */
      readonly concentration?: number | readonly number[];
    };

/** The name of a loss. */
export type LossKind = LossSpec['kind'];

export interface LossPredictions {
  /** N×37 cumulative predictions. */
  readonly cumulative: tf.Tensor2D;
  /** N×37 per-question conditional predictions (models with a DecisionTreeLayer). */
  readonly conditional?: tf.Tensor2D;
}

export interface LossTargets {
  readonly cumulative: tf.Tensor2D;
  readonly conditional: tf.Tensor2D;
  readonly counts?: tf.Tensor2D;
}

export function lossNeedsConditional(spec: LossSpec): boolean {
  return spec.kind !== 'mse';
}

export function lossNeedsCounts(spec: LossSpec): boolean {
  return spec.kind === 'dirichlet-multinomial';
}

/** The scalar loss of `spec` for one batch. */
export function computeLoss(spec: LossSpec, predictions: LossPredictions, targets: LossTargets): tf.Scalar {
  switch (spec.kind) {
    case 'mse':
      return cumulativeMse(targets.cumulative, predictions.cumulative);
    case 'cross-entropy':
      return tf.tidy(() =>
        reachWeightedCrossEntropy(
          targets.conditional,
          need(predictions.conditional, spec),
          reachWeights(targets.cumulative),
        ),
      );
    case 'conditional-mse':
      return tf.tidy(() =>
        reachWeightedConditionalMse(
          targets.conditional,
          need(predictions.conditional, spec),
          reachWeights(targets.cumulative),
        ),
      );
    case 'dirichlet-multinomial': {
      if (!targets.counts)
        throw new Error('the dirichlet-multinomial loss needs raw vote counts, and this data has none');
      const counts = targets.counts;
      return tf.tidy(() =>
        dirichletMultinomialNll(
          counts,
          dirichletConcentrations(need(predictions.conditional, spec), spec.concentration),
        ),
      );
    }
    default:
      throw new RangeError(`unknown loss ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

function need(conditional: tf.Tensor2D | undefined, spec: LossSpec): tf.Tensor2D {
  if (!conditional) {
    throw new Error(
      `the ${spec.kind} loss needs per-question conditional predictions: use a model ending in a DecisionTreeLayer`,
    );
  }
  return conditional;
}
