import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GeometricParams,
  IDENTITY_GEOMETRY,
  type SampleOptions,
  affineRow,
  applyGeometry,
  assertNoEmptyCorners,
  centerCrop,
  maxSafeOutputSize,
  minSafeSourceSize,
  resolveSampler,
  sampleAffine,
  transformKernelStatus,
} from '../../src/augment/affine.js';
import { D4_ELEMENTS, applyD4 } from '../../src/augment/d4.js';
import { maxAbsDiff, randomImages, useCpu } from './helpers.js';

beforeAll(useCpu);

const geo = (p: Partial<GeometricParams>): GeometricParams => ({ ...IDENTITY_GEOMETRY, ...p });

describe('backend support for the Transform kernel', () => {
  it('cpu has it but only per image; auto still picks it there (faster than gather)', () => {
    expect(transformKernelStatus('cpu')).toBe('per-image');
    expect(resolveSampler('auto', 'cpu')).toBe('kernel');
    expect(resolveSampler('gather', 'cpu')).toBe('gather');
    expect(resolveSampler('kernel', 'cpu')).toBe('kernel');
  });

  it('canary: tfjs-backend-cpu Transform still fills only the first image of a batch', () => {
    // If this starts failing, upstream fixed the kernel and cpu could use it batched.
    const out = tf.tidy(() => {
      const x = tf.ones([3, 4, 4, 1]) as tf.Tensor4D;
      const t = tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0], [1, 8]).tile([3, 1]) as tf.Tensor2D;
      return tf.image.transform(x, t, 'bilinear', 'constant', 0).sum([1, 2, 3]);
    });
    expect(Array.from(out.dataSync())).toEqual([16, 0, 0]);
    out.dispose();
  });
});

/** Random affine rows that also reach outside the image (exercising fill handling). */
const rowArb = fc
  .record({
    a: fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
    s: fc.double({ min: 0.5, max: 2, noNaN: true }),
    tx: fc.double({ min: -4, max: 4, noNaN: true }),
    ty: fc.double({ min: -4, max: 4, noNaN: true }),
  })
  .map(({ a, s, tx, ty }) => [
    s * Math.cos(a),
    -s * Math.sin(a),
    5 + tx,
    s * Math.sin(a),
    s * Math.cos(a),
    4 + ty,
    0,
    0,
  ]);

describe('gather sampler ≡ Transform kernel', () => {
  it('matches the cpu kernel (per image) for random maps, both fill modes', () => {
    const x = randomImages(3, 9, 2, 7);
    fc.assert(
      fc.property(
        fc.array(rowArb, { minLength: 3, maxLength: 3 }),
        fc.constantFrom('constant' as const, 'nearest' as const),
        (rows, fillMode) => {
          const g = sampleAffine(x, rows, { outputShape: [7, 8], fillMode, fillValue: -0.5, sampler: 'gather' });
          const k = sampleAffine(x, rows, { outputShape: [7, 8], fillMode, fillValue: -0.5, sampler: 'kernel' });
          const d = maxAbsDiff(g, k);
          tf.dispose([g, k]);
          return d < 1e-4;
        },
      ),
      { numRuns: 25 },
    );
    x.dispose();
  });

  describe('on wasm', () => {
    let wasm = false;
    beforeAll(async () => {
      wasm = await tf.setBackend('wasm').catch(() => false);
    });
    afterAll(useCpu);

    it('wasm kernel is batched and matches the gather sampler', (ctx) => {
      if (!wasm) ctx.skip();
      expect(transformKernelStatus('wasm')).toBe('batched');
      expect(resolveSampler('auto')).toBe('kernel');
      const x = randomImages(4, 10, 3, 11);
      const rows = fc.sample(rowArb, { numRuns: 4, seed: 3 });
      for (const fillMode of ['constant', 'nearest'] as const) {
        const g = sampleAffine(x, rows, { outputShape: [8, 8], fillMode, sampler: 'gather' });
        const k = sampleAffine(x, rows, { outputShape: [8, 8], fillMode, sampler: 'kernel' });
        expect(maxAbsDiff(g, k)).toBeLessThan(1e-4);
        tf.dispose([g, k]);
      }
      x.dispose();
    });
  });
});

describe.each(['kernel', 'gather'] as const)('geometry (%s sampler)', (sampler) => {
  const ag = (x: tf.Tensor4D, p: GeometricParams[], o: number, opts: Omit<SampleOptions, 'outputShape'> = {}) =>
    applyGeometry(x, p, o, { sampler, ...opts });

  for (const [s, o] of [
    [12, 8],
    [11, 8],
    [12, 7],
    [9, 9],
  ] as const) {
    it(`angle 0, zoom 1, no shift = centre crop exactly (${s}→${o})`, () => {
      const x = randomImages(2, s, 3, s * o);
      const a = ag(x, [IDENTITY_GEOMETRY, IDENTITY_GEOMETRY], o);
      const b = centerCrop(x, o);
      expect(a.shape).toEqual([2, o, o, 3]);
      expect(maxAbsDiff(a, b)).toBe(0);
      tf.dispose([a, b, x]);
    });
  }

  it('rotation by ~0 and zoom ~1 stay within interpolation error of the centre crop', () => {
    const x = randomImages(1, 16, 1, 5);
    const a = ag(x, [geo({ angle: 1e-4, zoom: 1 + 1e-4 })], 10);
    const b = centerCrop(x, 10);
    expect(maxAbsDiff(a, b)).toBeLessThan(5e-3);
    tf.dispose([a, b, x]);
  });

  it('D4 elements folded into the affine map are exact (all 8, even and odd margins)', () => {
    for (const [s, o] of [
      [12, 8],
      [11, 8],
      [10, 7],
    ] as const) {
      const x = randomImages(2, s, 2, s + o);
      const crop = centerCrop(x, o);
      for (const e of D4_ELEMENTS) {
        const a = ag(x, [geo({ d4: e }), geo({ d4: e })], o);
        const b = applyD4(crop, e);
        expect(maxAbsDiff(a, b)).toBe(0);
        tf.dispose([a, b]);
      }
      tf.dispose([crop, x]);
    }
  });

  it('mirror equals the exact horizontal flip', () => {
    const x = randomImages(1, 10, 3, 1);
    const a = ag(x, [geo({ mirror: true })], 6);
    const b = tf.tidy(() => applyD4(centerCrop(x, 6), { rotations: 0, flip: true }));
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([a, b, x]);
  });

  it('rotation by 90° (and 180°, 270°) through the sampler matches the exact D4 rotation', () => {
    const x = randomImages(2, 14, 3, 2);
    const crop = centerCrop(x, 8);
    for (const r of [1, 2, 3] as const) {
      const a = ag(x, [geo({ angle: (r * Math.PI) / 2 }), geo({ angle: (r * Math.PI) / 2 })], 8);
      const b = applyD4(crop, { rotations: r, flip: false });
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
      tf.dispose([a, b]);
    }
    tf.dispose([crop, x]);
  });

  it('integer translation shifts the crop window exactly', () => {
    const x = randomImages(1, 12, 1, 9);
    const a = ag(x, [geo({ tx: 2, ty: -1 })], 6);
    const b = tf.slice(x, [0, 3 - 1, 3 + 2, 0], [1, 6, 6, 1]);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([a, b, x]);
  });

  it('zoom 2 magnifies: a linear ramp keeps its centre and halves its slope', () => {
    const s = 16;
    const ramp = tf.tidy(() => tf.range(0, s).reshape([1, 1, s, 1]).tile([1, s, 1, 1]) as tf.Tensor4D);
    const out = ag(ramp, [geo({ zoom: 2 })], 8);
    const row = Array.from(out.slice([0, 0, 0, 0], [1, 1, 8, 1]).dataSync());
    // output pixel j reads source x = 7.5 + (j − 3.5)/2
    row.forEach((v, j) => expect(v).toBeCloseTo(7.5 + (j - 3.5) / 2, 5));
    tf.dispose([ramp, out]);
  });

  it('affineRow follows tf.image.transform conventions (identity row for equal sizes)', () => {
    expect(affineRow(IDENTITY_GEOMETRY, [8, 8], [8, 8])).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    expect(affineRow(IDENTITY_GEOMETRY, [10, 12], [6, 6])).toEqual([1, 0, 3, 0, 1, 2, 0, 0]);
  });

  it('centerCrop rejects outputs larger than the source', () => {
    const x = randomImages(1, 4, 1, 1);
    expect(() => centerCrop(x, 5)).toThrow(/exceeds/);
    x.dispose();
  });
});

describe.each(['kernel', 'gather'] as const)('no empty corners (%s sampler)', (sampler) => {
  const ag = (x: tf.Tensor4D, p: GeometricParams[], o: number, opts: Omit<SampleOptions, 'outputShape'> = {}) =>
    applyGeometry(x, p, o, { sampler, ...opts });

  it('max safe sizes: exact for D4-only, /√2 for rotation, shrinks with zoom-out and translation', () => {
    expect(maxSafeOutputSize(80, { rotate: false, zoomMin: 1, translate: 0 })).toBe(80);
    expect(maxSafeOutputSize(80, { rotate: true, zoomMin: 1, translate: 0 })).toBe(56);
    expect(maxSafeOutputSize(80, { rotate: true, zoomMin: 1 / 1.3, translate: 4 })).toBe(39);
    expect(minSafeSourceSize(64, { rotate: true, zoomMin: 1 / 1.3, translate: 4 })).toBe(126);
    expect(minSafeSourceSize(64, { rotate: true, zoomMin: 1, translate: 0 })).toBe(92);
  });

  it('throws a clear error when the ranges could reach outside the source', () => {
    expect(() => assertNoEmptyCorners(80, 64, { rotate: true, zoomMin: 1, translate: 0 })).toThrow(
      /outputSize 64 would let empty corners in.*rotate=true.*outputSize ≤ 56.*at least 92px/,
    );
    expect(() => assertNoEmptyCorners(80, 56, { rotate: true, zoomMin: 1, translate: 0 })).not.toThrow();
  });

  it('at the safe limit, worst-case parameters sample no fill value', () => {
    const range = { rotate: true, zoomMin: 1 / 1.3, translate: 3 };
    for (const s of [40, 41]) {
      const o = maxSafeOutputSize(s, range);
      assertNoEmptyCorners(s, o, range);
      const x = tf.ones([1, s, s, 1]) as tf.Tensor4D;
      const params = fc.sample(
        fc
          .record({
            angle: fc.oneof(
              fc.constantFrom(Math.PI / 4, (3 * Math.PI) / 4, -Math.PI / 4, 0),
              fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
            ),
            tx: fc.constantFrom(-3, 3),
            ty: fc.constantFrom(-3, 3),
            mirror: fc.boolean(),
            d4: fc.constantFrom(...D4_ELEMENTS),
          })
          .map((p) => geo({ ...p, zoom: 1 / 1.3 })),
        { numRuns: 24, seed: s },
      );
      const xs = tf.tile(x, [params.length, 1, 1, 1]) as tf.Tensor4D;
      const out = ag(xs, params, o, { fillMode: 'constant', fillValue: 0 });
      expect(tf.min(out).dataSync()[0]).toBeGreaterThan(1 - 1e-4);
      tf.dispose([x, xs, out]);
    }
  });

  it('just past the limit, the worst case does sample fill (the bound is tight)', () => {
    const range = { rotate: true, zoomMin: 1, translate: 0 };
    const o = maxSafeOutputSize(40, range) + 2;
    const x = tf.ones([1, 40, 40, 1]) as tf.Tensor4D;
    const out = ag(x, [geo({ angle: Math.PI / 4 })], o, { fillMode: 'constant', fillValue: 0 });
    expect(tf.min(out).dataSync()[0]).toBeLessThan(0.99);
    tf.dispose([x, out]);
  });
});

describe('resources', () => {
  it('leaks no tensors (gather and kernel samplers)', () => {
    const x = randomImages(2, 10, 3, 4);
    const before = tf.memory().numTensors;
    for (const sampler of ['gather', 'kernel'] as const) {
      for (const fillMode of ['constant', 'nearest'] as const) {
        applyGeometry(x, [geo({ angle: 0.3 }), geo({ zoom: 1.2 })], 6, { sampler, fillMode }).dispose();
      }
    }
    centerCrop(x, 6).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
