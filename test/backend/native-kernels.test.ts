/**
 * The kernels registered on the native backend in place of tfjs-node's (src/backend/native-kernels.ts)
 * against the pure-JS `cpu` backend on random shapes: Step (with NaN, ±∞, ±0 and alpha), Sum
 * over every axis but the last (the BiasAddGrad path) and over other axes (the stock path),
 * FusedBatchNorm (inference batch norm as a per-channel affine map), and MaxPoolGrad (oneDNN's) — also against
 * TensorFlow's own MaxPoolGrad op on inputs full of ties.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lcgValues } from '../helpers/lcg.js';
import { loadNative } from '../../src/backend/native.js';
import { usesOneDnnMaxPoolGrad } from '../../src/backend/native-kernels.js';

const nativeError = await loadNative().then(
  () => '',
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);

const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0];

/** lcgValues in [−2, 2), with NaN, ±∞ and ±0 at about one place in eleven when `specials`. */
function values(size: number, seed: number, specials: boolean): Float32Array {
  const out = lcgValues(size, seed, -2, 2);
  if (specials) for (let i = (seed >>> 0) % 11; i < size; i += 11) out[i] = SPECIAL[i % SPECIAL.length]!;
  return out;
}

async function onBoth(run: () => tf.Tensor): Promise<[Float32Array, Float32Array, number[], number[]]> {
  await tf.setBackend('tensorflow');
  const a = run();
  const native = [(await a.data()) as Float32Array, a.shape] as const;
  a.dispose();
  await tf.setBackend('cpu');
  const b = run();
  const reference = [(await b.data()) as Float32Array, b.shape] as const;
  b.dispose();
  return [native[0], reference[0], native[1], reference[1]];
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 });

describe.skipIf(nativeError !== '')(
  `native kernel replacements${nativeError ? ` — skipped: ${nativeError}` : ''}`,
  () => {
    it('Step equals the cpu backend, NaN, ±∞ and ±0 included, for alpha 0 and others', async () => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb,
          fc.integer({ min: 1, max: 1e6 }),
          fc.constantFrom(0, 0.1, -0.5),
          async (shape, seed, alpha) => {
            const data = values(
              shape.reduce((a, b) => a * b, 1),
              seed,
              true,
            );
            const [native, reference] = await onBoth(() => tf.step(tf.tensor(data, shape), alpha));
            expect(Array.from(native)).toEqual(Array.from(reference));
          },
        ),
        { numRuns: 60 },
      );
    });

    it('Step keeps NaN at every position of a large tensor (vectorised paths)', async () => {
      await tf.setBackend('tensorflow');
      const data = values(4099, 5, false);
      for (let i = 0; i < data.length; i += 7) data[i] = Number.NaN;
      const out = (await tf.step(tf.tensor(data)).data()) as Float32Array;
      out.forEach((v, i) => expect(Number.isNaN(v), `index ${i}`).toBe(Number.isNaN(data[i]!)));
    });

    it('Sum over every axis but the last, and over any other axes, equals the cpu backend', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 4 }),
          fc.integer({ min: 1, max: 1e6 }),
          fc.boolean(),
          fc.boolean(),
          async (shape, seed, keepDims, channelAxes) => {
            const data = values(
              shape.reduce((a, b) => a * b, 1),
              seed,
              false,
            );
            const axes = channelAxes
              ? shape
                  .slice(0, -1)
                  .map((_, i) => i)
                  .reverse()
              : [shape.length - 1];
            const [native, reference, nativeShape, referenceShape] = await onBoth(() =>
              tf.sum(tf.tensor(data, shape), axes, keepDims),
            );
            expect(nativeShape).toEqual(referenceShape);
            native.forEach((v, i) =>
              expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(reference[i]!))),
            );
          },
        ),
        { numRuns: 60 },
      );
    });

    it('the bias gradient of a conv layer is unchanged (Sum through the gradient tape)', async () => {
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(values(2 * 5 * 5 * 3, 9, false), [2, 5, 5, 3]);
          const bias = tf.tensor1d([0.1, -0.2, 0.3, 0.05]);
          const filter = tf.tensor4d(values(3 * 3 * 3 * 4, 10, false), [3, 3, 3, 4]);
          return tf.grad((b: tf.Tensor) =>
            tf.sum(tf.square(tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: b, activation: 'relu' }))),
          )(bias);
        });
      const [native, reference] = await onBoth(run);
      native.forEach((v, i) =>
        expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(reference[i]!))),
      );
    });

    it('FusedBatchNorm (inference batch norm) equals the cpu backend, with and without scale and offset', async () => {
      const arb = fc.record({
        shape: fc.tuple(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 7 }),
        ),
        scale: fc.boolean(),
        offset: fc.boolean(),
        epsilon: fc.constantFrom(1e-3, 1e-5),
        seed: fc.integer({ min: 1, max: 1e6 }),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ shape, scale, offset, epsilon, seed }) => {
          const c = shape[3];
          const data = values(
            shape.reduce((a, b) => a * b, 1),
            seed,
            false,
          );
          const run = () =>
            tf.tidy(() =>
              tf.batchNorm(
                tf.tensor4d(data, shape),
                tf.tensor1d(values(c, seed + 1, false)),
                tf.tensor1d(lcgValues(c, seed + 2, 0.01, 3)),
                offset ? tf.tensor1d(values(c, seed + 3, false)) : undefined,
                scale ? tf.tensor1d(values(c, seed + 4, false)) : undefined,
                epsilon,
              ),
            );
          const [native, reference] = await onBoth(run);
          native.forEach((v, i) =>
            expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(reference[i]!))),
          );
        }),
        { numRuns: 60 },
      );
    });

    const poolArb = fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 3, max: 12 }),
      w: fc.integer({ min: 3, max: 12 }),
      c: fc.integer({ min: 1, max: 5 }),
      size: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 3 }),
      pad: fc.constantFrom('valid' as const, 'same' as const),
      seed: fc.integer({ min: 1, max: 1e6 }),
    });

    function poolGradient(
      p: { n: number; h: number; w: number; c: number; size: number; stride: number; pad: 'valid' | 'same' },
      data: Float32Array,
    ): tf.Tensor {
      return tf.tidy(() => {
        const x = tf.tensor4d(data, [p.n, p.h, p.w, p.c]);
        const outShape = tf.maxPool(x, p.size, p.stride, p.pad).shape;
        const dy = tf.tensor4d(
          values(
            outShape.reduce((a, b) => a * b, 1),
            77,
            false,
          ),
          outShape as [number, number, number, number],
        );
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, p.size, p.stride, p.pad), dy)))(x);
      });
    }

    it('MaxPoolGrad equals the cpu backend on random shapes, sizes, strides and paddings', async () => {
      await fc.assert(
        fc.asyncProperty(poolArb, async (p) => {
          const data = values(p.n * p.h * p.w * p.c, p.seed, false);
          const [native, reference] = await onBoth(() => poolGradient(p, data));
          native.forEach((v, i) =>
            expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(reference[i]!))),
          );
        }),
        { numRuns: 60 },
      );
      // TensorFlow's Linux x86-64 builds have oneDNN: there the replacement, not the stock kernel, ran.
      if (process.platform === 'linux' && process.arch === 'x64') expect(usesOneDnnMaxPoolGrad()).toBe(true);
    });

    it(
      'MaxPoolGrad breaks ties exactly as TensorFlow’s own MaxPoolGrad op (inputs of a few integer levels, relu ' +
        'zeros)',
      async () => {
        await tf.setBackend('tensorflow');
        const backend = tf.backend() as unknown as {
          binding: { TF_ATTR_TYPE: number; TF_ATTR_INT: number; TF_ATTR_STRING: number };
          getDTypeInteger(d: string): number;
          executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
        };
        await fc.assert(
          fc.asyncProperty(poolArb, async (p) => {
            const data = values(p.n * p.h * p.w * p.c, p.seed, false).map((v) => Math.max(0, Math.round(v)));
            const ours = poolGradient(p, data);
            const theirs = tf.tidy(() => {
              const x = tf.tensor4d(data, [p.n, p.h, p.w, p.c]);
              const y = tf.maxPool(x, p.size, p.stride, p.pad);
              const dy = tf.tensor4d(values(y.size, 77, false), y.shape);
              return backend.executeSingleOutput(
                'MaxPoolGrad',
                [
                  { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.getDTypeInteger('float32') },
                  { name: 'ksize', type: backend.binding.TF_ATTR_INT, value: [1, p.size, p.size, 1] },
                  { name: 'strides', type: backend.binding.TF_ATTR_INT, value: [1, p.stride, p.stride, 1] },
                  { name: 'padding', type: backend.binding.TF_ATTR_STRING, value: p.pad.toUpperCase() },
                  { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' },
                ],
                [x, y, dy],
              );
            });
            // Same routing of every gradient; overlapping windows may add their shares in another order.
            const a = await ours.data();
            const b = await theirs.data();
            a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[i]!))));
            tf.dispose([ours, theirs]);
          }),
          { numRuns: 60 },
        );
      },
    );
  },
);
