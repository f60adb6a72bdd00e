/**
 * The dihedral group D4 (the 8 symmetries of a square) and its rotation subgroup C4, acting on the
 * spatial axes of tensors. Element `e` (0…7) is the image transform T_e = Rot^(e mod 4) ∘ Flip^(e ≥ 4):
 * first a horizontal mirror when e ≥ 4, then e mod 4 quarter turns. Elements 0…3 are C4 (p4);
 * 0…7 are D4 (p4m). Every equivariant layer takes its group arithmetic from here.
 */
import * as tf from '@tensorflow/tfjs';

/** `c4`/`p4`: the four rotations; `d4`/`p4m`: rotations and their mirror images. */
export type GroupName = 'c4' | 'd4' | 'p4' | 'p4m';

export const GROUP_NAMES: readonly GroupName[] = ['c4', 'd4', 'p4', 'p4m'];

/** Number of elements of a group. */
export function groupOrder(group: GroupName): 4 | 8 {
  if (!GROUP_NAMES.includes(group))
    throw new RangeError(`unknown symmetry group ${JSON.stringify(group)}; known: ${GROUP_NAMES.join(', ')}`);
  return group === 'c4' || group === 'p4' ? 4 : 8;
}

/** The group's element indices in order. */
export function groupElements(group: GroupName): number[] {
  return Array.from({ length: groupOrder(group) }, (_, e) => e);
}

/** Applies T_e to a square 2-D JS array (the slow reference the tensor version is tested against). */
export function transformArray<T>(m: readonly (readonly T[])[], e: number): T[][] {
  const n = m.length;
  let out = m.map((row) => [...row]);
  if (e >= 4) out = out.map((row) => row.map((_, j) => row[n - 1 - j]!));
  for (let r = 0; r < e % 4; r++) {
    const src = out;
    // quarter turn: out[i][j] = src[j][n-1-i]
    out = src.map((_, i) => src.map((__, j) => src[j]![n - 1 - i]!));
  }
  return out;
}

function computeTable(): { mul: number[][]; inv: number[] } {
  const probe = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
  ];
  const images = Array.from({ length: 8 }, (_, e) => JSON.stringify(transformArray(probe, e)));
  const mul = Array.from({ length: 8 }, (_, a) =>
    Array.from({ length: 8 }, (_, b) => images.indexOf(JSON.stringify(transformArray(transformArray(probe, b), a)))),
  );
  const inv = Array.from({ length: 8 }, (_, a) => mul[a]!.indexOf(0));
  return { mul, inv };
}

const TABLE = computeTable();

/** The element T_a ∘ T_b. */
export function compose(a: number, b: number): number {
  return TABLE.mul[a]![b]!;
}

/** The element undoing `e`. */
export function inverse(e: number): number {
  return TABLE.inv[e]!;
}

function swapPerm(rank: number, axis: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[axis] = axis + 1;
  perm[axis + 1] = axis;
  return perm;
}

/**
 * Applies T_e to the two spatial axes `axis`, `axis + 1` of `t` (1 and 2 for NHWC images, 0 and 1
 * for convolution kernels). The spatial axes must have equal length.
 */
export function transformSpatial<T extends tf.Tensor>(t: T, e: number, axis = 1): T {
  return tf.tidy(() => {
    let y: tf.Tensor = e >= 4 ? tf.reverse(t, axis + 1) : t;
    const r = e % 4;
    if (r === 1) y = tf.reverse(tf.transpose(y, swapPerm(t.rank, axis)), axis);
    else if (r === 2) y = tf.reverse(y, [axis, axis + 1]);
    else if (r === 3) y = tf.reverse(tf.transpose(y, swapPerm(t.rank, axis)), axis + 1);
    return (y === t ? tf.clone(t) : y) as T;
  });
}
