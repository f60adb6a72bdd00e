import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { D4_ELEMENTS, applyD4, composeD4 } from '../../src/augment/d4.js';
import { lcgValues } from '../helpers/lcg.js';

/** Use the cpu backend for small-tensor tests (the native backend registers itself elsewhere). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** An (n, h, w, c) batch whose every element is distinct (0, 1, 2, ...). */
export function distinctImages(n: number, h: number, w: number, c: number): tf.Tensor4D {
  return tf.tensor4d(
    Float32Array.from({ length: n * h * w * c }, (_, i) => i),
    [n, h, w, c],
  );
}

/** A batch of smooth-ish random values, reproducible from a seed. */
export function randomImages(n: number, size: number, c: number, seed: number): tf.Tensor4D {
  return tf.tensor4d(lcgValues(n * size * size * c, seed, 0, 1), [n, size, size, c]);
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Applying b then a equals applying composeD4(a, b), for all 64 pairs of D4 elements; disposes `x`. */
export function expectD4Composes(x: tf.Tensor4D): void {
  for (const a of D4_ELEMENTS)
    for (const b of D4_ELEMENTS) {
      const seq = tf.tidy(() => applyD4(applyD4(x, b), a));
      const direct = applyD4(x, composeD4(a, b));
      expect(Array.from(direct.dataSync())).toEqual(Array.from(seq.dataSync()));
      tf.dispose([seq, direct]);
    }
  x.dispose();
}
