/**
 * Light profiles and colours shared by the synthetic renderer's objects: Sérsic constants and
 * fluxes, stellar-population colours, and the drawing primitives that add one round source or a
 * Sérsic galaxy to a linear-RGB canvas. Pure compute.
 */

export type RGB = readonly [number, number, number];
export const OLD: RGB = [1.0, 0.78, 0.52];
export const DISK: RGB = [0.95, 0.85, 0.7];
export const YOUNG: RGB = [0.6, 0.76, 1.0];

/** Colour between a and b (t in [0, 1]), times the galaxy's tint. */
export function mix(a: RGB, b: RGB, t: number, tint: RGB): [number, number, number] {
  return [
    (a[0] + (b[0] - a[0]) * t) * tint[0],
    (a[1] + (b[1] - a[1]) * t) * tint[1],
    (a[2] + (b[2] - a[2]) * t) * tint[2],
  ];
}

/** Lanczos approximation of the gamma function (x > 0). */
function gamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  x -= 1;
  let a = c[0];
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i] / (x + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}

/** The Sérsic b_n constant (Ciotti & Bertin 1999 expansion). */
export function sersicB(n: number): number {
  return 2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n * n);
}

/** Total flux of a Sérsic profile with I_e = 1, effective radius re and axis ratio q. */
export function sersicFlux(n: number, re: number, q: number): number {
  const b = sersicB(n);
  return (2 * Math.PI * n * re * re * q * Math.exp(b) * gamma(2 * n)) / Math.pow(b, 2 * n);
}

/** Mean of ((1 + cos x) / 2)^p over a period: C(2p, p) / 4^p. */
export function armMean(p: number): number {
  let c = 1;
  for (let k = 1; k <= p; k++) c = (c * (p + k)) / k;
  return c / Math.pow(4, p);
}

/** A square image being drawn. */
export interface Canvas {
  readonly size: number;
  /** Linear RGB, HWC. */
  readonly data: Float32Array;
}

/** Adds a round Gaussian blob of peak `peak` at pixel (x, y). */
export function addGaussian(canvas: Canvas, x: number, y: number, sigma: number, peak: number, colour: RGB): void {
  const { size, data } = canvas;
  const radius = Math.ceil(3.5 * sigma);
  const x0 = Math.max(0, Math.floor(x - radius));
  const x1 = Math.min(size - 1, Math.ceil(x + radius));
  const y0 = Math.max(0, Math.floor(y - radius));
  const y1 = Math.min(size - 1, Math.ceil(y + radius));
  const inv = 1 / (2 * sigma * sigma);
  for (let py = y0; py <= y1; py++) {
    const dy = py + 0.5 - y;
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - x;
      const v = peak * Math.exp(-(dx * dx + dy * dy) * inv);
      const o = (py * size + px) * 3;
      data[o] += v * colour[0];
      data[o + 1] += v * colour[1];
      data[o + 2] += v * colour[2];
    }
  }
}

/** Adds a Moffat (β = 3) point source of peak `peak` with core radius alpha (pixels). */
export function addMoffat(canvas: Canvas, x: number, y: number, alpha: number, peak: number, colour: RGB): void {
  const { size, data } = canvas;
  const beta = 3;
  const floor = 0.002;
  const radius = Math.min(size, alpha * Math.sqrt(Math.max(0, Math.pow(peak / floor, 1 / beta) - 1)) + 1);
  const x0 = Math.max(0, Math.floor(x - radius));
  const x1 = Math.min(size - 1, Math.ceil(x + radius));
  const y0 = Math.max(0, Math.floor(y - radius));
  const y1 = Math.min(size - 1, Math.ceil(y + radius));
  const inv = 1 / (alpha * alpha);
  for (let py = y0; py <= y1; py++) {
    const dy = py + 0.5 - y;
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - x;
      const t = 1 + (dx * dx + dy * dy) * inv;
      const v = peak / (t * t * t);
      const o = (py * size + px) * 3;
      data[o] += v * colour[0];
      data[o + 1] += v * colour[1];
      data[o + 2] += v * colour[2];
    }
  }
}

/** Adds a Sérsic galaxy (used for companions) evaluated over its bounding box. */
export function drawSersic(
  canvas: Canvas,
  x: number,
  y: number,
  re: number,
  n: number,
  q: number,
  pa: number,
  ie: number,
  colour: RGB,
): void {
  const { size, data } = canvas;
  const radius = Math.min(size, 10 * re + 2);
  const bn = sersicB(n);
  const cosPa = Math.cos(pa);
  const sinPa = Math.sin(pa);
  const x0 = Math.max(0, Math.floor(x - radius));
  const x1 = Math.min(size - 1, Math.ceil(x + radius));
  const y0 = Math.max(0, Math.floor(y - radius));
  const y1 = Math.min(size - 1, Math.ceil(y + radius));
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - x;
      const dy = py + 0.5 - y;
      const u = dx * cosPa + dy * sinPa;
      const v = (-dx * sinPa + dy * cosPa) / q;
      const r = Math.sqrt(u * u + v * v + 0.25) / re;
      const val = ie * Math.exp(-bn * (Math.pow(r, 1 / n) - 1));
      const o = (py * size + px) * 3;
      data[o] += val * colour[0];
      data[o + 1] += val * colour[1];
      data[o + 2] += val * colour[2];
    }
  }
}
