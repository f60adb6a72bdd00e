/**
 * Test-time augmentation: every image is shown to every member under several views and the
 * predictions are averaged. Views are D4 elements (exact pixel permutations) optionally combined
 * with a non-right-angle rotation and a zoom (bilinear resampling from the full preprocessed image,
 * through src/augment's affine sampler, so no empty corners reach the network when the source is
 * larger than the network input).
 */
import * as tf from '@tensorflow/tfjs';
import { type D4Element, D4_ELEMENTS, applyD4, applyGeometry, centerCrop, d4Index } from '../augment/index.js';

/** One test-time view of an image. */
export interface TtaView {
  /** Exact D4 element (rotations by multiples of 90°, horizontal mirror), applied last. */
  readonly d4: D4Element;
  /** Remaining rotation in radians, counter-clockwise as displayed, |angle| < π/4 (0 for none). */
  readonly angle: number;
  /** Magnification (> 1 shows a smaller region of the source); 1 for none. */
  readonly zoom: number;
  /** `r90`, `r0f`, `r30z1.1`, … */
  readonly label: string;
}

/** Rotations (degrees, counter-clockwise) × optional mirror × zooms. */
export interface TtaGrid {
  /** Rotations in degrees, counter-clockwise (default [0]). */
  readonly rotations?: readonly number[];
  /** Also show every rotation mirrored. */
  readonly flips?: boolean;
  /** Zoom factors (default [1]). */
  readonly zooms?: readonly number[];
}

/**
 * `none` (1 view), `flip` (identity + mirror), `rot4` (4 right-angle rotations), `d4` (all 8
 * symmetries of the square), or a grid of rotations × flips × zooms.
 */
export type TtaSpec = 'none' | 'flip' | 'rot4' | 'd4' | TtaGrid;
/** The named test-time augmentations. */
export const TTA_NAMES = ['none', 'flip', 'rot4', 'd4'] as const;

function view(d4: D4Element, angle = 0, zoom = 1, degrees?: number): TtaView {
  const deg = degrees ?? d4.rotations * 90;
  const label = `r${Number(deg.toFixed(3))}${d4.flip ? 'f' : ''}${zoom !== 1 ? `z${zoom}` : ''}`;
  return Object.freeze({ d4, angle, zoom, label });
}

/** The views of a TTA spec, identity first where it is included. */
export function resolveTta(spec: TtaSpec = 'none'): TtaView[] {
  if (typeof spec === 'string') {
    switch (spec) {
      case 'none':
        return [view(D4_ELEMENTS[0])];
      case 'flip':
        return [view(D4_ELEMENTS[0]), view(D4_ELEMENTS[4])];
      case 'rot4':
        return D4_ELEMENTS.slice(0, 4).map((e) => view(e));
      case 'd4':
        return D4_ELEMENTS.map((e) => view(e));
      default:
        throw new RangeError(
          `unknown TTA ${JSON.stringify(spec)}: use ${TTA_NAMES.join(', ')} or { rotations, flips, zooms }`,
        );
    }
  }
  if (!spec || typeof spec !== 'object')
    throw new RangeError(`TTA must be ${TTA_NAMES.join(' | ')} or { rotations, flips, zooms }`);
  const rotations = spec.rotations ?? [0];
  const zooms = spec.zooms ?? [1];
  if (rotations.length === 0 || zooms.length === 0) throw new RangeError('TTA rotations and zooms must not be empty');
  for (const r of rotations)
    if (!Number.isFinite(r)) throw new RangeError(`TTA rotation ${r} is not a finite number of degrees`);
  for (const z of zooms)
    if (!Number.isFinite(z) || z <= 0) throw new RangeError(`TTA zoom ${z} must be a positive number`);
  const views: TtaView[] = [];
  for (const zoom of zooms) {
    for (const flip of spec.flips ? [false, true] : [false]) {
      for (const degrees of rotations) {
        // split into the nearest right angle (exact D4) and a small residual rotation
        const quarter = Math.round(degrees / 90);
        const residual = degrees - quarter * 90;
        const rotations4 = (((quarter % 4) + 4) % 4) as 0 | 1 | 2 | 3;
        const d4 = D4_ELEMENTS[d4Index({ rotations: rotations4, flip })];
        views.push(view(d4, Math.abs(residual) < 1e-9 ? 0 : (residual * Math.PI) / 180, zoom, degrees));
      }
    }
  }
  const seen = new Set<string>();
  for (const v of views) {
    const key = `${d4Index(v.d4)}/${v.angle}/${v.zoom}`;
    if (seen.has(key)) throw new RangeError(`TTA view ${v.label} appears twice`);
    seen.add(key);
  }
  return views;
}

/** True when the view is an exact pixel permutation of the centre crop (no resampling). */
export function isExactView(v: TtaView): boolean {
  return v.angle === 0 && v.zoom === 1;
}

/**
 * All views of a batch, view-major: (V·N, size, size, C) where rows [v·N, (v+1)·N) are view v.
 * `images` are the preprocessed images (N, S, S, C) as float; `size` ≤ S is the network input
 * (the centre crop the training pipeline evaluates on). Exact views crop then permute pixels;
 * the others resample once from the full source (edge pixels repeat beyond it).
 */
export function ttaViews(images: tf.Tensor4D, views: readonly TtaView[], size: number): tf.Tensor4D {
  if (views.length === 0) throw new RangeError('no TTA views');
  return tf.tidy(() => {
    const [n] = images.shape;
    const crop = views.some(isExactView) ? centerCrop(images, size) : null;
    const parts = views.map((v) =>
      isExactView(v)
        ? applyD4(crop!, v.d4)
        : applyGeometry(
            images,
            new Array(n).fill({ angle: v.angle, zoom: v.zoom, tx: 0, ty: 0, mirror: false, d4: v.d4 }),
            size,
          ),
    );
    return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  });
}

/** A JSON-friendly description of a TTA spec (what ensemble.json stores). */
export function ttaName(spec: TtaSpec): string {
  return typeof spec === 'string'
    ? spec
    : resolveTta(spec)
        .map((v) => v.label)
        .join(',');
}
