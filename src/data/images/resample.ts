/**
 * Resizing of a square crop of an interleaved uint8 image. Downscaling averages the source area
 * each output pixel covers (like cv2.INTER_AREA: a 2:1 reduction is the mean of 2×2 pixels);
 * upscaling interpolates bilinearly. Separable, exact, deterministic.
 */

interface AxisWeights {
  /** First source index per output index. */
  readonly start: Int32Array;
  /** Number of taps per output index. */
  readonly taps: Int32Array;
  /** Weights, `maxTaps` per output index. */
  readonly weights: Float32Array;
  readonly maxTaps: number;
}

const weightCache = new Map<string, AxisWeights>();

function axisWeights(srcSize: number, dstSize: number): AxisWeights {
  const key = `${srcSize}:${dstSize}`;
  const cached = weightCache.get(key);
  if (cached) return cached;
  const scale = srcSize / dstSize;
  const maxTaps = scale >= 1 ? Math.ceil(scale) + 1 : 2;
  const start = new Int32Array(dstSize);
  const taps = new Int32Array(dstSize);
  const weights = new Float32Array(dstSize * maxTaps);
  for (let i = 0; i < dstSize; i++) {
    if (scale >= 1) {
      const a = i * scale;
      const b = a + scale;
      const first = Math.floor(a);
      const last = Math.min(srcSize - 1, Math.ceil(b) - 1);
      start[i] = first;
      taps[i] = last - first + 1;
      for (let k = first; k <= last; k++) {
        const overlap = Math.min(b, k + 1) - Math.max(a, k);
        weights[i * maxTaps + (k - first)] = overlap / scale;
      }
    } else {
      const centre = (i + 0.5) * scale - 0.5;
      const clamped = Math.min(Math.max(centre, 0), srcSize - 1);
      const first = Math.min(Math.floor(clamped), srcSize - 2 < 0 ? 0 : srcSize - 2);
      const t = srcSize === 1 ? 0 : clamped - first;
      start[i] = first;
      taps[i] = srcSize === 1 ? 1 : 2;
      weights[i * maxTaps] = 1 - t;
      weights[i * maxTaps + 1] = t;
    }
  }
  const result = { start, taps, weights, maxTaps };
  if (weightCache.size > 64) weightCache.clear();
  weightCache.set(key, result);
  return result;
}

/**
 * Resizes the square region (left, top, side) of a width-wide image with `channels` interleaved
 * channels to size × size. When side === size this is a plain crop.
 */
export function resizeSquare(
  src: Uint8Array,
  width: number,
  channels: number,
  left: number,
  top: number,
  side: number,
  size: number,
  out = new Uint8Array(size * size * channels),
): Uint8Array {
  if (side === size) {
    const rowBytes = size * channels;
    for (let y = 0; y < size; y++) {
      const from = ((top + y) * width + left) * channels;
      out.set(src.subarray(from, from + rowBytes), y * rowBytes);
    }
    return out;
  }
  if (side % size === 0) return boxReduce(src, width, channels, left, top, side / size, size, out);
  const wx = axisWeights(side, size);
  // horizontal pass: side rows × size columns
  const tmp = new Float32Array(side * size * channels);
  for (let y = 0; y < side; y++) {
    const rowBase = ((top + y) * width + left) * channels;
    for (let i = 0; i < size; i++) {
      const s0 = wx.start[i];
      const n = wx.taps[i];
      const wBase = i * wx.maxTaps;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += wx.weights[wBase + k] * src[rowBase + (s0 + k) * channels + c];
        tmp[(y * size + i) * channels + c] = acc;
      }
    }
  }
  // vertical pass
  const wy = wx;
  const rowLen = size * channels;
  for (let j = 0; j < size; j++) {
    const s0 = wy.start[j];
    const n = wy.taps[j];
    const wBase = j * wy.maxTaps;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += wy.weights[wBase + k] * tmp[(s0 + k) * rowLen + i];
      const v = Math.round(acc);
      out[j * rowLen + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** Exact k:1 reduction: the rounded mean of each k × k block (integer arithmetic). */
function boxReduce(
  src: Uint8Array,
  width: number,
  channels: number,
  left: number,
  top: number,
  k: number,
  size: number,
  out: Uint8Array,
): Uint8Array {
  const rowLen = size * channels;
  const area = k * k;
  const half = area >> 1;
  if (k === 2) {
    // the common 2:1 case (contour 212 → 106, center crops): one pass, no sums buffer
    if (channels === 1) {
      for (let j = 0, o = 0; j < size; j++) {
        let a = (top + 2 * j) * width + left;
        let b = a + width;
        for (const end = o + size; o < end; o++, a += 2, b += 2)
          out[o] = (src[a] + src[a + 1] + src[b] + src[b + 1] + 2) >> 2;
      }
      return out;
    }
    const stride = width * channels;
    const step = 2 * channels;
    for (let j = 0; j < size; j++) {
      let a = ((top + 2 * j) * width + left) * channels;
      const base = j * rowLen;
      for (let i = 0; i < size; i++, a += step) {
        const o = base + i * channels;
        for (let c = 0; c < channels; c++) {
          const p = a + c;
          out[o + c] = (src[p] + src[p + channels] + src[p + stride] + src[p + stride + channels] + 2) >> 2;
        }
      }
    }
    return out;
  }
  const sums = new Uint32Array(rowLen);
  for (let j = 0; j < size; j++) {
    sums.fill(0);
    for (let dy = 0; dy < k; dy++) {
      let p = ((top + j * k + dy) * width + left) * channels;
      for (let i = 0; i < size; i++) {
        const o = i * channels;
        for (let dx = 0; dx < k; dx++) {
          for (let c = 0; c < channels; c++) sums[o + c] += src[p + c];
          p += channels;
        }
      }
    }
    const base = j * rowLen;
    for (let i = 0; i < rowLen; i++) out[base + i] = ((sums[i] + half) / area) | 0;
  }
  return out;
}
