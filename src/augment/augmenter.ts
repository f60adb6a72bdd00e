/**
 * Seeded, per-batch augmentation. Per-image random parameters are drawn in JS (a handful of
 * numbers per image) from Random.derive(seed, epoch, batchIndex); all pixel work is tensor ops:
 * one resampling op for the geometry and a few elementwise ops for brightness/contrast.
 * Labels are untouched: galaxy morphology does not depend on orientation.
 */
import * as tf from '@tensorflow/tfjs';
import { Random } from '../util/random.js';
import { D4_ELEMENTS, D4_IDENTITY } from './d4.js';
import { type GeometricParams, applyGeometry, assertNoEmptyCorners, centerCrop } from './affine.js';
import {
  type AugmentConfig,
  type ResolvedAugmentConfig,
  geometryRange,
  hasGeometry,
  resolveAugmentConfig,
} from './config.js';
import { adjustBrightnessContrast } from './photometric.js';

export interface ImageAugmentParams extends GeometricParams {
  /** Additive offset (image value units). */
  readonly brightness: number;
  /** Multiplicative factor about the per-channel mean. */
  readonly contrast: number;
}

function resolved(cfg: AugmentConfig | ResolvedAugmentConfig): ResolvedAugmentConfig {
  return resolveAugmentConfig(cfg);
}

/**
 * Draw parameters for n images. Every image consumes exactly 8 draws in a fixed order whatever the
 * config, so switching one augmentation on or off does not reshuffle the others' values.
 */
export function drawAugmentParams(
  cfgIn: AugmentConfig | ResolvedAugmentConfig,
  rng: Random,
  n: number,
): ImageAugmentParams[] {
  const cfg = resolved(cfgIn);
  const [zlo, zhi] = cfg.zoom;
  const out: ImageAugmentParams[] = [];
  for (let i = 0; i < n; i++) {
    const d4 = rng.int(0, 7);
    const angle = rng.uniform(0, 2 * Math.PI);
    const uz = rng.next();
    const tx = rng.uniform(-1, 1);
    const ty = rng.uniform(-1, 1);
    const mirror = rng.bool();
    const ub = rng.uniform(-1, 1);
    const uc = rng.uniform(-1, 1);
    out.push({
      d4: cfg.d4 ? D4_ELEMENTS[d4] : D4_IDENTITY,
      angle: cfg.rotate ? angle : 0,
      zoom: zlo === zhi ? zlo : Math.exp(Math.log(zlo) + uz * (Math.log(zhi) - Math.log(zlo))),
      tx: cfg.translate === 0 ? 0 : tx * cfg.translate,
      ty: cfg.translate === 0 ? 0 : ty * cfg.translate,
      mirror: cfg.mirror && mirror,
      brightness: cfg.brightness === 0 ? 0 : ub * cfg.brightness,
      contrast: cfg.contrast === 0 ? 1 : 1 + uc * cfg.contrast,
    });
  }
  return out;
}

function checkImages(images: tf.Tensor4D, cfg: ResolvedAugmentConfig): number {
  if (images.rank !== 4) throw new RangeError(`augment: images must be NHWC (rank 4), got rank ${images.rank}`);
  const [, h, w] = images.shape;
  if (h !== w) throw new RangeError(`augment: source images must be square, got ${h}×${w}`);
  if (cfg.outputSize > h)
    throw new RangeError(`augment: outputSize ${cfg.outputSize} exceeds the ${h}px source images`);
  return h;
}

/**
 * Augment with explicit per-image parameters: (N, S, S, C) → (N, out, out, C) float32.
 * Throws if the config's ranges (not just these parameters) could let empty corners in.
 */
export function applyAugmentParams(
  images: tf.Tensor4D,
  params: readonly ImageAugmentParams[],
  cfgIn: AugmentConfig | ResolvedAugmentConfig,
): tf.Tensor4D {
  const cfg = resolved(cfgIn);
  const size = checkImages(images, cfg);
  if (params.length !== images.shape[0])
    throw new RangeError(`augment: ${params.length} parameter sets for a batch of ${images.shape[0]}`);
  const geometric = hasGeometry(cfg);
  if (geometric) assertNoEmptyCorners(size, cfg.outputSize, geometryRange(cfg));
  return tf.tidy(() => {
    const x = images.dtype === 'float32' ? images : tf.cast(images, 'float32');
    let y = geometric
      ? applyGeometry(x, params, cfg.outputSize, {
          fillMode: cfg.fillMode,
          fillValue: cfg.fillValue,
          sampler: cfg.sampler,
        })
      : centerCrop(x, cfg.outputSize);
    if (cfg.brightness > 0 || cfg.contrast > 0) {
      y = adjustBrightnessContrast(
        y,
        params.map((p) => p.brightness),
        params.map((p) => p.contrast),
      );
    }
    return y;
  });
}

/** One batch: draws N parameter sets from rng, then {@link applyAugmentParams}. */
export function augmentBatch(
  images: tf.Tensor4D,
  cfg: AugmentConfig | ResolvedAugmentConfig,
  rng: Random,
): tf.Tensor4D {
  return applyAugmentParams(images, drawAugmentParams(cfg, rng, images.shape[0]), cfg);
}

/** Seeded training augmentation (D4, affine, photometric) applied to batches on the backend. */
export class Augmenter {
  /** The settings the augmenter draws from. */
  readonly config: ResolvedAugmentConfig;
  /** Seed of the draws: batch b of epoch e gets the same transforms on every run. */
  readonly seed: number;
  private readonly checkedSizes = new Set<number>();

  constructor(cfg: AugmentConfig, seed: number) {
    this.config = resolveAugmentConfig(cfg);
    if (!Number.isFinite(seed)) throw new RangeError(`Augmenter: seed must be a finite number, got ${seed}`);
    this.seed = seed;
  }

  /** The per-image parameters apply() would use; a pure function of (seed, epoch, batchIndex). */
  params(n: number, batchIndex: number, epoch: number): ImageAugmentParams[] {
    return drawAugmentParams(this.config, Random.derive(this.seed, epoch, batchIndex), n);
  }

  /** Check once per source size that the ranges keep empty corners out (throws if not). */
  assertSourceSize(sourceSize: number): void {
    if (this.checkedSizes.has(sourceSize)) return;
    if (this.config.outputSize > sourceSize) {
      throw new RangeError(`augment: outputSize ${this.config.outputSize} exceeds the ${sourceSize}px source images`);
    }
    if (hasGeometry(this.config)) assertNoEmptyCorners(sourceSize, this.config.outputSize, geometryRange(this.config));
    this.checkedSizes.add(sourceSize);
  }

  /** Augment one training batch; the caller owns (and disposes) the returned tensor. */
  apply(images: tf.Tensor4D, batchIndex: number, epoch: number): tf.Tensor4D {
    this.assertSourceSize(images.shape[1]);
    return applyAugmentParams(images, this.params(images.shape[0], batchIndex, epoch), this.config);
  }

  /** The deterministic eval-time counterpart: the same centre crop, no randomness. */
  evaluate(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() =>
      centerCrop(images.dtype === 'float32' ? images : tf.cast(images, 'float32'), this.config.outputSize),
    );
  }
}
