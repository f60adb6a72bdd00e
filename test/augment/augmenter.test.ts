import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_GEOMETRY, centerCrop } from '../../src/augment/affine.js';
import {
  Augmenter,
  type ImageAugmentParams,
  applyAugmentParams,
  augmentBatch,
  drawAugmentParams,
} from '../../src/augment/augmenter.js';
import { adjustBrightnessContrast } from '../../src/augment/photometric.js';
import { Random } from '../../src/util/random.js';
import { maxAbsDiff, randomImages, useCpu } from './helpers.js';

beforeAll(useCpu);

const FULL = {
  outputSize: 16,
  d4: true,
  rotate: true,
  zoom: 1.3,
  translate: 2,
  mirror: true,
  brightness: 0.1,
  contrast: 0.2,
};

describe('Augmenter', () => {
  it('is deterministic for the same seed/epoch/batch and differs otherwise', () => {
    const x = randomImages(4, 36, 3, 1);
    const a = new Augmenter(FULL, 42);
    const b = new Augmenter(FULL, 42);
    const y1 = a.apply(x, 3, 1);
    const y2 = b.apply(x, 3, 1);
    expect(y1.shape).toEqual([4, 16, 16, 3]);
    expect(maxAbsDiff(y1, y2)).toBe(0);
    const others = [new Augmenter(FULL, 43).apply(x, 3, 1), a.apply(x, 4, 1), a.apply(x, 3, 2)];
    for (const o of others) expect(maxAbsDiff(o, y1)).toBeGreaterThan(1e-3);
    tf.dispose([x, y1, y2, ...others]);
  });

  it('draws parameters from Random.derive(seed, epoch, batchIndex), independently per image', () => {
    const aug = new Augmenter(FULL, 9);
    const p = aug.params(5, 2, 7);
    expect(p).toEqual(drawAugmentParams(FULL, Random.derive(9, 7, 2), 5));
    expect(new Set(p.map((q) => q.angle)).size).toBe(5);
    for (const q of p) {
      expect(q.angle).toBeGreaterThanOrEqual(0);
      expect(q.angle).toBeLessThan(2 * Math.PI);
      expect(q.zoom).toBeGreaterThanOrEqual(1 / 1.3 - 1e-12);
      expect(q.zoom).toBeLessThanOrEqual(1.3);
      expect(Math.abs(q.tx)).toBeLessThanOrEqual(2);
      expect(Math.abs(q.brightness)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(q.contrast - 1)).toBeLessThanOrEqual(0.2);
    }
  });

  it('zoom is log-uniform: log-zoom is symmetric about 0 with the right spread', () => {
    const logs = drawAugmentParams({ outputSize: 8, zoom: 1.3 }, new Random(1), 4000).map((q) => Math.log(q.zoom));
    const mean = logs.reduce((s, v) => s + v, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((s, v) => s + (v - mean) ** 2, 0) / logs.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(sd).toBeCloseTo(Math.log(1.3) / Math.sqrt(3), 2); // uniform on [−L, L]
  });

  it('disabled augmentations leave their parameters at the identity; others keep their stream', () => {
    const p = drawAugmentParams({ outputSize: 8 }, new Random(5), 3);
    for (const q of p) {
      expect(q).toEqual({ ...IDENTITY_GEOMETRY, brightness: 0, contrast: 1 });
    }
    const onlyRotate = drawAugmentParams({ outputSize: 8, rotate: true }, new Random(5), 3);
    const all = drawAugmentParams({ outputSize: 8, rotate: true, zoom: 1.2, brightness: 1 }, new Random(5), 3);
    expect(onlyRotate.map((q) => q.angle)).toEqual(all.map((q) => q.angle));
  });

  it('with nothing enabled it is the centre crop (and evaluate() is the same geometry)', () => {
    const x = randomImages(2, 20, 3, 3);
    const aug = new Augmenter({ outputSize: 12 }, 1);
    const y = aug.apply(x, 0, 0);
    const c = centerCrop(x, 12);
    const e = aug.evaluate(x);
    expect(maxAbsDiff(y, c)).toBe(0);
    expect(maxAbsDiff(e, c)).toBe(0);
    tf.dispose([x, y, c, e]);
  });

  it('keeps empty corners out: constant image, full ranges, many batches', () => {
    const cfg = {
      outputSize: 14,
      d4: true,
      rotate: true,
      zoom: 1.3,
      translate: 2,
      mirror: true,
      fillMode: 'constant' as const,
      fillValue: -1,
    };
    const aug = new Augmenter(cfg, 5);
    const x = tf.fill([16, 32, 32, 1], 0.5) as tf.Tensor4D;
    for (let batch = 0; batch < 4; batch++) {
      const y = aug.apply(x, batch, 0);
      const [lo, hi] = [tf.min(y).dataSync()[0], tf.max(y).dataSync()[0]];
      expect(lo).toBeGreaterThan(0.5 - 1e-5);
      expect(hi).toBeLessThan(0.5 + 1e-5);
      y.dispose();
    }
    x.dispose();
  });

  it('throws a clear error when the source is too small for the configured ranges', () => {
    const aug = new Augmenter({ outputSize: 24, rotate: true }, 1);
    const x = tf.zeros([1, 30, 30, 1]) as tf.Tensor4D;
    expect(() => aug.apply(x, 0, 0)).toThrow(/empty corners.*outputSize ≤ 20.*at least 34px/);
    expect(() => new Augmenter({ outputSize: 40 }, 1).apply(x, 0, 0)).toThrow(/exceeds the 30px/);
    const rect = tf.zeros([1, 30, 31, 1]) as tf.Tensor4D;
    expect(() => augmentBatch(rect, { outputSize: 8 }, new Random(1))).toThrow(/square/);
    tf.dispose([x, rect]);
  });

  it('accepts uint8/int32 input and returns float32', () => {
    const x = tf.tidy(() => tf.cast(tf.mul(randomImages(2, 20, 3, 8), 255), 'int32')) as tf.Tensor4D;
    const y = new Augmenter({ outputSize: 12, rotate: true }, 1).apply(x, 0, 0);
    expect(y.dtype).toBe('float32');
    tf.dispose([x, y]);
  });

  it('leaks no tensors', () => {
    const x = randomImages(3, 36, 3, 2);
    const aug = new Augmenter(FULL, 1);
    aug.apply(x, 0, 0).dispose(); // warm-up (backend-level caches)
    const before = tf.memory().numTensors;
    for (let b = 0; b < 3; b++) aug.apply(x, b, 0).dispose();
    aug.evaluate(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('brightness and contrast', () => {
  it('brightness adds a per-image constant; contrast scales deviations about each channel mean', () => {
    const x = randomImages(2, 6, 3, 4);
    const y = adjustBrightnessContrast(x, [0.25, -0.1], [1, 1]);
    const d = tf.sub(y, x);
    const [d0, d1] = [d.slice([0], [1]), d.slice([1], [1])];
    expect(tf.max(tf.abs(tf.sub(d0, 0.25))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(tf.add(d1, 0.1))).dataSync()[0]).toBeLessThan(1e-6);

    const z = adjustBrightnessContrast(x, [0, 0], [1.5, 0.5]);
    const mx = tf.mean(x, [1, 2], true);
    const mz = tf.mean(z, [1, 2], true);
    expect(maxAbsDiff(mx, mz)).toBeLessThan(1e-5); // means kept
    const devX = tf.sub(x, mx);
    const devZ = tf.sub(z, mz);
    const want = tf.mul(devX, tf.tensor4d([1.5, 0.5], [2, 1, 1, 1]));
    expect(maxAbsDiff(devZ, want)).toBeLessThan(1e-5);
    tf.dispose([x, y, d, d0, d1, z, mx, mz, devX, devZ, want]);
  });

  it('is applied after the geometry with the drawn per-image values', () => {
    const x = randomImages(3, 20, 3, 6);
    const cfg = { outputSize: 10, brightness: 0.3, contrast: 0.4 };
    const params: ImageAugmentParams[] = drawAugmentParams(cfg, new Random(2), 3);
    const y = applyAugmentParams(x, params, cfg);
    const want = tf.tidy(() =>
      adjustBrightnessContrast(
        centerCrop(x, 10),
        params.map((p) => p.brightness),
        params.map((p) => p.contrast),
      ),
    );
    expect(maxAbsDiff(y, want)).toBe(0);
    tf.dispose([x, y, want]);
  });
});
