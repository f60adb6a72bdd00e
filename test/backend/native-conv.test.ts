/**
 * The fused native training ops against the stock path on the pure-JS `cpu` backend, on small
 * random cases: conv2dWithBias (src/backend/native-conv.ts) forward and its gradients in x, filter
 * and bias, for both paddings, strides 1–2, with and without a bias; relu's ReluGrad gradient; the
 * Conv2D layer (src/models/conv2d.ts) with GZH_FUSED_KERNELS on and off; and that a gradient the
 * tape does not need (the input image's) is not computed.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { lcgValues } from '../helpers/lcg.js';
import { loadNative } from '../../src/backend/native.js';
import { conv2dWithBias, usesOneDnnConvWithBias } from '../../src/backend/native-conv.js';
import { conv2d } from '../../src/models/conv2d.js';

// TensorFlow's oneDNN kernels are off in this test process (set before libtensorflow loads): in two
// of four CI runs a test process aborted with heap corruption ("free(): invalid next size") just
// after this file ran its tiny random shapes (3 px images, 3 px kernels, stride 2) through
// TensorFlow 2.21's oneDNN convolution gradients. The comparison is of this project's composition
// of ops, which does not depend on the kernel library.
process.env.TF_ENABLE_ONEDNN_OPTS = '0';
const nativeError = await loadNative().then(
  () => '',
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 3, max: 11 }),
  w: fc.integer({ min: 3, max: 11 }),
  cin: fc.integer({ min: 1, max: 5 }),
  // At least 2 output channels: TensorFlow 2.21's own (oneDNN) Conv2DBackpropInput is wrong when
  // input and output both have 1 channel (Python's tf.raw_ops gives the same wrong values; right
  // with TF_ENABLE_ONEDNN_OPTS=0). The stock tfjs-node path calls that op too.
  cout: fc.integer({ min: 2, max: 6 }),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  pad: fc.constantFrom('same' as const, 'valid' as const),
  bias: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1e6 }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** y = relu(conv(x, f) + b), and the gradients of Σ y·r in x, f, b — `native` through conv2dWithBias. */
function convAndGrads(c: Case, native: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(lcgValues(c.n * c.h * c.w * c.cin, c.seed), [c.n, c.h, c.w, c.cin]);
    const f = tf.tensor4d(lcgValues(c.k * c.k * c.cin * c.cout, c.seed + 1), [c.k, c.k, c.cin, c.cout]);
    const b = tf.tensor1d(lcgValues(c.cout, c.seed + 2, -0.3, 0.3));
    const g = { strides: [c.stride, c.stride] as [number, number], pad: c.pad };
    const conv = (xx: tf.Tensor4D, ff: tf.Tensor4D, bb: tf.Tensor1D) => {
      if (native) return conv2dWithBias(xx, ff, c.bias ? bb : undefined, g);
      const y = tf.conv2d(xx, ff, c.stride, c.pad);
      return c.bias ? tf.add(y, bb) : y;
    };
    const y = tf.relu(conv(x, f, b));
    const r = tf.tensor(lcgValues(y.size, c.seed + 3), y.shape);
    const loss = (xx: tf.Tensor, ff: tf.Tensor, bb?: tf.Tensor) =>
      tf.sum(tf.mul(tf.relu(conv(xx as tf.Tensor4D, ff as tf.Tensor4D, (bb ?? b) as tf.Tensor1D)), r));
    const grads = c.bias ? tf.grads(loss)([x, f, b]) : tf.grads((xx: tf.Tensor, ff: tf.Tensor) => loss(xx, ff))([x, f]);
    return [y, ...grads];
  });
}

async function valuesOn(backend: string, run: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = run();
  const data = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(out);
  return data;
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) =>
    expect(Math.abs(v - expected[i]!), `index ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(
      tolerance * Math.max(1, Math.abs(expected[i]!)),
    ),
  );
}

describe.skipIf(nativeError !== '')(
  `fused native conv and relu gradient${nativeError ? ` — skipped: ${nativeError}` : ''}`,
  () => {
    afterEach(() => {
      delete process.env.GZH_FUSED_KERNELS;
    });

    it('conv2dWithBias and its x, filter and bias gradients equal the stock ops on the cpu backend', async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const ours = await valuesOn('tensorflow', () => convAndGrads(c, true));
          const reference = await valuesOn('cpu', () => convAndGrads(c, false));
          // Sums of up to k²·cin (forward, dx) or n·h·w (dW, db) products of values in [−1, 1).
          const tolerance = 1e-5 * Math.sqrt(c.n * c.h * c.w * c.k * c.k * c.cin);
          ours.forEach((v, i) => expectClose(v, reference[i]!, tolerance));
        }),
        { numRuns: 50 },
      );
      // oneDNN's internal conv-with-bias kernel is opt-in (GZH_ONEDNN_CONV=1).
      expect(usesOneDnnConvWithBias()).toBe(process.env.GZH_ONEDNN_CONV === '1');
    });

    it('relu’s gradient (ReluGrad) equals the stock dy·step(x) wherever x is finite, ±0 included', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: 1e6 }),
          async (shape, seed) => {
            const size = shape.reduce((a, b) => a * b, 1);
            const data = lcgValues(size, seed, -2, 2);
            for (let i = seed % 5; i < size; i += 5) data[i] = i % 2 ? 0 : -0;
            const run = () => [
              tf.tidy(() =>
                tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), tf.tensor(lcgValues(size, seed + 1), shape))))(
                  tf.tensor(data, shape),
                ),
              ),
            ];
            const [ours] = await valuesOn('tensorflow', run);
            const [reference] = await valuesOn('cpu', run);
            expect(Array.from(ours!)).toEqual(Array.from(reference!));
          },
        ),
        { numRuns: 60 },
      );
      await tf.setBackend('tensorflow');
      const x = tf.tensor1d([-1, 2]);
      const profile = await tf.profile(() => tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(x)));
      expect(profile.kernels.map((k) => k.name)).not.toContain('Step');
      x.dispose();
    });

    it('a Conv2D layer gives the same output and weight gradients with the fused kernels on and off', async () => {
      await tf.setBackend('tensorflow');
      for (const [useBias, activation, padding] of [
        [true, 'relu', 'valid'],
        [false, 'linear', 'same'],
        [true, 'sigmoid', 'same'],
      ] as const) {
        const layer = conv2d({
          filters: 4,
          kernelSize: 3,
          useBias,
          activation,
          padding,
          biasInitializer: 'glorotUniform',
        });
        const x = tf.tensor4d(lcgValues(2 * 7 * 7 * 3, 11), [2, 7, 7, 3]);
        layer.apply(x);
        const run = (mode: string) => {
          process.env.GZH_FUSED_KERNELS = mode;
          const y = layer.apply(x) as tf.Tensor;
          const { grads } = tf.variableGrads(
            () => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar,
            layer.trainableWeights.map((w) => w.read() as tf.Variable),
          );
          return [y, ...Object.values(grads)];
        };
        const fused = run('1');
        const stock = run('0');
        expect(fused.length).toBe(useBias ? 3 : 2);
        fused.forEach((t, i) => expectClose(t.dataSync() as Float32Array, stock[i]!.dataSync() as Float32Array, 1e-5));
        tf.dispose([x, ...fused, ...stock]);
        layer.dispose();
      }
    });

    it('the gradient of the model input is not computed when only the weights need one', async () => {
      await tf.setBackend('tensorflow');
      const x = tf.tensor4d(lcgValues(2 * 8 * 8 * 1, 3), [2, 8, 8, 1]);
      const f = tf.variable(tf.tensor4d(lcgValues(9 * 4, 4), [3, 3, 1, 4]));
      const kernelsRun = async (native: boolean) => {
        const profile = await tf.profile(() => {
          const { grads } = tf.variableGrads(
            () =>
              tf.sum(
                native
                  ? conv2dWithBias(x, f, undefined, { strides: [1, 1], pad: 'same' })
                  : tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same' }),
              ) as tf.Scalar,
            [f],
          );
          tf.dispose(grads);
        });
        return profile.kernels.map((k) => k.name);
      };
      // The stock fused conv's gradient computes the input's gradient regardless; ours does not.
      expect(await kernelsRun(false)).toContain('Conv2DBackpropInput');
      const ours = await kernelsRun(true);
      expect(ours).toContain('Conv2DBackpropFilter');
      expect(ours).not.toContain('Conv2DBackpropInput');
      tf.dispose([x, f]);
    });
  },
);
