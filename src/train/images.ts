/** Network inputs from cached pixels; browser-safe (the web predictor scales its images here too). */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batch.js';

/** uint8 NHWC pixels → float32 [0, 1] tensor. */
export function imagesToTensor(batch: Pick<Batch, 'images' | 'size'>, shape: readonly [number, number, number]): tf.Tensor4D {
  const pixels = batch.images;
  const scaled = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) scaled[i] = pixels[i] * (1 / 255);
  return tf.tensor4d(scaled, [batch.size, shape[0], shape[1], shape[2]]);
}
