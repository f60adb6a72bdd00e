/**
 * The dropout multiplier drawn by TensorFlow's RandomUniform op instead of in JavaScript.
 *
 * tf.dropout fills its uniform noise with a JS generator, one number at a time, and uploads it:
 * 28 ms per step for the seed CNN's first dropout at 106×106 (64×11×11×128 numbers), more than
 * any of its convolutions. The native op fills the same tensor in a few milliseconds.
 */
import * as tf from '@tensorflow/tfjs';
import { nodeBackend, typeAttr } from './node-binding.js';

/** Seed of the noise drawn by the next calls, and how many have been drawn from it. */
let noise: { seed: number; calls: number } | undefined;

/**
 * Makes the following dropout masks reproducible: after `seedDropoutNoise(s)` the k-th mask drawn
 * is a function of (s, k) alone (TensorFlow's StatelessRandomUniform). The trainer calls it before
 * every step with a seed derived from the run seed, epoch and batch, so a rerun — or a run resumed
 * from a checkpoint — draws the same masks. `undefined` goes back to unseeded noise.
 */
export function seedDropoutNoise(seed: number | undefined): void {
  noise = seed === undefined ? undefined : { seed: seed | 0, calls: 0 };
}

/** Uniform [0, 1) float32 noise of `shape` from TensorFlow (seeded by {@link seedDropoutNoise} when set). */
export function nativeUniform(shape: readonly number[]): tf.Tensor {
  const backend = nodeBackend();
  const shapeTensor = tf.tensor1d(shape as number[], 'int32');
  const float = typeAttr(backend, 'dtype', 'float32');
  const int = typeAttr(backend, 'T', 'int32');
  try {
    if (noise) {
      const seedTensor = tf.tensor1d([noise.seed, noise.calls++], 'int32');
      try {
        return backend.executeSingleOutput(
          'StatelessRandomUniform',
          [float, int, typeAttr(backend, 'Tseed', 'int32')],
          [shapeTensor, seedTensor],
        );
      } finally {
        seedTensor.dispose();
      }
    }
    return backend.executeSingleOutput(
      'RandomUniform',
      [
        { name: 'seed', type: backend.binding.TF_ATTR_INT, value: 0 },
        { name: 'seed2', type: backend.binding.TF_ATTR_INT, value: 0 },
        float,
        int,
      ],
      [shapeTensor],
    );
  } finally {
    shapeTensor.dispose();
  }
}

/**
 * x · floor(u + keep) / keep with u ~ U[0, 1) drawn natively: tf.dropout's formula (each value kept
 * with probability 1 − rate and scaled by 1 / (1 − rate)). `noiseShape` broadcasts the mask as in
 * tf.dropout. Differentiable in x (the mask is a constant).
 */
export function nativeDropout(x: tf.Tensor, rate: number, noiseShape?: readonly number[]): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  return tf.tidy(() => {
    const keep = 1 - rate;
    const mask = tf.div(tf.floor(tf.add(nativeUniform(noiseShape ?? x.shape), keep)), keep);
    return tf.mul(x, mask);
  });
}
