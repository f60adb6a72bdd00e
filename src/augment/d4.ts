/**
 * The dihedral group D4: the 8 symmetries of a square (4 rotations by multiples of 90°, each with
 * or without a mirror). On square pixel grids these are exact pixel permutations, so they are
 * implemented with transpose + reverse only (no interpolation). Used for training augmentation
 * and for 8-fold test-time augmentation.
 *
 * Conventions (image displayed with row 0 at the top, NHWC tensors):
 * - `flip` is a horizontal mirror: column j ↦ column W-1-j (reverse along the width axis).
 * - one `rotation` is a 90° counter-clockwise turn as displayed: out[i][j] = in[j][W-1-i].
 * - the element `{ rotations: r, flip: f }` acts as x ↦ R^r(F^f(x)): mirror first (if f), then
 *   rotate r times.
 * - `composeD4(a, b)` is function composition a∘b: applying it equals applying b, then a.
 */
import * as tf from '@tensorflow/tfjs';

/** Counter-clockwise quarter turns. */
export type Rotations = 0 | 1 | 2 | 3;

/** An element of the dihedral group D4: a rotation by a multiple of 90°, optionally after a mirror. */
export interface D4Element {
  /** Number of 90° counter-clockwise turns, applied after the mirror. */
  readonly rotations: Rotations;
  /** Horizontal mirror, applied before the rotations. */
  readonly flip: boolean;
}

function element(rotations: number, flip: boolean): D4Element {
  return D4_ELEMENTS[d4Index({ rotations: (((rotations % 4) + 4) % 4) as Rotations, flip })];
}

/** All 8 elements; index i = rotations + 4·flip (so D4_ELEMENTS[0] is the identity). */
export const D4_ELEMENTS: readonly D4Element[] = Object.freeze(
  [false, true].flatMap((flip) => ([0, 1, 2, 3] as const).map((rotations) => Object.freeze({ rotations, flip }))),
);

/** The identity element of D4. */
export const D4_IDENTITY: D4Element = D4_ELEMENTS[0];

/** Position of an element in D4_ELEMENTS (rotations + 4·flip). */
export function d4Index(e: D4Element): number {
  if (!Number.isInteger(e.rotations) || e.rotations < 0 || e.rotations > 3) {
    throw new RangeError(`D4 rotations must be 0, 1, 2 or 3, got ${String(e.rotations)}`);
  }
  return e.rotations + (e.flip ? 4 : 0);
}

export function d4Equals(a: D4Element, b: D4Element): boolean {
  return a.rotations === b.rotations && a.flip === b.flip;
}

/**
 * a∘b: the element that acts as "apply b, then a". Uses F·R = R⁻¹·F, so
 * R^ra F^fa R^rb F^fb = R^(ra ± rb) F^(fa xor fb), with − when a contains the mirror.
 */
export function composeD4(a: D4Element, b: D4Element): D4Element {
  return element(a.rotations + (a.flip ? -b.rotations : b.rotations), a.flip !== b.flip);
}

/** The element that undoes e: every mirrored element is its own inverse; R^r ↦ R^(4−r). */
export function inverseD4(e: D4Element): D4Element {
  return e.flip ? element(e.rotations, true) : element(-e.rotations, false);
}

/** The 8×8 Cayley table: table[i][j] = d4Index(composeD4(D4_ELEMENTS[i], D4_ELEMENTS[j])). */
export function d4Table(): number[][] {
  return D4_ELEMENTS.map((a) => D4_ELEMENTS.map((b) => d4Index(composeD4(a, b))));
}

/**
 * The 2×2 integer matrix M (row-major [m00, m01, m10, m11]) such that output pixel at centred
 * coordinates (x, y) = (column, row) reads the input at M·(x, y). Lets the affine sampler fold a D4
 * element into one per-image transform (exact when the sampled coordinates stay integral).
 */
export function d4SourceMatrix(e: D4Element): [number, number, number, number] {
  // F: (x, y) ↦ (−x, y);  R: (x, y) ↦ (−y, x). For R^r F^f the lookup is F^f · R^r.
  let m: [number, number, number, number] = [1, 0, 0, 1];
  for (let k = 0; k < e.rotations; k++) {
    // m ← m · R, with R = [[0, −1], [1, 0]]
    m = [m[1], -m[0], m[3], -m[2]];
  }
  if (e.flip) m = [-m[0], -m[1], m[2], m[3]];
  return m.map((v) => v + 0) as [number, number, number, number]; // normalise −0 to 0
}

/**
 * Apply one D4 element to every image of an NHWC batch, exactly (a pixel permutation). Odd
 * rotations swap height and width, so non-square images come back as (N, W, H, C).
 */
export function applyD4(x: tf.Tensor4D, e: D4Element): tf.Tensor4D {
  d4Index(e);
  if (x.rank !== 4) throw new RangeError(`applyD4 expects an NHWC tensor, got rank ${x.rank}`);
  return tf.tidy(() => {
    // Derived from the pixel maps: with t[i][j] = x[j][i] (transpose of H and W),
    //   (0,F): x          (0,T): rev W      (2,F): rev H,W    (2,T): rev H
    //   (1,F): rev_H(t)   (1,T): t          (3,F): rev_W(t)   (3,T): rev_H,W(t)
    const odd = e.rotations % 2 === 1;
    const base = odd ? tf.transpose(x, [0, 2, 1, 3]) : x;
    let axes: number[];
    switch (d4Index(e)) {
      case 0:
        axes = [];
        break;
      case 1:
        axes = [1];
        break;
      case 2:
        axes = [1, 2];
        break;
      case 3:
        axes = [2];
        break;
      case 4:
        axes = [2];
        break;
      case 5:
        axes = [];
        break;
      case 6:
        axes = [1];
        break;
      default:
        axes = [1, 2];
        break;
    }
    if (axes.length === 0) return odd ? base : tf.clone(x);
    return tf.reverse(base, axes);
  });
}

/** All 8 transforms of a batch, in D4_ELEMENTS order (for test-time augmentation). */
export function applyAllD4(x: tf.Tensor4D): tf.Tensor4D[] {
  return D4_ELEMENTS.map((e) => applyD4(x, e));
}
