/**
 * The wrapped wasm kernels (src/backend/wasm/training-kernels.ts) against the `cpu` backend on
 * random shapes: BatchMatMul with transposed operands, Sum over leading axes.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { lcgValues } from '../helpers/lcg.js';
import { loadWasm } from '../../src/backend/wasm/index.js';
import { onBackend } from '../helpers/backend.js';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

describe('wasm training kernels match the cpu backend', () => {
  beforeAll(async () => {
    await loadWasm();
  });

  it('BatchMatMul with transposed operands', async () => {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      m: fc.integer({ min: 1, max: 40 }),
      k: fc.integer({ min: 1, max: 70 }),
      n: fc.integer({ min: 1, max: 40 }),
      ta: fc.boolean(),
      tb: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ batch, m, k, n, ta, tb, seed }) => {
        const run = () =>
          tf.tidy(() => {
            const a = tf.tensor3d(lcgValues(batch * m * k, seed), ta ? [batch, k, m] : [batch, m, k]);
            const b = tf.tensor3d(lcgValues(batch * k * n, seed + 1), tb ? [batch, n, k] : [batch, k, n]);
            return tf.matMul(a, b, ta, tb);
          });
        const expected = await onBackend('cpu', run);
        const actual = await onBackend('wasm', run);
        expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(expected)) * Math.sqrt(k));
      }),
      { numRuns: 60 },
    );
  });

  it('Sum over leading axes (bias gradients) and other axes', async () => {
    const arb = fc.record({
      shape: fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 2, maxLength: 4 }),
      k: fc.integer({ min: 1, max: 3 }),
      keepDims: fc.boolean(),
      leading: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ shape, k, keepDims, leading, seed }) => {
        const rank = shape.length;
        const count = Math.min(k, rank - 1);
        const axes = leading
          ? Array.from({ length: count }, (_, i) => i)
          : Array.from({ length: count }, (_, i) => rank - 1 - i);
        const size = shape.reduce((a, b) => a * b, 1);
        const data = lcgValues(size, seed);
        const run = () => tf.tidy(() => tf.sum(tf.tensor(data, shape), axes, keepDims));
        const expected = await onBackend('cpu', run);
        const actual = await onBackend('wasm', run);
        // Summation error scales with Σ|x| over the reduced elements (≤ count of them here).
        const reduced = axes.reduce((a, ax) => a * shape[ax], 1);
        expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.sqrt(reduced)));
      }),
      { numRuns: 60 },
    );
    // The large case that takes the ones·X path.
    const big = lcgValues(64 * 31 * 31 * 8, 9);
    const run = () => tf.tidy(() => tf.sum(tf.tensor4d(big, [64, 31, 31, 8]), [0, 1, 2]));
    const expected = await onBackend('cpu', run);
    const actual = await onBackend('wasm', run);
    let absSum = 0;
    for (const v of big) absSum += Math.abs(v);
    expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(1e-4 * (absSum / 8) * 1e-2);
  });
});
