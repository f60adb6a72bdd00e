/**
 * Analytic gradients of the equivariant layers (what training uses) against central differences
 * on small random cases. tfjs has no float64, so this runs on the cpu backend in float32 with a
 * step of 1e-2: the layers are linear in their inputs and kernels (RMS pooling aside), so the
 * difference quotient is exact up to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/select.js';
import {
  CyclicPool,
  CyclicRoll,
  CyclicSlice,
  GroupConv2D,
  KaggleViews,
} from '../../../src/models/equivariant/index.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const EPS = 1e-2;

function close(analytic: number, numeric: number): boolean {
  return Math.abs(analytic - numeric) <= 2e-3 + 1e-2 * Math.abs(numeric);
}

/** Checks d(sum(f(x)·r))/dx at `probes` random coordinates. */
function checkInputGradient(f: (x: tf.Tensor) => tf.Tensor, shape: number[], seed: number, probes = 6): void {
  tf.tidy(() => {
    const x = tf.randomUniform(shape, -1, 1, 'float32', seed);
    const r = tf.randomUniform(f(x).shape, -1, 1, 'float32', seed + 1);
    const loss = (t: tf.Tensor) => tf.sum(tf.mul(f(t), r)) as tf.Scalar;
    const analytic = tf.grad(loss)(x).dataSync();
    const values = x.dataSync();
    for (let p = 0; p < probes; p++) {
      const i = (seed * 7919 + p * 104729) % values.length;
      const plus = Float32Array.from(values);
      const minus = Float32Array.from(values);
      plus[i]! += EPS;
      minus[i]! -= EPS;
      const numeric =
        (loss(tf.tensor(plus, shape)).dataSync()[0]! - loss(tf.tensor(minus, shape)).dataSync()[0]!) / (2 * EPS);
      expect(close(analytic[i]!, numeric), `input ${i}: analytic ${analytic[i]} numeric ${numeric}`).toBe(true);
    }
  });
}

const seedArb = fc.integer({ min: 1, max: 100_000 });

describe('input gradients match central differences', () => {
  it('CyclicSlice, CyclicRoll (maps and vectors), CyclicPool (mean, rms, concat), KaggleViews', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        checkInputGradient((x) => new CyclicSlice({ group: 'd4' }).apply(x) as tf.Tensor, [2, 4, 4, 2], seed);
        checkInputGradient((x) => new CyclicRoll({ group: 'd4' }).apply(x) as tf.Tensor, [8, 3, 3, 2], seed);
        checkInputGradient((x) => new CyclicRoll({ group: 'c4' }).apply(x) as tf.Tensor, [8, 3], seed);
        for (const mode of ['mean', 'rms', 'concat'] as const) {
          checkInputGradient((x) => new CyclicPool({ copies: 4, mode }).apply(x) as tf.Tensor, [8, 5], seed);
        }
        checkInputGradient(
          (x) => new KaggleViews({ cropSize: 9, part: 6 }).apply(x) as tf.Tensor,
          [1, 10, 10, 2],
          seed,
        );
      }),
      { numRuns: 3 },
    );
  });

  it('GroupConv2D, lifting and group input, p4 and p4m', () => {
    for (const [group, lifting] of [
      ['p4', true],
      ['p4m', false],
    ] as const) {
      const layer = new GroupConv2D({ filters: 2, group, lifting });
      const channels = lifting ? 2 : (group === 'p4m' ? 8 : 4) * 2;
      checkInputGradient((x) => layer.apply(x) as tf.Tensor, [1, 5, 5, channels], 11);
      layer.dispose();
    }
  });
});

describe('weight gradients match central differences', () => {
  it('GroupConv2D kernel and bias (the shared weights behind every transformed filter)', () => {
    fc.assert(
      fc.property(seedArb, fc.constantFrom('p4', 'p4m' as const), fc.boolean(), (seed, group, lifting) => {
        const layer = new GroupConv2D({ filters: 2, group, lifting });
        const channels = lifting ? 2 : (group === 'p4' ? 4 : 8) * 2;
        tf.tidy(() => {
          const x = tf.randomUniform([2, 5, 5, channels], -1, 1, 'float32', seed);
          const r = tf.randomUniform((layer.apply(x) as tf.Tensor).shape, -1, 1, 'float32', seed + 1);
          layer.setWeights([
            tf.randomUniform(layer.getWeights()[0]!.shape, -1, 1, 'float32', seed + 2),
            tf.randomUniform([2], -1, 1, 'float32', seed + 3),
          ]);
          const weights = layer.getWeights();
          const lossWith = (ws: tf.Tensor[]) => {
            layer.setWeights(ws);
            return tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)).dataSync()[0]!;
          };
          const { grads } = tf.variableGrads(
            () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar,
            layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
          );
          const analytic = layer.trainableWeights.map((w) =>
            grads[(w as unknown as { val: tf.Variable }).val.name]!.dataSync(),
          );
          weights.forEach((w, wi) => {
            const values = w.dataSync();
            for (let p = 0; p < 4; p++) {
              const i = (seed + p * 7919) % values.length;
              const shifted = (d: number) =>
                weights.map((v, vi) =>
                  vi === wi
                    ? tf.tensor(
                        Float32Array.from(values, (e, j) => (j === i ? e + d : e)),
                        w.shape,
                      )
                    : v,
                );
              const numeric = (lossWith(shifted(EPS)) - lossWith(shifted(-EPS))) / (2 * EPS);
              expect(
                close(analytic[wi]![i]!, numeric),
                `weight ${wi}[${i}]: analytic ${analytic[wi]![i]} numeric ${numeric}`,
              ).toBe(true);
            }
          });
          layer.setWeights(weights);
        });
        layer.dispose();
      }),
      { numRuns: 4 },
    );
  });
});
