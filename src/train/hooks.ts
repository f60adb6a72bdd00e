/** Image transforms the trainer and evaluation apply to each batch before the forward pass. */
import type * as tf from '@tensorflow/tfjs';

/** Training-time image transform (e.g. `Augmenter.apply`): float [0, 1] NHWC in, NHWC out. */
export type AugmentHook = (images: tf.Tensor4D, batchIndex: number, epoch: number) => tf.Tensor4D;
/** Deterministic evaluation-time transform (e.g. a centre crop): float [0, 1] NHWC in, NHWC out. */
export type PrepareHook = (images: tf.Tensor4D) => tf.Tensor4D;

/**
 * Training and evaluation hooks from an augmenter with `apply(images, batchIndex, epoch)` (random,
 * seeded by batch and epoch) and `evaluate(images)` (its deterministic centre crop).
 */
export function augmenterHooks(augmenter: {
  apply(images: tf.Tensor4D, batchIndex: number, epoch: number): tf.Tensor4D;
  evaluate(images: tf.Tensor4D): tf.Tensor4D;
}): {
  /** The augmenter's random training transforms. */
  augment: AugmentHook;
  /** Its deterministic evaluation view (the centre crop). */
  prepare: PrepareHook;
} {
  return {
    augment: (images, batchIndex, epoch) => augmenter.apply(images, batchIndex, epoch),
    prepare: (images) => augmenter.evaluate(images),
  };
}
