/**
 * The seed project's galaxy finder, re-implemented on raw pixel buffers (no OpenCV):
 * grayscale → 5×5 Gaussian blur → threshold at 30 → 5×5 dilation → external connected
 * components (as cv2.findContours(RETR_EXTERNAL) sees them: holes filled, components inside a hole
 * of another ignored) with contour area ≥ 100 → the one whose centroid is nearest the image centre
 * → its bounding box.
 */

export interface ContourParams {
  /** Binary threshold on the blurred gray image (pixel > threshold is foreground). Seed: 30. */
  readonly threshold: number;
  /** Minimum contour area, px² at the detection resolution. Seed: 100. */
  readonly minArea: number;
  /** Side of the central crop tried first, at 424 px input. Seed: 106. */
  readonly innerCrop: number;
  /** Side of the central crop tried second, at 424 px input. Seed: 212. */
  readonly outerCrop: number;
  /** Input size the crop sides refer to; other sizes scale them. Seed: 424. */
  readonly referenceSize: number;
  /**
   * 1: detect at full resolution, exactly the seed's kernels. 2: detect on a 2×2-averaged image
   * with the kernels and minimum area scaled to match (3×3 [1 2 1] blur, 3×3 dilation, area / 4),
   * boxes scaled back ×2 — about 4× less work; crop choices agree with full resolution on
   * real images (see test/data/contour.test.ts).
   */
  readonly detectScale: 1 | 2;
}

export const DEFAULT_CONTOUR: ContourParams = {
  threshold: 30,
  minArea: 100,
  innerCrop: 106,
  outerCrop: 212,
  referenceSize: 424,
  detectScale: 2,
};

export interface Blob {
  /** Bounding box in pixels: left, top, width, height. */
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** Centroid of the filled region. */
  readonly cx: number;
  readonly cy: number;
  /** Area of the outer contour polygon (Pick: filled pixels − boundary pixels / 2 − 1). */
  readonly area: number;
}

export type CropKind = 'inner' | 'outer' | 'full';

export interface CropChoice {
  /** Which of the seed's three crops was chosen. */
  readonly kind: CropKind;
  /** Square crop in input pixels. */
  readonly left: number;
  readonly top: number;
  readonly side: number;
  /** The chosen galaxy's bounding box, or null when no component is large enough. */
  readonly blob: Blob | null;
}

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
 * 5×5 Gaussian blur with OpenCV's fixed kernel for ksize 5, sigma 0: [1 4 6 4 1] / 16 in each
 * direction, border reflect-101, rounded to uint8. (Images narrower than 3 px are copied.)
 */
export function gaussianBlur5(src: Uint8Array, width: number, height: number, out = new Uint8Array(width * height)): Uint8Array {
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
export function gaussianBlur3(src: Uint8Array, width: number, height: number, out = new Uint8Array(width * height)): Uint8Array {
  if (width < 2 || height < 2) {
    out.set(src);
    return out;
  }
  const tmp = new Uint16Array(width * height);
  const w1 = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    tmp[row] = 2 * src[row] + 2 * src[row + 1];
    for (let p = row + 1, end = row + w1; p < end; p++) tmp[p] = src[p - 1] + 2 * src[p] + src[p + 1];
    tmp[row + w1] = 2 * src[row + w1] + 2 * src[row + w1 - 1];
  }
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
export function halve(src: Uint8Array, width: number, height: number): { data: Uint8Array; width: number; height: number } {
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
export function thresholdDilate(src: Uint8Array, width: number, height: number, threshold: number, radius = 2): Uint8Array {
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

/** The seed's threshold + 5×5 dilation. */
export function thresholdDilate5(src: Uint8Array, width: number, height: number, threshold: number): Uint8Array {
  return thresholdDilate(src, width, height, threshold, 2);
}

/**
 * External components of a binary mask, as cv2.findContours(RETR_EXTERNAL) finds them: the image is
 * framed by background; the outer background is the 4-connected background reachable from the
 * frame; every 8-connected region of everything else is one external contour with its holes (and
 * anything inside them) filled.
 */
export function externalBlobs(mask: Uint8Array, width: number, height: number): Blob[] {
  const n = width * height;
  // 0 = not yet visited (foreground or hole), 1 = outer background, 2 = in a labelled region
  const state = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  for (let x = 0; x < width; x++) {
    const a = x;
    const b = n - width + x;
    if (mask[a] === 0 && state[a] === 0) { state[a] = 1; stack[sp++] = a; }
    if (mask[b] === 0 && state[b] === 0) { state[b] = 1; stack[sp++] = b; }
  }
  for (let y = 0; y < height; y++) {
    const a = y * width;
    const b = a + width - 1;
    if (mask[a] === 0 && state[a] === 0) { state[a] = 1; stack[sp++] = a; }
    if (mask[b] === 0 && state[b] === 0) { state[b] = 1; stack[sp++] = b; }
  }
  while (sp > 0) {
    const p = stack[--sp];
    const x = p - ((p / width) | 0) * width;
    let q = p - 1;
    if (x > 0 && state[q] === 0 && mask[q] === 0) { state[q] = 1; stack[sp++] = q; }
    q = p + 1;
    if (x < width - 1 && state[q] === 0 && mask[q] === 0) { state[q] = 1; stack[sp++] = q; }
    q = p - width;
    if (q >= 0 && state[q] === 0 && mask[q] === 0) { state[q] = 1; stack[sp++] = q; }
    q = p + width;
    if (q < n && state[q] === 0 && mask[q] === 0) { state[q] = 1; stack[sp++] = q; }
  }
  const blobs: Blob[] = [];
  for (let start = 0; start < n; start++) {
    if (state[start] !== 0) continue;
    state[start] = 2;
    stack[0] = start;
    sp = 1;
    let count = 0;
    let boundary = 0;
    let sx = 0;
    let sy = 0;
    let minX = width;
    let minY = height;
    let maxX = -1;
    let maxY = -1;
    while (sp > 0) {
      const p = stack[--sp];
      const y = (p / width) | 0;
      const x = p - y * width;
      count++;
      sx += x;
      sy += y;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      const left = x > 0;
      const right = x < width - 1;
      const up = y > 0;
      const down = y < height - 1;
      if (!left || !right || !up || !down || state[p - 1] === 1 || state[p + 1] === 1 || state[p - width] === 1 || state[p + width] === 1) {
        boundary++;
      }
      // 8-connected growth over everything that is not outer background
      const y0 = up ? -width : 0;
      const y1 = down ? width : 0;
      const x0 = left ? -1 : 0;
      const x1 = right ? 1 : 0;
      for (let dy = y0; dy <= y1; dy += width) {
        for (let dx = x0; dx <= x1; dx++) {
          const q = p + dy + dx;
          if (state[q] === 0) {
            state[q] = 2;
            stack[sp++] = q;
          }
        }
      }
    }
    blobs.push({
      x: minX,
      y: minY,
      w: maxX - minX + 1,
      h: maxY - minY + 1,
      cx: sx / count,
      cy: sy / count,
      area: Math.max(0, count - boundary / 2 - 1),
    });
  }
  return blobs;
}

/** The component with area ≥ minArea whose centroid is nearest the image centre, or null. */
export function centralBlob(blobs: readonly Blob[], width: number, height: number, minArea: number): Blob | null {
  const cx = width / 2;
  const cy = height / 2;
  let best: Blob | null = null;
  let bestD = Infinity;
  for (const b of blobs) {
    if (b.area < minArea) continue;
    const d = (b.cx - cx) ** 2 + (b.cy - cy) ** 2;
    if (d < bestD) {
      bestD = d;
      best = b;
    }
  }
  return best;
}

/** Central square of side `side` (rounded) in a width × height image. */
function centralSquare(width: number, height: number, side: number): { left: number; top: number; side: number } {
  const s = Math.min(Math.round(side), width, height);
  return { left: Math.floor((width - s) / 2), top: Math.floor((height - s) / 2), side: s };
}

function fits(blob: Blob, crop: { left: number; top: number; side: number }): boolean {
  return blob.x >= crop.left && blob.y >= crop.top && blob.x + blob.w <= crop.left + crop.side && blob.y + blob.h <= crop.top + crop.side;
}

/**
 * The seed's crop decision for a grayscale image: the central inner square if the galaxy's box
 * fits in it, else the central outer square if it fits there, else the whole image (as its largest
 * central square). Crop sides scale with min(width, height) / referenceSize.
 */
export function chooseContourCrop(gray: Uint8Array, width: number, height: number, params: ContourParams = DEFAULT_CONTOUR): CropChoice {
  const blob = findGalaxy(gray, width, height, params);
  const scale = Math.min(width, height) / params.referenceSize;
  const inner = centralSquare(width, height, params.innerCrop * scale);
  const outer = centralSquare(width, height, params.outerCrop * scale);
  if (blob && fits(blob, inner)) return { kind: 'inner', ...inner, blob };
  if (blob && fits(blob, outer)) return { kind: 'outer', ...outer, blob };
  return { kind: 'full', ...centralSquare(width, height, Math.min(width, height)), blob };
}

/** The central galaxy's component in full-resolution coordinates, or null. */
export function findGalaxy(gray: Uint8Array, width: number, height: number, params: ContourParams = DEFAULT_CONTOUR): Blob | null {
  if (params.detectScale === 1) {
    const blurred = gaussianBlur5(gray, width, height);
    const mask = thresholdDilate(blurred, width, height, params.threshold, 2);
    return centralBlob(externalBlobs(mask, width, height), width, height, params.minArea);
  }
  const half = halve(gray, width, height);
  const blurred = gaussianBlur3(half.data, half.width, half.height);
  const mask = thresholdDilate(blurred, half.width, half.height, params.threshold, 1);
  const blob = centralBlob(externalBlobs(mask, half.width, half.height), half.width, half.height, params.minArea / 4);
  if (!blob) return null;
  // a half-size pixel covers two full-size pixels: boxes scale by 2, centres by 2 (+0.5)
  return {
    x: blob.x * 2,
    y: blob.y * 2,
    w: blob.w * 2,
    h: blob.h * 2,
    cx: blob.cx * 2 + 0.5,
    cy: blob.cy * 2 + 0.5,
    area: blob.area * 4,
  };
}
