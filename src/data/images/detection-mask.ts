/**
 * The galaxy finder's detection mask at half resolution, fused: exactly
 * thresholdDilate(gaussianBlur3(halve(gray)), threshold, 1) (see filters.ts), built as runs for
 * the connected components without the intermediate images, and skipping the rows of dark sky
 * that cannot reach the threshold. Word-at-a-time (SWAR) paths handle four pixels per 32-bit word
 * where rows are word-aligned (little-endian layout, as on every platform Node and browsers run
 * on). Pure compute: no Node-only imports.
 */
import { MASK_ON, addEmptyRow, addRowRuns, addRowRunsWords, startRuns, type Runs } from './components.js';
import { blurRow121 } from './filters.js';

/** Scratch buffers reused across images (one set per thread; detection is synchronous). */
const scratch = {
  u8: [new Uint8Array(0), new Uint8Array(0)],
  u16: new Uint16Array(0),
  row: new Uint32Array(0),
  flags: new Uint8Array(0),
};
function u8(slot: 0 | 1, n: number): Uint8Array {
  if (scratch.u8[slot].length < n) scratch.u8[slot] = new Uint8Array(n);
  return scratch.u8[slot];
}
function u16(n: number): Uint16Array {
  if (scratch.u16.length < n) scratch.u16 = new Uint16Array(n);
  return scratch.u16;
}
function dilatedRow(n: number): Uint32Array {
  if (scratch.row.length < n) scratch.row = new Uint32Array(n);
  return scratch.row;
}
function flags(n: number): Uint8Array {
  if (scratch.flags.length < n) scratch.flags = new Uint8Array(n);
  return scratch.flags;
}

/** Row y or a row next to it is set. */
function near(rows: Uint8Array, y: number, h1: number): number {
  return rows[y] | (y > 0 ? rows[y - 1] : 0) | (y < h1 ? rows[y + 1] : 0);
}

/**
 * The detection mask of a gray image at half resolution, as runs (see components.ts). Uses
 * scratch slots 0 (a dilated row), 1 (half image, then the thresholded image), the uint16 buffer,
 * the row flags and the run arrays.
 */
export function halfResolutionRuns(gray: Uint8Array, width: number, height: number, threshold: number): Runs {
  const w = width >> 1;
  const h = height >> 1;
  const half = u8(1, w * h);
  // bright[y]: some half pixel of row y is above the threshold. A blurred pixel is a weighted mean
  // of its 3×3 half pixels, so it can pass the threshold only next to a bright row: the blur,
  // threshold and dilation skip the rows with no bright row within reach (most of a dark sky).
  const rowFlags = flags(2 * h);
  const bright = rowFlags.subarray(0, h);
  const active = rowFlags.subarray(h, 2 * h);
  halveRows(gray, width, height, threshold, half, bright);
  // active[y]: the thresholded row y may have foreground (a bright row among y − 1 … y + 1)
  for (let y = 0; y < h; y++) active[y] = near(bright, y, h - 1);
  const hs = u16(w * h);
  for (let y = 0; y < h; y++) if (near(active, y, h - 1)) blurRow121(half, hs, y * w, w);
  const on = half; // the half image is no longer needed: reuse it for the thresholded rows
  // with w a multiple of 4, rows are 32-bit aligned: two uint16 sums and four mask bytes per word
  const swar = w % 4 === 0 && Number.isInteger(threshold) && threshold >= 0 && threshold <= 255;
  if (swar) {
    thresholdRowsWords(hs, on, w, h, active, threshold);
    return dilateRowsWords(on, w, h, active);
  }
  thresholdRows(hs, on, w, h, active, threshold);
  return dilateRows(on, w, h);
}

/** 2×2 rounded means into `half`, and `bright[y]` = some mean of half row y exceeds the threshold. */
function halveRows(
  gray: Uint8Array,
  width: number,
  height: number,
  threshold: number,
  half: Uint8Array,
  bright: Uint8Array,
): void {
  const w = width >> 1;
  const h = height >> 1;
  // four input bytes per 32-bit word: both pairs summed at once in 16-bit lanes; rows must start
  // on a word (width a multiple of 4: with width ≡ 2 mod 4 every other row would be read from the
  // wrong offset)
  const aligned = gray.byteOffset % 4 === 0 && width % 4 === 0;
  const words = aligned ? new Uint32Array(gray.buffer, gray.byteOffset, gray.length >> 2) : null;
  const perRow = words ? width >> 2 : 0;
  // the 2×2 sums (+2) are ≤ 1022 per 16-bit lane: adding 0x8000 − (4·threshold + 4) sets a lane's
  // bit 15 exactly when its rounded mean (sum >> 2) exceeds the threshold
  const exact = Number.isInteger(threshold) && threshold >= 0 && threshold <= 255;
  const brightBias = exact ? (0x8000 - (4 * threshold + 4)) * 0x10001 : -1;
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
}

/** Vertical [1 2 1] of the horizontal sums, rounding and threshold, as MASK_ON / 0 bytes. */
function thresholdRows(
  hs: Uint16Array,
  on: Uint8Array,
  w: number,
  h: number,
  active: Uint8Array,
  threshold: number,
): void {
  const limit = 16 * threshold + 8; // ((v + 8) >> 4) > threshold  ⇔  v ≥ 16·threshold + 8
  const h1 = h - 1;
  for (let y = 0; y < h; y++) {
    const c = y * w;
    if (!active[y]) {
      on.fill(0, c, c + w);
      continue;
    }
    const m1 = (y === 0 ? 1 : y - 1) * w;
    const p1 = (y === h1 ? h1 - 1 : y + 1) * w;
    for (let x = 0; x < w; x++) on[c + x] = hs[m1 + x] + 2 * hs[c + x] + hs[p1 + x] >= limit ? MASK_ON : 0;
  }
}

/**
 * thresholdRows two uint16 sums per word (w a multiple of 4): each sum is ≤ 4080, so adding
 * 0x8000 − limit sets a lane's bit 15 exactly when it reaches the limit, without carry.
 */
function thresholdRowsWords(
  hs: Uint16Array,
  on: Uint8Array,
  w: number,
  h: number,
  active: Uint8Array,
  threshold: number,
): void {
  const limit = 16 * threshold + 8;
  const h1 = h - 1;
  const hw = new Uint32Array(hs.buffer, hs.byteOffset, (w * h) >> 1);
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
      on[o] = (r >>> 13) & MASK_ON;
      on[o + 1] = (r >>> 29) & MASK_ON;
    }
  }
}

/** 3×3 dilation (pixels outside the image ignored), one row at a time, as runs. */
function dilateRows(on: Uint8Array, w: number, h: number): Runs {
  const runs = startRuns(w, h);
  const out = u8(0, w);
  const h1 = h - 1;
  const w1 = w - 1;
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

/** dilateRows four mask bytes per word (w a multiple of 4); rows with no active row near are empty. */
function dilateRowsWords(on: Uint8Array, w: number, h: number, active: Uint8Array): Runs {
  const runs = startRuns(w, h);
  const words = new Uint32Array(on.buffer, on.byteOffset, (w * h) >> 2);
  const perRow = w >> 2;
  const row = dilatedRow(perRow);
  const rowBytes = new Uint8Array(row.buffer, row.byteOffset, w);
  const h1 = h - 1;
  for (let y = 0; y < h; y++) {
    if (!near(active, y, h1)) {
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
