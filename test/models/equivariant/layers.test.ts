/**
 * Every equivariant layer against its slow reference (test/models/equivariant/reference.ts) on
 * random inputs, the group's arithmetic, and the equivariance each layer promises.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/select.js';
import {
  compose,
  CyclicPool,
  CyclicRoll,
  CyclicSlice,
  groupElements,
  GroupConv2D,
  GroupPool,
  inverse,
  KaggleViews,
  RMS_EPSILON,
  transformArray,
  transformSpatial,
  VIEW_COUNT,
} from '../../../src/models/equivariant/index.js';
import {
  maxAbsDiff,
  refCyclicPool,
  refCyclicRoll,
  refCyclicSlice,
  refGroupConv,
  refViews,
  type Batch,
} from './reference.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const seedArb = fc.integer({ min: 1, max: 1_000_000 });
const RUNS = { numRuns: 6 };

function random(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

function run(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  return layer.apply(x) as tf.Tensor;
}

describe('D4 group', () => {
  it('is a group: closed, identity 0, inverses, associative', () => {
    const all = groupElements('d4');
    for (const a of all) {
      expect(compose(0, a)).toBe(a);
      expect(compose(a, inverse(a))).toBe(0);
      for (const b of all) for (const c of all) expect(compose(compose(a, b), c)).toBe(compose(a, compose(b, c)));
    }
    for (const a of groupElements('c4')) for (const b of groupElements('c4')) expect(compose(a, b)).toBeLessThan(4);
  });

  it('transformSpatial agrees with the array reference and composes by the table', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 7 }),
        (seed, size, a, b) => {
          tf.tidy(() => {
            const x = random([size, size], seed);
            const arr = x.arraySync() as number[][];
            expect(maxAbsDiff(transformSpatial(x, a, 0).arraySync(), transformArray(arr, a))).toBe(0);
            const twice = transformSpatial(transformSpatial(x, b, 0), a, 0);
            expect(maxAbsDiff(twice.arraySync(), transformSpatial(x, compose(a, b), 0).arraySync())).toBe(0);
          });
        },
      ),
      RUNS,
    );
  });
});

describe('cyclic slice, roll and pool against their references', () => {
  it('CyclicSlice stacks T_g⁻¹(x) copy-major', () => {
    fc.assert(
      fc.property(seedArb, fc.constantFrom('c4', 'd4' as const), (seed, group) => {
        tf.tidy(() => {
          const x = random([2, 5, 5, 2], seed);
          const y = run(new CyclicSlice({ group }), x);
          expect(y.shape).toEqual([2 * (group === 'c4' ? 4 : 8), 5, 5, 2]);
          expect(maxAbsDiff(y.arraySync(), refCyclicSlice(x.arraySync() as Batch, groupElements(group)))).toBe(0);
        });
      }),
      RUNS,
    );
  });

  it('CyclicRoll on feature maps and on vectors', () => {
    fc.assert(
      fc.property(seedArb, fc.constantFrom('c4', 'd4' as const), fc.boolean(), (seed, group, spatial) => {
        tf.tidy(() => {
          const g = group === 'c4' ? 4 : 8;
          const x = random(spatial ? [g * 2, 4, 4, 3] : [g * 2, 3], seed);
          const y = run(new CyclicRoll({ group }), x);
          expect(y.shape[y.rank - 1]).toBe(3 * g);
          expect(maxAbsDiff(y.arraySync(), refCyclicRoll(x.arraySync() as Batch, groupElements(group)))).toBe(0);
        });
      }),
      RUNS,
    );
  });

  it('CyclicPool mean, rms and concat', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.constantFrom('mean', 'rms', 'concat' as const),
        fc.constantFrom(4, 8, 16),
        (seed, mode, copies) => {
          tf.tidy(() => {
            const x = random([copies * 3, 5], seed);
            const y = run(new CyclicPool({ copies, mode }), x);
            expect(
              maxAbsDiff(y.arraySync(), refCyclicPool(x.arraySync() as number[][], copies, mode, RMS_EPSILON)),
            ).toBeLessThan(1e-6);
          });
        },
      ),
      RUNS,
    );
  });
});

describe('KaggleViews', () => {
  it('agrees with resampling each crop then turning it', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.constantFrom([12, 12, 8], [12, 10, 9], [11, 11, 7], [16, 12, 6]),
        (seed, [crop, cropSize, part]) => {
          tf.tidy(() => {
            const x = random([2, 16, 16, 2], seed);
            const y = run(new KaggleViews({ crop, cropSize, part }), x);
            expect(y.shape).toEqual([2 * VIEW_COUNT, part, part, 2]);
            const imgs = x.arraySync() as Batch;
            const views = imgs.map((img) => refViews(img, crop!, cropSize!, part!));
            const expected = Array.from({ length: VIEW_COUNT }, (_, v) => views.map((vs) => vs[v]!)).flat();
            expect(maxAbsDiff(y.arraySync(), expected)).toBeLessThan(1e-5);
          });
        },
      ),
      RUNS,
    );
  });

  it('a quarter turn or a mirror of the input permutes the 16 views', () => {
    tf.tidy(() => {
      const x = random([1, 14, 14, 1], 7);
      const layer = new KaggleViews({ cropSize: 12, part: 8 });
      const views = run(layer, x).arraySync() as Batch;
      for (const h of groupElements('d4')) {
        const turned = run(layer, transformSpatial(x, h, 1)).arraySync() as Batch;
        for (const view of turned) {
          const best = Math.min(...views.map((v) => maxAbsDiff(v, view)));
          expect(best).toBeLessThan(1e-5);
        }
      }
    });
  });
});

describe('group convolution and pooling', () => {
  it('GroupConv2D agrees with loops over transformed kernels (lifting and group input)', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.constantFrom('p4', 'p4m' as const),
        fc.boolean(),
        fc.constantFrom(1, 3),
        (seed, group, lifting, kernelSize) => {
          const order = group === 'p4' ? 4 : 8;
          const layer = new GroupConv2D({ filters: 2, kernelSize, group, lifting });
          tf.tidy(() => {
            const x = random([1, 5, 5, lifting ? 2 : 2 * order], seed);
            const y = run(layer, x);
            layer.setWeights([random([kernelSize, kernelSize, x.shape[3]!, 2], seed + 1), random([2], seed + 2)]);
            const z = run(layer, x);
            expect(y.shape).toEqual([1, 5, 5, 2 * order]);
            const [kernel, bias] = layer.getWeights().map((w) => w.arraySync());
            const expected = refGroupConv(
              x.arraySync() as Batch,
              kernel as number[][][][],
              bias as number[],
              groupElements(group),
              lifting,
            );
            expect(maxAbsDiff(z.arraySync(), expected)).toBeLessThan(1e-4);
          });
          layer.dispose();
        },
      ),
      RUNS,
    );
  });

  it('GroupConv2D is equivariant: T_h of the input moves orientation g to h∘g and turns every map by h', () => {
    for (const group of ['p4', 'p4m'] as const) {
      const elements = groupElements(group);
      const lift = new GroupConv2D({ filters: 3, group, lifting: true });
      const conv = new GroupConv2D({ filters: 2, group });
      tf.tidy(() => {
        const x = random([2, 7, 7, 2], 3);
        const f = (t: tf.Tensor) => run(conv, run(lift, t));
        const y = f(x);
        for (const h of elements) {
          const got = f(transformSpatial(x, h, 1));
          // expected orientation g of the output: T_h applied to orientation h⁻¹∘g of y
          const fields = tf.split(y, elements.length, 3);
          const expected = tf.concat(
            elements.map((g) => transformSpatial(fields[compose(inverse(h), g)]!, h, 1)),
            3,
          );
          expect(maxAbsDiff(got.arraySync(), expected.arraySync())).toBeLessThan(1e-4);
        }
      });
      lift.dispose();
      conv.dispose();
    }
  });

  it('GroupPool reduces each field over its orientations', () => {
    tf.tidy(() => {
      const x = random([2, 3, 3, 8 * 2], 5);
      const arr = x.arraySync() as Batch;
      for (const mode of ['max', 'mean'] as const) {
        const y = run(new GroupPool({ group: 'p4m', mode }), x);
        const expected = arr.map((img) =>
          img.map((row) =>
            row.map((px) =>
              [0, 1].map((c) => {
                const values = Array.from({ length: 8 }, (_, g) => px[g * 2 + c]!);
                return mode === 'max' ? Math.max(...values) : values.reduce((a, b) => a + b) / 8;
              }),
            ),
          ),
        );
        expect(maxAbsDiff(y.arraySync(), expected)).toBeLessThan(1e-6);
      }
    });
  });

  it('refuses kernels without a centre and channels that are not whole fields', () => {
    expect(() => new GroupConv2D({ filters: 2, kernelSize: 2 })).toThrow(/kernelSize must be odd, got 2/);
    const layer = new GroupConv2D({ filters: 2, group: 'p4' });
    expect(() => layer.apply(tf.input({ shape: [5, 5, 6] }))).toThrow(/6 input channels are not 4 orientations/);
    expect(() => new CyclicPool({ copies: 0 })).toThrow(/copies must be a positive integer/);
    expect(() => new KaggleViews({ crop: 20 }).apply(tf.input({ shape: [16, 16, 1] }))).toThrow(
      /crop 20 is larger than the 16-pixel input/,
    );
  });
});
