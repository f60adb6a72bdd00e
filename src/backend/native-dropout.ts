/**
 * The dropout multiplier drawn by TensorFlow's RandomUniform op instead of in JavaScript.
 *
 * tf.dropout fills its uniform noise with a JS generator, one number at a time, and uploads it:
 * 28 ms per step for the seed CNN's first dropout at 106×106 (64×11×11×128 numbers), more than
 * any of its convolutions. The native op fills the same tensor in a few milliseconds.
 */
import * as tf from '@tensorflow/tfjs';

interface OpAttr {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
}

interface NodeBackend {
  readonly binding: { readonly TF_ATTR_TYPE: number; readonly TF_ATTR_INT: number };
  getDTypeInteger(dtype: tf.DataType): number;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
}

/** True when the native op can run: the active backend is tfjs-node's `tensorflow`. */
export function nativeDropoutAvailable(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/** Uniform [0, 1) float32 noise of `shape` from TensorFlow's RandomUniform (its own random seed). */
export function nativeUniform(shape: readonly number[]): tf.Tensor {
  const backend = tf.backend() as unknown as NodeBackend;
  const shapeTensor = tf.tensor1d(shape as number[], 'int32');
  try {
    return backend.executeSingleOutput(
      'RandomUniform',
      [
        { name: 'seed', type: backend.binding.TF_ATTR_INT, value: 0 },
        { name: 'seed2', type: backend.binding.TF_ATTR_INT, value: 0 },
        { name: 'dtype', type: backend.binding.TF_ATTR_TYPE, value: backend.getDTypeInteger('float32') },
        { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.getDTypeInteger('int32') },
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
