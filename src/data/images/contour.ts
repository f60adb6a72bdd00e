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

/** Scratch buffers reused across images (one set per thread; detection is synchronous). */
const scratch = {
  u8: [new Uint8Array(0), new Uint8Array(0)],
  u16: new Uint16Array(0),
  i32: new Int32Array(0),
};
function u8(slot: 0 | 1, n: number): Uint8Array {
  if (scratch.u8[slot].length < n) scratch.u8[slot] = new Uint8Array(n);
  return scratch.u8[slot];
}
function u16(n: number): Uint16Array {
  if (scratch.u16.length < n) scratch.u16 = new Uint16Array(n);
  return scratch.u16;
}
let rowScratch = new Uint32Array(0);
function dilatedRow(n: number): Uint32Array {
  if (rowScratch.length < n) rowScratch = new Uint32Array(n);
  return rowScratch;
}
function i32(n: number): Int32Array {
  if (scratch.i32.length < n) scratch.i32 = new Int32Array(n);
  return scratch.i32;
}

/**
 * External components of a binary mask, as cv2.findContours(RETR_EXTERNAL) finds them: the image is
 * framed by background; the outer background is the 4-connected background reachable from the
 * frame; every 8-connected region of everything else is one external contour with its holes (and
 * anything inside them) filled.
 */
export function externalBlobs(mask: Uint8Array, width: number, height: number): Blob[] {
  const runs = startRuns(width, height);
  for (let y = 0; y < height; y++) addRowRuns(runs, mask, y * width);
  return runBlobs(runs);
}

/** externalBlobs by flood-filling the outer background pixel by pixel: the reference for runBlobs. */
export function externalBlobsByFill(mask: Uint8Array, width: number, height: number): Blob[] {
  const wp = width + 2;
  const state = framedState(width, height);
  for (let y = 0; y < height; y++) {
    const o = (y + 1) * wp + 1;
    const i = y * width;
    for (let x = 0; x < width; x++) state[o + x] = mask[i + x] !== 0 ? FOREGROUND : 0;
  }
  return framedBlobs(state, width, height);
}

/**
 * A mask as horizontal runs, row by row, for runBlobs. Rows -1 and height (the frame) are one
 * background run [-1, width]; every image row starts with a background run from x = -1 (the frame
 * column, possibly alone) and ends with one reaching x = width, so background and foreground runs
 * alternate: a run is foreground when its position in its row is odd.
 */
interface Runs {
  width: number;
  height: number;
  /** First and last x of each run (inclusive). */
  start: Int32Array;
  end: Int32Array;
  /** rowFirst[r]: index of the first run of row r − 1 (r = 0 … height + 1); rowFirst[height + 2] = count. */
  rowFirst: Int32Array;
  count: number;
  /** Image rows added so far. */
  rows: number;
}

const runScratch: Runs = { width: 0, height: 0, start: new Int32Array(0), end: new Int32Array(0), rowFirst: new Int32Array(0), count: 0, rows: 0 };
let runParent = new Int32Array(0);
let runGroup = new Int32Array(0);
let spanScratch = new Int32Array(0);
let rowFlags = new Uint8Array(0);

function startRuns(width: number, height: number): Runs {
  const runs = runScratch;
  // at most width + 2 runs per image row (alternating, starting and ending with background)
  const capacity = (width + 3) * height + 2;
  if (runs.start.length < capacity) {
    runs.start = new Int32Array(capacity);
    runs.end = new Int32Array(capacity);
  }
  if (runs.rowFirst.length < height + 3) runs.rowFirst = new Int32Array(height + 3);
  if (spanScratch.length < 4 * (width + 2)) spanScratch = new Int32Array(4 * (width + 2));
  runs.width = width;
  runs.height = height;
  runs.rowFirst[0] = 0;
  runs.start[0] = -1;
  runs.end[0] = width;
  runs.count = 1;
  runs.rows = 0;
  return runs;
}

/**
 * Ends a row begun at runs.count: closes a foreground run still open at the right edge and adds
 * the row's closing background run (from the last foreground end to `width`).
 */
function finishRow(runs: Runs, n: number, from: number, on: boolean): void {
  const { start, end, width } = runs;
  if (on) {
    start[n] = from;
    end[n++] = width - 1;
    from = width;
  }
  start[n] = from;
  end[n++] = width;
  runs.count = n;
}

/** Appends the next image row (bytes row[offset … offset + width), nonzero = foreground). */
function addRowRuns(runs: Runs, row: Uint8Array, offset: number): void {
  const { start, end, width } = runs;
  let n = runs.count;
  runs.rowFirst[++runs.rows] = n;
  let from = -1;
  let on = false;
  for (let x = 0; x < width; x++) {
    if (row[offset + x] !== 0 !== on) {
      start[n] = from;
      end[n++] = x - 1;
      from = x;
      on = !on;
    }
  }
  finishRow(runs, n, from, on);
}

/** Appends an image row with no foreground. */
function addEmptyRow(runs: Runs): void {
  runs.rowFirst[++runs.rows] = runs.count;
  finishRow(runs, runs.count, -1, false);
}

/**
 * addRowRuns for a row of FOREGROUND / 0 bytes whose 32-bit words are given too (width a multiple
 * of 4): words that are all background or all foreground are skipped whole.
 */
function addRowRunsWords(runs: Runs, bytes: Uint8Array, words: Uint32Array, perRow: number): void {
  const { start, end } = runs;
  let n = runs.count;
  runs.rowFirst[++runs.rows] = n;
  let from = -1;
  let on = false;
  const full = FOREGROUND * 0x01010101;
  for (let k = 0; k < perRow; k++) {
    const v = words[k];
    if (v === (on ? full : 0)) continue;
    for (let x = 4 * k, e = x + 4; x < e; x++) {
      if (bytes[x] !== 0 !== on) {
        start[n] = from;
        end[n++] = x - 1;
        from = x;
        on = !on;
      }
    }
  }
  finishRow(runs, n, from, on);
}

/**
 * externalBlobs on runs (see startRuns): union-find over runs — foreground runs 8-connected,
 * background runs 4-connected — instead of visiting every pixel. The outer background is the
 * component of the frame (run 0). Each other background component (a hole) belongs to the
 * foreground component just left of its first run; a foreground component whose first pixel has
 * a hole above it lies inside that hole (and joins the hole's group); the others are external.
 * Counts, centroids and boxes sum over each group's runs; the boundary (pixels next to the outer
 * background) comes from the outer runs above, below and beside each external foreground run.
 */
function runBlobs(runs: Runs): Blob[] {
  const { start, end, rowFirst, width, height } = runs;
  // the bottom frame row
  start[runs.count] = -1;
  end[runs.count] = width;
  rowFirst[height + 1] = runs.count++;
  rowFirst[height + 2] = runs.count;
  const count = runs.count;
  if (runParent.length < count) {
    runParent = new Int32Array(count + (count >> 1));
    runGroup = new Int32Array(count + (count >> 1));
  }
  const parent = runParent;
  for (let i = 0; i < count; i++) parent[i] = i;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      const g = parent[parent[a]];
      parent[a] = g;
      a = g;
    }
    return a;
  };
  // connect each run with the runs of the row above it; the root is a component's first run
  for (let r = 1; r <= height + 1; r++) {
    const prev = rowFirst[r - 1];
    const prevEnd = rowFirst[r];
    const rowEnd = rowFirst[r + 1];
    let j = prev;
    for (let i = prevEnd; i < rowEnd; i++) {
      const fg = (i - prevEnd) & 1;
      const lo = start[i] - fg;
      const hi = end[i] + fg;
      while (end[j] < lo) j++;
      for (let k = j; k < prevEnd && start[k] <= hi; k++) {
        if (((k - prev) & 1) !== fg) continue;
        let a = find(i);
        let b = find(k);
        if (a === b) continue;
        if (a < b) { const t = a; a = b; b = t; }
        parent[a] = b;
      }
    }
  }
  for (let i = 0; i < count; i++) parent[i] = parent[parent[i]]; // roots precede their runs: one pass flattens
  // group of each component (by its root): the index of its external blob, or −1 (outer)
  const group = runGroup;
  group[0] = -1;
  const blobX0: number[] = [];
  const blobX1: number[] = [];
  const blobY0: number[] = [];
  const blobY1: number[] = [];
  const blobN: number[] = [];
  const blobSx: number[] = [];
  const blobSy: number[] = [];
  const blobB: number[] = [];
  const blobRoot: number[] = [];
  const spans = spanScratch;
  for (let r = 1; r <= height; r++) {
    const y = r - 1;
    const first = rowFirst[r];
    const rowEnd = rowFirst[r + 1];
    for (let i = first; i < rowEnd; i++) {
      const root = parent[i];
      const fg = (i - first) & 1;
      let g: number;
      if (root === i) {
        if (fg === 0) {
          // a hole: enclosed by the foreground run on its left
          g = group[parent[i - 1]];
        } else {
          // the pixel above the component's first pixel: outer background, or a hole
          const x = start[i];
          let k = rowFirst[r - 1];
          while (end[k] < x) k++;
          const above = parent[k];
          if (above === 0) {
            g = blobN.length;
            blobX0.push(width);
            blobX1.push(-1);
            blobY0.push(y);
            blobY1.push(y);
            blobN.push(0);
            blobSx.push(0);
            blobSy.push(0);
            blobB.push(0);
            blobRoot.push(i);
          } else {
            g = group[above];
          }
        }
        group[i] = g;
      } else {
        g = group[root];
      }
      if (g < 0) continue;
      const s = start[i];
      const e = end[i];
      const len = e - s + 1;
      blobN[g] += len;
      blobSx[g] += ((s + e) * len) / 2;
      blobSy[g] += y * len;
      if (s < blobX0[g]) blobX0[g] = s;
      if (e > blobX1[g]) blobX1[g] = e;
      blobY1[g] = y;
      // boundary pixels: only an external component's own foreground touches the outer background
      if (fg !== 0 && blobRoot[g] === root) blobB[g] += boundaryPixels(runs, parent, r, i, spans);
    }
  }
  const blobs: Blob[] = [];
  for (let g = 0; g < blobN.length; g++) {
    const n = blobN[g];
    blobs.push({
      x: blobX0[g],
      y: blobY0[g],
      w: blobX1[g] - blobX0[g] + 1,
      h: blobY1[g] - blobY0[g] + 1,
      cx: blobSx[g] / n,
      cy: blobSy[g] / n,
      area: Math.max(0, n - blobB[g] / 2 - 1),
    });
  }
  return blobs;
}
/** framedBlobs states: unreached background, outer background (and the frame), labelled, foreground. */
const OUTER = 1;
const LABELLED = 2;
const FOREGROUND = 4;

/** A (width + 2) × (height + 2) scratch state array whose one-pixel frame is OUTER. */
function framedState(width: number, height: number): Uint8Array {
  const wp = width + 2;
  const n = wp * (height + 2);
  const state = u8(0, n);
  const last = n - wp;
  state.fill(OUTER, 0, wp);
  state.fill(OUTER, last, n);
  for (let row = wp; row < last; row += wp) {
    state[row] = OUTER;
    state[row + wp - 1] = OUTER;
  }
  return state;
}

/**
 * externalBlobs on a framed state array (see framedState; inside: FOREGROUND or 0): the frame
 * stands for the image edge, so neighbour indices never leave the array and need no bounds checks.
 * Overwrites the states; uses the int32 scratch stack.
 */
function framedBlobs(state: Uint8Array, width: number, height: number): Blob[] {
  const wp = width + 2;
  const n = wp * (height + 2);
  const last = n - wp;
  // every pixel is pushed at most twice by the fill (from the runs above and below it), plus the seeds
  const stack = i32(3 * n);
  let sp = 0;
  // seed the outer background from the image's edge pixels
  for (let x = 1; x <= width; x++) {
    if (state[wp + x] === 0) stack[sp++] = wp + x;
    if (state[last - wp + x] === 0) stack[sp++] = last - wp + x;
  }
  for (let row = wp; row < last; row += wp) {
    if (state[row + 1] === 0) stack[sp++] = row + 1;
    if (state[row + width] === 0) stack[sp++] = row + width;
  }
  // 4-connected scanline fill: a popped pixel fills its whole horizontal run of background, which
  // seeds each run of unreached background directly above and below it once
  while (sp > 0) {
    const p = stack[--sp];
    if (state[p] !== 0) continue;
    state[p] = OUTER;
    let l = p;
    while (state[l - 1] === 0) state[--l] = OUTER;
    let r = p;
    while (state[r + 1] === 0) state[++r] = OUTER;
    for (let q = l - wp, e = r - wp, inRun = false; q <= e; q++) {
      const open = state[q] === 0;
      if (open && !inRun) stack[sp++] = q;
      inRun = open;
    }
    for (let q = l + wp, e = r + wp, inRun = false; q <= e; q++) {
      const open = state[q] === 0;
      if (open && !inRun) stack[sp++] = q;
      inRun = open;
    }
  }
  // what is left (foreground, and background in holes) forms the external components
  const blobs: Blob[] = [];
  for (let row = wp; row < last; row += wp) {
    for (let start = row + 1, end = row + wp - 1; start < end; start++) {
      if (state[start] === OUTER || state[start] === LABELLED) continue;
      state[start] = LABELLED;
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
        const y = ((p / wp) | 0) - 1;
        const x = p - (y + 1) * wp - 1;
        count++;
        sx += x;
        sy += y;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        // next to the outer background or the frame (the image edge)
        if (state[p - 1] === OUTER || state[p + 1] === OUTER || state[p - wp] === OUTER || state[p + wp] === OUTER) boundary++;
        // 8-connected growth over everything that is not outer background
        for (let q = p - wp - 1, e = p + wp + 1; q <= e; q += wp - 2) {
          if ((state[q] & 3) === 0) { state[q] = LABELLED; stack[sp++] = q; }
          q++;
          if ((state[q] & 3) === 0) { state[q] = LABELLED; stack[sp++] = q; }
          q++;
          if ((state[q] & 3) === 0) { state[q] = LABELLED; stack[sp++] = q; }
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
  }
  return blobs;
}

/**
 * Pixels of foreground run i (row r of runs) with the outer background (root 0) on their left,
 * right, above or below. `spans` holds the clipped outer runs above, then below.
 */
function boundaryPixels(runs: Runs, parent: Int32Array, r: number, i: number, spans: Int32Array): number {
  const { start, end, rowFirst } = runs;
  const s = start[i];
  const e = end[i];
  // outer spans of the rows above (a) and below (b), clipped to [s, e]
  let na = 0;
  for (let k = rowFirst[r - 1], stop = rowFirst[r - 1 + 1]; k < stop && start[k] <= e; k++) {
    if (end[k] >= s && parent[k] === 0) {
      spans[na++] = start[k] > s ? start[k] : s;
      spans[na++] = end[k] < e ? end[k] : e;
    }
  }
  let nb = na;
  for (let k = rowFirst[r + 1], stop = rowFirst[r + 1 + 1]; k < stop && start[k] <= e; k++) {
    if (end[k] >= s && parent[k] === 0) {
      spans[nb++] = start[k] > s ? start[k] : s;
      spans[nb++] = end[k] < e ? end[k] : e;
    }
  }
  let total = 0;
  for (let a = 0; a < nb; a += 2) total += spans[a + 1] - spans[a] + 1;
  // minus the pixels outer both above and below (both lists are sorted and disjoint)
  for (let a = 0, b = na; a < na && b < nb; ) {
    const lo = spans[a] > spans[b] ? spans[a] : spans[b];
    const hi = spans[a + 1] < spans[b + 1] ? spans[a + 1] : spans[b + 1];
    if (hi >= lo) total -= hi - lo + 1;
    if (spans[a + 1] < spans[b + 1]) a += 2;
    else b += 2;
  }
  const covered = (x: number): boolean => {
    for (let a = 0; a < nb; a += 2) if (spans[a] <= x && x <= spans[a + 1]) return true;
    return false;
  };
  const left = parent[i - 1] === 0 && !covered(s);
  if (left) total++;
  if (parent[i + 1] === 0 && !(e === s && left) && !covered(e)) total++;
  return total;
}

/**
 * The detection mask at half resolution, as runs (see startRuns): exactly
 * thresholdDilate(gaussianBlur3(halve(gray)), threshold, 1), without the intermediate images.
 * Uses scratch slots 0 (a dilated row), 1 (half image, then the thresholded image), the uint16
 * buffer and the run arrays.
 */
function halfResolutionRuns(gray: Uint8Array, width: number, height: number, threshold: number): Runs {
  const w = width >> 1;
  const h = height >> 1;
  const n = w * h;
  // 2×2 rounded mean, then the horizontal [1 2 1] (reflect-101 edges)
  const half = u8(1, n);
  // four input bytes per 32-bit word: both pairs summed at once in 16-bit lanes (little-endian
  // layout, as on every platform Node runs on); rows must start on a word (width a multiple of 4:
  // with width ≡ 2 mod 4 every other row would be read from the wrong offset)
  const words = gray.byteOffset % 4 === 0 && width % 4 === 0 ? new Uint32Array(gray.buffer, gray.byteOffset, gray.length >> 2) : null;
  const perRow = words ? width >> 2 : 0;
  // bright[y]: some half pixel of row y is above the threshold. A blurred pixel is a weighted mean
  // of its 3×3 half pixels, so it can pass the threshold only next to a bright row: the blur,
  // threshold and dilation skip the rows with no bright row within reach (most of a dark sky).
  if (rowFlags.length < 2 * h) rowFlags = new Uint8Array(2 * h);
  const bright = rowFlags.subarray(0, h);
  const active = rowFlags.subarray(h, 2 * h);
  // the 2×2 sums (+2) are ≤ 1022 per 16-bit lane: adding 0x8000 − (4·threshold + 4) sets a lane's
  // bit 15 exactly when its rounded mean (sum >> 2) exceeds the threshold
  const brightBias = Number.isInteger(threshold) && threshold >= 0 && threshold <= 255 ? (0x8000 - (4 * threshold + 4)) * 0x10001 : -1;
  for (let y = 0; y < h; y++) {
    let a = 2 * y * width;
    let b = a + width;
    let o = y * w;
    const end = o + w;
    let lit = 0;
    if (words && brightBias >= 0) {
      let wa = a >> 2;
      let wb = b >> 2;
      for (let k = 0; k < perRow; k++, wa++, wb++, o += 2) {
        const va = words[wa];
        const vb = words[wb];
        const sum = (va & 0xff00ff) + ((va >>> 8) & 0xff00ff) + (vb & 0xff00ff) + ((vb >>> 8) & 0xff00ff) + 0x20002;
        lit |= sum + brightBias;
        half[o] = (sum >>> 2) & 0xff;
        half[o + 1] = (sum >>> 18) & 0xff;
      }
      a += perRow * 4;
      b += perRow * 4;
      lit &= 0x80008000;
    }
    for (; o < end; o++, a += 2, b += 2) {
      const v = (gray[a] + gray[a + 1] + gray[b] + gray[b + 1] + 2) >> 2;
      half[o] = v;
      if (v > threshold) lit = 1;
    }
    bright[y] = lit !== 0 ? 1 : 0;
  }
  const h1 = h - 1;
  // active[y]: the thresholded row y may have foreground (a bright row among y − 1 … y + 1)
  for (let y = 0; y < h; y++) active[y] = bright[y] | (y > 0 ? bright[y - 1] : 0) | (y < h1 ? bright[y + 1] : 0);
  const hs = u16(n);
  const w1 = w - 1;
  for (let y = 0, row = 0; y < h; y++, row += w) {
    // needed by an active row next to it
    if (!(active[y] | (y > 0 ? active[y - 1] : 0) | (y < h1 ? active[y + 1] : 0))) continue;
    hs[row] = 2 * half[row] + 2 * half[row + 1];
    for (let p = row + 1, end = row + w1; p < end; p++) hs[p] = half[p - 1] + 2 * half[p] + half[p + 1];
    hs[row + w1] = 2 * half[row + w1] + 2 * half[row + w1 - 1];
  }
  // vertical [1 2 1], rounding and threshold, as FOREGROUND / 0 bytes
  const limit = 16 * threshold + 8; // ((v + 8) >> 4) > threshold  ⇔  v ≥ 16·threshold + 8
  const on = half; // the half image is no longer needed: reuse it for the thresholded rows
  // with w a multiple of 4, rows are 32-bit aligned: two uint16 sums per word (each ≤ 4080, so
  // adding 0x8000 − limit sets a lane's bit 15 exactly when it reaches the limit, without carry)
  // and four mask bytes per word in the dilation
  const swar = w % 4 === 0 && Number.isInteger(threshold) && threshold >= 0 && threshold <= 255;
  if (swar) {
    const hw = new Uint32Array(hs.buffer, hs.byteOffset, n >> 1);
    const bias = (0x8000 - limit) * 0x10001;
    const half2 = w >> 1;
    for (let y = 0; y < h; y++) {
      if (!active[y]) {
        on.fill(0, y * w, y * w + w);
        continue;
      }
      const c = y * half2;
      const m1 = (y === 0 ? 1 : y - 1) * half2;
      const p1 = (y === h1 ? h1 - 1 : y + 1) * half2;
      for (let k = 0, o = y * w; k < half2; k++, o += 2) {
        const r = hw[m1 + k] + 2 * hw[c + k] + hw[p1 + k] + bias;
        on[o] = (r >>> 13) & FOREGROUND;
        on[o + 1] = (r >>> 29) & FOREGROUND;
      }
    }
  } else {
    for (let y = 0; y < h; y++) {
      const c = y * w;
      if (!active[y]) {
        on.fill(0, c, c + w);
        continue;
      }
      const m1 = (y === 0 ? 1 : y - 1) * w;
      const p1 = (y === h1 ? h1 - 1 : y + 1) * w;
      for (let x = 0; x < w; x++) on[c + x] = hs[m1 + x] + 2 * hs[c + x] + hs[p1 + x] >= limit ? FOREGROUND : 0;
    }
  }
  // 3×3 dilation (pixels outside the image ignored), one row at a time, as runs
  const runs = startRuns(w, h);
  if (swar) {
    const words = new Uint32Array(on.buffer, on.byteOffset, n >> 2);
    const perRow = w >> 2;
    const row = dilatedRow(perRow);
    const rowBytes = new Uint8Array(row.buffer, row.byteOffset, w);
    for (let y = 0; y < h; y++) {
      if (!(active[y] | (y > 0 ? active[y - 1] : 0) | (y < h1 ? active[y + 1] : 0))) {
        addEmptyRow(runs);
        continue;
      }
      const a = (y === 0 ? 0 : y - 1) * perRow;
      const c = y * perRow;
      const b = (y === h1 ? h1 : y + 1) * perRow;
      // vertical OR of the three rows, four pixels at a time; then each byte ORs its neighbours
      // (little-endian: the pixel on the left is the next lower byte, carried across words)
      let prev = 0;
      let cur = words[a] | words[c] | words[b];
      for (let k = 0; k < perRow; k++) {
        const next = k + 1 < perRow ? words[a + k + 1] | words[c + k + 1] | words[b + k + 1] : 0;
        row[k] = cur | (cur << 8) | (prev >>> 24) | (cur >>> 8) | (next << 24);
        prev = cur;
        cur = next;
      }
      addRowRunsWords(runs, rowBytes, row, perRow);
    }
    return runs;
  }
  const out = u8(0, w);
  for (let y = 0; y < h; y++) {
    const a = (y === 0 ? 0 : y - 1) * w;
    const c = y * w;
    const b = (y === h1 ? h1 : y + 1) * w;
    // vertical OR of the three rows, then horizontal OR of three columns
    let left = 0;
    let mid = on[a] | on[c] | on[b];
    for (let x = 0; x < w; x++) {
      const right = x < w1 ? on[a + x + 1] | on[c + x + 1] | on[b + x + 1] : 0;
      out[x] = left | mid | right;
      left = mid;
      mid = right;
    }
    addRowRuns(runs, out, 0);
  }
  return runs;
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
  const hw = width >> 1;
  const hh = height >> 1;
  let blobs: Blob[];
  if (hw >= 2 && hh >= 2) {
    blobs = runBlobs(halfResolutionRuns(gray, width, height, params.threshold));
  } else {
    const half = halve(gray, width, height);
    const blurred = gaussianBlur3(half.data, half.width, half.height);
    blobs = externalBlobs(thresholdDilate(blurred, half.width, half.height, params.threshold, 1), half.width, half.height);
  }
  const blob = centralBlob(blobs, hw, hh, params.minArea / 4);
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
