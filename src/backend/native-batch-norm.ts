/**
 * Batch normalisation in training mode as two native TensorFlow ops: FusedBatchNormV3 forward
 * (batch statistics and normalisation in one pass) and FusedBatchNormGradV3 backward.
 *
 * tfjs-layers computes the same thing from tf.moments plus tf.batchNorm, whose gradient tfjs-core
 * writes as about twenty full-size element-wise ops (tile, sub, mul, sum …) run one at a time from
 * JS. With four BatchNorm layers at 64×64 that is 85% of a training step; the fused pair does the
 * whole forward and backward of a layer in two calls.
 */
import * as tf from '@tensorflow/tfjs';
import { type NodeBackend, type OpAttr, nodeBackend, onNativeBackend, typeAttr } from './node-binding.js';

export interface BatchNormTrainingResult {
  /** The normalised, scaled and shifted input (differentiable with respect to x, scale and offset). */
  readonly y: tf.Tensor4D;
  /** Per-channel batch mean. */
  readonly mean: tf.Tensor1D;
  /** Per-channel batch variance, biased (divided by N·H·W) as tf.moments gives it. */
  readonly variance: tf.Tensor1D;
}

function attrs(backend: NodeBackend, epsilon: number): OpAttr[] {
  return [
    typeAttr(backend, 'T', 'float32'),
    typeAttr(backend, 'U', 'float32'),
    { name: 'epsilon', type: backend.binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: backend.binding.TF_ATTR_BOOL, value: true },
  ];
}

/**
 * Training-mode batch normalisation over the batch and spatial axes of an NHWC float32 tensor:
 * y = scale · (x − mean) / √(variance + epsilon) + offset with the batch's own statistics.
 * The gradient flows to x (through the statistics too), scale and offset.
 * Requires the `tensorflow` backend (see {@link onNativeBackend}).
 */
export function fusedBatchNormTraining(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
): BatchNormTrainingResult {
  if (!onNativeBackend()) throw new Error(`fused batch norm needs the tensorflow backend, not ${tf.getBackend()}`);
  if (x.rank !== 4 || x.dtype !== 'float32')
    throw new RangeError(`fused batch norm expects a float32 NHWC tensor, got ${x.dtype} rank ${x.rank}`);
  const backend = nodeBackend();
  const opAttrs = attrs(backend, epsilon);
  const channels = x.shape[3];
  const count = x.shape[0] * x.shape[1] * x.shape[2];
  let statistics: [tf.Tensor1D, tf.Tensor1D] | undefined;

  const forward = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, gamma, beta] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    // With is_training and the default exponential_avg_factor of 1 the mean/variance inputs are unused.
    const unused = tf.zeros([channels]);
    const [y, batchMean, batchVariance, reserve1, reserve2, reserve3] = backend.executeMultipleOutputs(
      'FusedBatchNormV3',
      opAttrs,
      [input, gamma, beta, unused, unused],
      6,
    ) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor, tf.Tensor, tf.Tensor];
    // TensorFlow returns the unbiased (N/(N−1)) batch variance; report the biased one as tf.moments does.
    const biased = count > 1 ? tf.mul(batchVariance, (count - 1) / count) : batchVariance;
    // customGrad runs this inside its own tidy: keep the statistics past it (released below).
    statistics = [tf.keep(batchMean), tf.keep(biased as tf.Tensor1D)];
    save([input, gamma, reserve1, reserve2, reserve3]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, savedScale, r1, r2, r3] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const [dx, dScale, dOffset] = backend.executeMultipleOutputs(
          'FusedBatchNormGradV3',
          opAttrs,
          [dy, savedX, savedScale, r1, r2, r3],
          5,
        );
        return [dx!, dScale!, dOffset!];
      },
    };
  });

  const y = forward(x, scale, offset) as tf.Tensor4D;
  const [keptMean, keptVariance] = statistics!;
  // Clones belong to the caller's scope (a tidy disposes them); the kept originals go now.
  const mean = tf.clone(keptMean);
  const variance = tf.clone(keptVariance);
  keptMean.dispose();
  keptVariance.dispose();
  return { y, mean, variance };
}
