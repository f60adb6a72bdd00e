/**
 * `size` values uniform in [min, max) from a small linear congruential generator, reproducible
 * from `seed`, so a failing property case replays exactly. Shared by the kernel and augmentation
 * tests that compare backends on the same inputs.
 */
export function lcgValues(size: number, seed: number, min = -1, max = 1): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = min + (max - min) * (s / 2 ** 32);
  }
  return out;
}
