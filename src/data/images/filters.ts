/**
 * Pixel filters of the galaxy finder on raw gray buffers, as OpenCV computes them: luma, Gaussian
 * blurs (border reflect-101, uint8 rounding), 2×2 averaging, threshold + square dilation.
 * Pure compute: no Node-only imports, so the browser bundle can use it too.
 */

/** ITU-R BT.601 luma as OpenCV's cvtColor(RGB2GRAY) computes it (14-bit fixed point). */
export function rgbToGray(rgb: Uint8Array, pixels: number, channels: number, out = new Uint8Array(pixels)): Uint8Array {
  if (channels === 1) {
    out.set(rgb.subarray(0, pixels));
    return out;
  }
  for (let i = 0, j = 0; i < pixels; i++, j += channels) {
    out[i] = (rgb[j] * 4899 + rgb[j + 1] * 9617 + rgb[j + 2] * 1868 + 8192) >> 14;
  }
  return out;
}

/**
 * The horizontal [1 2 1] pass of a 3×3 Gaussian blur over one row (reflect-101 edges; width ≥ 2):
 * `dst[row + x] = src[row + x − 1] + 2·src[row + x] + src[row + x + 1]`, unnormalised (≤ 1020).
 */
export function blurRow121(src: Uint8Array, dst: Uint16Array, row: number, width: number): void {
  const w1 = width - 1;
  dst[row] = 2 * src[row] + 2 * src[row + 1];
  for (let p = row + 1, end = row + w1; p < end; p++) dst[p] = src[p - 1] + 2 * src[p] + src[p + 1];
  dst[row + w1] = 2 * src[row + w1] + 2 * src[row + w1 - 1];
}

/**
 * 5×5 Gaussian blur with OpenCV's fixed kernel for ksize 5, sigma 0: [1 4 6 4 1] / 16 in each
 * direction, border reflect-101, rounded to uint8. (Images narrower than 3 px are copied.)
 */
export function gaussianBlur5(
  src: Uint8Array,
  width: number,
  height: number,
  out = new Uint8Array(width * height),
): Uint8Array {
  if (width < 3 || height < 3) {
    out.set(src);
    return out;
  }
  const tmp = new Uint16Array(width * height);
  const w1 = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    // reflect-101: x = -1 → 1, x = -2 → 2, x = w → w − 2, x = w + 1 → w − 3
    const at = (x: number) => src[row + (x < 0 ? -x : x > w1 ? 2 * w1 - x : x)];
    tmp[row] = at(-2) + 4 * at(-1) + 6 * at(0) + 4 * at(1) + at(2);
    tmp[row + 1] = at(-1) + 4 * at(0) + 6 * at(1) + 4 * at(2) + at(3);
    for (let p = row + 2, end = row + width - 2; p < end; p++) {
      tmp[p] = src[p - 2] + 4 * (src[p - 1] + src[p + 1]) + 6 * src[p] + src[p + 2];
    }
    tmp[row + w1 - 1] = at(w1 - 3) + 4 * at(w1 - 2) + 6 * at(w1 - 1) + 4 * at(w1) + at(w1 + 1);
    tmp[row + w1] = at(w1 - 2) + 4 * at(w1 - 1) + 6 * at(w1) + 4 * at(w1 + 1) + at(w1 + 2);
  }
  const h1 = height - 1;
  const r = (i: number) => (i < 0 ? -i : i > h1 ? 2 * h1 - i : i) * width;
  for (let y = 0; y < height; y++) {
    const m2 = r(y - 2);
    const m1 = r(y - 1);
    const c = y * width;
    const p1 = r(y + 1);
    const p2 = r(y + 2);
    for (let x = 0; x < width; x++) {
      out[c + x] = (tmp[m2 + x] + 4 * (tmp[m1 + x] + tmp[p1 + x]) + 6 * tmp[c + x] + tmp[p2 + x] + 128) >> 8;
    }
  }
  return out;
}

/** [1 2 1] / 4 blur in each direction, border reflect-101: the 5×5 kernel's match at half size. */
export function gaussianBlur3(
  src: Uint8Array,
  width: number,
  height: number,
  out = new Uint8Array(width * height),
): Uint8Array {
  if (width < 2 || height < 2) {
    out.set(src);
    return out;
  }
  const tmp = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) blurRow121(src, tmp, y * width, width);
  const h1 = height - 1;
  for (let y = 0; y < height; y++) {
    const c = y * width;
    const m1 = (y === 0 ? 1 : y - 1) * width;
    const p1 = (y === h1 ? h1 - 1 : y + 1) * width;
    for (let x = 0; x < width; x++) out[c + x] = (tmp[m1 + x] + 2 * tmp[c + x] + tmp[p1 + x] + 8) >> 4;
  }
  return out;
}

/** 2×2 mean (rounded) of a gray image; odd last rows/columns are dropped. */
export function halve(
  src: Uint8Array,
  width: number,
  height: number,
): { data: Uint8Array; width: number; height: number } {
  const w = width >> 1;
  const h = height >> 1;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const a = 2 * y * width;
    const b = a + width;
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const i = 2 * x;
      out[o + x] = (src[a + i] + src[a + i + 1] + src[b + i] + src[b + i + 1] + 2) >> 2;
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * Binary mask (1/0): value > threshold, then dilated with a (2·radius+1)² square (pixels outside
 * the image ignored). radius 2 = the seed's 5×5 kernel.
 */
export function thresholdDilate(
  src: Uint8Array,
  width: number,
  height: number,
  threshold: number,
  radius = 2,
): Uint8Array {
  const n = width * height;
  const h = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    // last foreground column seen so far; a pixel is set when one lies within ±radius
    let lastOn = -1e9;
    for (let x = 0; x < width && x <= radius - 1; x++) if (src[row + x] > threshold) lastOn = x;
    for (let x = 0; x < width; x++) {
      const ahead = x + radius;
      if (ahead < width && src[row + ahead] > threshold) lastOn = ahead;
      h[row + x] = lastOn >= x - radius ? 1 : 0;
    }
  }
  const out = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    const a = y >= radius ? y - radius : 0;
    const b = y + radius < height ? y + radius : height - 1;
    const o = y * width;
    for (let k = a; k <= b; k++) {
      const src2 = k * width;
      for (let x = 0; x < width; x++) out[o + x] |= h[src2 + x];
    }
  }
  return out;
}
