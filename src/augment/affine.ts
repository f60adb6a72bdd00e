/**
 * Per-image affine resampling on the backend, one batched op per batch, plus the geometry that
 * keeps empty corners out of the network input.
 *
 * Contract: source images are (N, S, S, C) float and larger than the network input. Each output
 * pixel (N, out, out, C) is sampled bilinearly from the source through a per-image affine map
 * (rotation, zoom, translation, mirror, D4 element) centred on the source centre. The maps are
 * only allowed when every output pixel lands inside the source for the *whole* configured range
 * (checked up front by {@link assertNoEmptyCorners}), so rotation happens before the final crop and
 * no fill value ever reaches the network.
 *
 * Pixel coordinates follow tf.image.transform: pixel (row i, column j) has its centre at
 * (x = j, y = i); the centre of an n-pixel axis is (n − 1) / 2. Crops are aligned like
 * {@link centerCrop}: offset floor((S − out) / 2), so zoom 1, angle 0 and no translation reproduce
 * centerCrop exactly.
 *
 * Backends: `tf.image.transform` (kernel `Transform`) is implemented by cpu, wasm and webgl, but
 *  - tfjs-backend-cpu 4.22 only transforms the first image of a batch (its kernel returns inside
 *    the batch loop; the rest stay at the fill value), so on cpu the kernel is called per image;
 *  - tfjs-node ('tensorflow') has no Transform kernel at all.
 * The 'gather' sampler builds the same bilinear sampling from elementwise ops and one GatherV2,
 * which every backend implements; tests check it against the kernel. See {@link resolveSampler}.
 */
import * as tf from '@tensorflow/tfjs';
import { type D4Element, D4_IDENTITY, d4SourceMatrix } from './d4.js';

/** What resampling reads outside the source image: a constant value, or the nearest edge pixel. */
export type FillMode = 'constant' | 'nearest';
/** A resampler: the backend's Transform kernel, or one gather of the four bilinear neighbours. */
export type SamplerImpl = 'kernel' | 'gather';
/** Which resampler to use: the backend's Transform kernel, the gather sampler, or the faster one available (`auto`). */
export type SamplerChoice = SamplerImpl | 'auto';

/** How the active backend's Transform kernel can be used. */
export type TransformKernelStatus = 'batched' | 'per-image' | 'missing';

/** Backends whose Transform kernel is known to process whole batches correctly. */
const BATCHED_TRANSFORM_BACKENDS = new Set(['wasm', 'webgl', 'webgpu']);

export function transformKernelStatus(backendName: string = tf.getBackend()): TransformKernelStatus {
  if (tf.getKernel('Transform', backendName) === undefined) return 'missing';
  return BATCHED_TRANSFORM_BACKENDS.has(backendName) ? 'batched' : 'per-image';
}

/**
 * 'auto' picks the Transform kernel wherever it exists (batched on wasm/webgl, image by image on
 * cpu, which is still ~3.5× faster there than the gather sampler) and the gather sampler where
 * it does not (tensorflow). Rough figures for a 64×80×80×3 → 40 px batch on a busy shared 2-core
 * machine (best of several runs): cpu kernel ~330 ms vs gather 1–3 s; wasm kernel ~20 ms vs
 * gather ~130–300 ms; tensorflow gather ~25 ms for the resampling alone ('nearest' fill) and
 * ~35 ms with 'constant' fill. Run test/augment/throughput.ts for current numbers.
 */
export function resolveSampler(choice: SamplerChoice, backendName: string = tf.getBackend()): SamplerImpl {
  const status = transformKernelStatus(backendName);
  if (choice === 'gather') return 'gather';
  if (choice === 'kernel') {
    if (status === 'missing') {
      throw new Error(`sampler 'kernel': backend '${backendName}' has no Transform kernel; use 'gather' or 'auto'`);
    }
    return 'kernel';
  }
  return status === 'missing' ? 'gather' : 'kernel';
}

/** Options of {@link sampleAffine}. */
export interface SampleOptions {
  /** [height, width] of the output. */
  readonly outputShape: readonly [number, number];
  /** 'nearest' clamps coordinates to the edge; 'constant' reads fillValue outside. */
  readonly fillMode?: FillMode;
  /** Value read outside the source with fillMode 'constant'. Default 0. */
  readonly fillValue?: number;
  /** Which resampler to use; 'auto' picks per backend. Default 'auto'. */
  readonly sampler?: SamplerChoice;
}

/**
 * Bilinear resampling with one affine map per image, in tf.image.transform's convention: output
 * pixel (x, y) reads input ((a0·x + a1·y + a2), (b0·x + b1·y + b2)); `transforms` holds N rows
 * [a0, a1, a2, b0, b1, b2, 0, 0] (a single row is broadcast). Projective terms must be 0.
 */
export function sampleAffine(
  images: tf.Tensor4D,
  transforms: ReadonlyArray<ArrayLike<number>>,
  options: SampleOptions,
): tf.Tensor4D {
  const [n, , , c] = images.shape;
  const [outH, outW] = options.outputShape;
  const fillMode = options.fillMode ?? 'nearest';
  const fillValue = options.fillValue ?? 0;
  if (transforms.length !== n && transforms.length !== 1) {
    throw new RangeError(`sampleAffine: ${transforms.length} transforms for a batch of ${n}`);
  }
  const flat = new Float32Array(n * 8);
  for (let b = 0; b < n; b++) {
    const row = transforms.length === 1 ? transforms[0] : transforms[b];
    if (row.length !== 8) throw new RangeError(`sampleAffine: transform ${b} has ${row.length} values, expected 8`);
    if (row[6] !== 0 || row[7] !== 0)
      throw new RangeError(`sampleAffine: transform ${b} is projective; only affine maps are supported`);
    for (let k = 0; k < 8; k++) flat[b * 8 + k] = row[k];
  }
  if (!(outH >= 1 && outW >= 1 && Number.isInteger(outH) && Number.isInteger(outW))) {
    throw new RangeError(`sampleAffine: bad output shape [${outH}, ${outW}]`);
  }
  if (n === 0) return tf.zeros([0, outH, outW, c]);
  const impl = resolveSampler(options.sampler ?? 'auto');
  return tf.tidy(() => {
    const x = images.dtype === 'float32' ? images : tf.cast(images, 'float32');
    if (impl === 'gather') return gatherSample(x, flat, outH, outW, fillMode, fillValue);
    if (transformKernelStatus() === 'batched' || n === 1) {
      return tf.image.transform(x, tf.tensor2d(flat, [n, 8]), 'bilinear', fillMode, fillValue, [outH, outW]);
    }
    // cpu: its Transform kernel only fills the first image of a batch, so go one image at a time.
    const outs = tf
      .unstack(x)
      .map((img, b) =>
        tf.image.transform(
          img.expandDims(0) as tf.Tensor4D,
          tf.tensor2d(flat.subarray(b * 8, b * 8 + 8), [1, 8]),
          'bilinear',
          fillMode,
          fillValue,
          [outH, outW],
        ),
      );
    return tf.concat(outs, 0);
  });
}

/**
 * Source coordinates (N, outH, outW) of every output pixel of each image under its affine map
 * (row b of `flat` holds the 8 Transform coefficients; x = a0·x' + a1·y' + a2, y = b0·x' + b1·y' + b2).
 */
function sourceCoordinates(
  flat: Float32Array,
  n: number,
  outH: number,
  outW: number,
): { inX: tf.Tensor; inY: tf.Tensor } {
  const column = (k: number) => {
    const v = new Float32Array(n);
    for (let b = 0; b < n; b++) v[b] = flat[b * 8 + k];
    return tf.tensor3d(v, [n, 1, 1]);
  };
  const xs = tf.range(0, outW, 1, 'float32').reshape([1, 1, outW]);
  const ys = tf.range(0, outH, 1, 'float32').reshape([1, outH, 1]);
  return {
    inX: tf.add(tf.add(tf.mul(column(0), xs), tf.mul(column(1), ys)), column(2)),
    inY: tf.add(tf.add(tf.mul(column(3), xs), tf.mul(column(4), ys)), column(5)),
  };
}

/** Index of each image's first pixel in the images flattened to (N·H·W, C), shaped (N, 1, 1). */
function imageOffsets(n: number, h: number, w: number): tf.Tensor {
  return tf.mul(tf.range(0, n, 1, 'float32').reshape([n, 1, 1]), h * w);
}

/**
 * The four bilinear corner weights (top-left, top-right, bottom-left, bottom-right), stacked on `axis`, with a channel
 * axis.
 */
function bilinearWeights(wx: tf.Tensor, wy: tf.Tensor, axis: 0 | 3): tf.Tensor {
  const ux = tf.sub(1, wx);
  const uy = tf.sub(1, wy);
  return tf
    .stack([tf.mul(ux, uy), tf.mul(wx, uy), tf.mul(ux, wy), tf.mul(wx, wy)], axis)
    .expandDims(axis === 0 ? -1 : 4);
}

/** Bilinear sampling from elementwise ops and one gather; matches the Transform kernel. */
function gatherSample(
  images: tf.Tensor4D,
  flat: Float32Array,
  outH: number,
  outW: number,
  fillMode: FillMode,
  fillValue: number,
): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (fillMode === 'nearest' && h >= 2 && w >= 2) return gatherSampleClamped(images, flat, outH, outW);
  let { inX, inY } = sourceCoordinates(flat, n, outH, outW);
  if (fillMode === 'nearest') {
    inX = tf.clipByValue(inX, 0, w - 1);
    inY = tf.clipByValue(inY, 0, h - 1);
  }
  const x0 = tf.floor(inX);
  const y0 = tf.floor(inY);
  const wx = tf.sub(inX, x0);
  const wy = tf.sub(inY, y0);
  const x1 = tf.add(x0, 1);
  const y1 = tf.add(y0, 1);
  const base = imageOffsets(n, h, w);
  const corners: Array<[tf.Tensor, tf.Tensor]> = [
    [x0, y0],
    [x1, y0],
    [x0, y1],
    [x1, y1],
  ];
  const indices = corners.map(([cx, cy]) =>
    tf.add(tf.add(base, tf.mul(tf.clipByValue(cy, 0, h - 1), w)), tf.clipByValue(cx, 0, w - 1)),
  );
  const index = tf.cast(tf.stack(indices).reshape([-1]), 'int32');
  let values: tf.Tensor = tf.gather(images.reshape([n * h * w, c]), index).reshape([4, n, outH, outW, c]);
  if (fillMode === 'constant') {
    const valid = tf
      .stack(
        corners.map(([cx, cy]) =>
          tf.logicalAnd(
            tf.logicalAnd(tf.greaterEqual(cx, 0), tf.lessEqual(cx, w - 1)),
            tf.logicalAnd(tf.greaterEqual(cy, 0), tf.lessEqual(cy, h - 1)),
          ),
        ),
      )
      .expandDims(-1);
    values = tf.where(tf.broadcastTo(valid, values.shape), values, tf.fill(values.shape, fillValue));
  }
  return tf.sum(tf.mul(values, bilinearWeights(wx, wy, 0)), 0) as tf.Tensor4D;
}

/**
 * 'nearest' fill fast path: with coordinates clamped to [0, len − 1] and the top-left neighbour
 * clamped to [0, len − 2], all four neighbours are in range and sit at fixed offsets
 * {0, 1, w, w + 1} from it, so one index tensor and one gather serve all corners. At the far edge
 * the weight moves onto the last pixel (x = len − 1 gives x0 = len − 2, wx = 1): same values.
 */
function gatherSampleClamped(images: tf.Tensor4D, flat: Float32Array, outH: number, outW: number): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  const source = sourceCoordinates(flat, n, outH, outW);
  const inX = tf.clipByValue(source.inX, 0, w - 1);
  const inY = tf.clipByValue(source.inY, 0, h - 1);
  const x0 = tf.minimum(tf.floor(inX), w - 2);
  const y0 = tf.minimum(tf.floor(inY), h - 2);
  const wx = tf.sub(inX, x0);
  const wy = tf.sub(inY, y0);
  const base = imageOffsets(n, h, w);
  const topLeft = tf.add(tf.add(base, tf.mul(y0, w)), x0).expandDims(3);
  const index = tf.cast(tf.add(topLeft, tf.tensor1d([0, 1, w, w + 1])), 'int32'); // (N, outH, outW, 4)
  const values = tf.gather(images.reshape([n * h * w, c]), index.reshape([-1])).reshape([n, outH, outW, 4, c]);
  return tf.sum(tf.mul(values, bilinearWeights(wx, wy, 3)), 3) as tf.Tensor4D;
}

/** Geometric parameters of one image. Angles in radians, counter-clockwise as displayed. */
export interface GeometricParams {
  /** Rotation, counter-clockwise as displayed (π/2 matches one D4 rotation). */
  readonly angle: number;
  /** Magnification: > 1 shows a smaller source region, larger. */
  readonly zoom: number;
  /** Shift of the sampled window's centre, in source pixels (x = columns, y = rows). */
  readonly tx: number;
  /** Shift of the sampled window's centre in rows, source pixels (see tx). */
  readonly ty: number;
  /** Horizontal mirror, applied to the source before the rotation. */
  readonly mirror: boolean;
  /** Exact D4 element applied last (on the output grid). */
  readonly d4: D4Element;
}

/** Geometric parameters that leave an image as it is. */
export const IDENTITY_GEOMETRY: GeometricParams = Object.freeze({
  angle: 0,
  zoom: 1,
  tx: 0,
  ty: 0,
  mirror: false,
  d4: D4_IDENTITY,
});

/** Offset of a centred crop of `out` pixels from an axis of `size` pixels (as in centerCrop). */
export function cropOffset(size: number, out: number): number {
  return Math.floor((size - out) / 2);
}

/**
 * The tf.image.transform row for one image: output pixel u (relative to the output centre)
 * reads source centre + (tx, ty) + (1/zoom)·D·M·Rot(angle)·u, where D is the D4 element's lookup
 * matrix and M the mirror.
 */
export function affineRow(
  p: GeometricParams,
  source: readonly [number, number],
  output: readonly [number, number],
): number[] {
  const [sh, sw] = source;
  const [oh, ow] = output;
  const cox = (ow - 1) / 2;
  const coy = (oh - 1) / 2;
  const csx = cropOffset(sw, ow) + cox;
  const csy = cropOffset(sh, oh) + coy;
  // Rot(angle) = [[cos, −sin], [sin, cos]]; exact for angle 0.
  const cos = p.angle === 0 ? 1 : Math.cos(p.angle);
  const sin = p.angle === 0 ? 0 : Math.sin(p.angle);
  let r00 = cos,
    r01 = -sin;
  const r10 = sin,
    r11 = cos;
  if (p.mirror) {
    r00 = -r00;
    r01 = -r01;
  }
  const [d00, d01, d10, d11] = d4SourceMatrix(p.d4);
  const s = 1 / p.zoom;
  const a00 = s * (d00 * r00 + d01 * r10);
  const a01 = s * (d00 * r01 + d01 * r11);
  const a10 = s * (d10 * r00 + d11 * r10);
  const a11 = s * (d10 * r01 + d11 * r11);
  return [a00, a01, csx + p.tx - (a00 * cox + a01 * coy), a10, a11, csy + p.ty - (a10 * cox + a11 * coy), 0, 0];
}

/** Apply per-image geometric parameters: (N, S, S, C) → (N, out, out, C), one sampling op. */
export function applyGeometry(
  images: tf.Tensor4D,
  params: readonly GeometricParams[],
  outputSize: number,
  options: Omit<SampleOptions, 'outputShape'> = {},
): tf.Tensor4D {
  const [n, h, w] = images.shape;
  if (params.length !== n) throw new RangeError(`applyGeometry: ${params.length} parameter sets for a batch of ${n}`);
  const rows = params.map((p) => affineRow(p, [h, w], [outputSize, outputSize]));
  return sampleAffine(images, rows, { ...options, outputShape: [outputSize, outputSize] });
}

/** Centre crop to outputSize × outputSize (offset floor((S − out)/2)); the eval-time geometry. */
export function centerCrop(images: tf.Tensor4D, outputSize: number): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (!Number.isInteger(outputSize) || outputSize < 1) {
    throw new RangeError(`centerCrop: outputSize must be a positive integer, got ${outputSize}`);
  }
  if (outputSize > h || outputSize > w) {
    throw new RangeError(`centerCrop: outputSize ${outputSize} exceeds the ${h}×${w} source images`);
  }
  if (outputSize === h && outputSize === w) return tf.clone(images);
  return tf.slice(images, [0, cropOffset(h, outputSize), cropOffset(w, outputSize), 0], [n, outputSize, outputSize, c]);
}

/** The ranges of geometric augmentation that decide how far from the centre sampling can reach. */
export interface GeometryRange {
  /** Any rotation angle (worst case 45°: reach grows by √2). */
  readonly rotate: boolean;
  /** Smallest zoom (< 1 shrinks, so the sampled window grows by 1/zoomMin). */
  readonly zoomMin: number;
  /** Maximum |translation| per axis, source pixels. */
  readonly translate: number;
}

/** Slack for float rounding when a configuration sits exactly on the boundary. */
const EDGE_EPS = 1e-6;

/**
 * Farthest an output pixel centre can sample from the source crop centre along one axis, over the
 * whole range: (out − 1)/2 · k / zoomMin + translate, with k = √2 when rotating (|cos|+|sin| ≤ √2),
 * else 1 (D4 and mirror map the square onto itself).
 */
export function samplingReach(outputSize: number, range: GeometryRange): number {
  const k = range.rotate ? Math.SQRT2 : 1;
  return (((outputSize - 1) / 2) * k) / range.zoomMin + range.translate;
}

/** Room between the crop centre and the outermost source pixel centres (the nearer side). */
export function sourceRoom(sourceSize: number, outputSize: number): number {
  const centre = cropOffset(sourceSize, outputSize) + (outputSize - 1) / 2;
  return Math.min(centre, sourceSize - 1 - centre);
}

export function isSafe(sourceSize: number, outputSize: number, range: GeometryRange): boolean {
  return outputSize <= sourceSize && samplingReach(outputSize, range) <= sourceRoom(sourceSize, outputSize) + EDGE_EPS;
}

/** Largest output size whose samples stay inside sourceSize-pixel images (0 if none). */
export function maxSafeOutputSize(sourceSize: number, range: GeometryRange): number {
  for (let o = sourceSize; o >= 1; o--) if (isSafe(sourceSize, o, range)) return o;
  return 0;
}

/** Smallest source size that can feed outputSize without empty corners. */
export function minSafeSourceSize(outputSize: number, range: GeometryRange): number {
  let s = outputSize;
  while (!isSafe(s, outputSize, range)) s++;
  return s;
}

/** Throws a RangeError naming the fields when the configured ranges would let fill pixels in. */
export function assertNoEmptyCorners(sourceSize: number, outputSize: number, range: GeometryRange): void {
  if (isSafe(sourceSize, outputSize, range)) return;
  const reach = samplingReach(outputSize, range);
  const room = sourceRoom(sourceSize, outputSize);
  throw new RangeError(
    `augment: outputSize ${outputSize} would let empty corners into the input: with rotate=${range.rotate}, ` +
      `zoom min ${range.zoomMin}, translate ${range.translate}px the samples reach ${reach.toFixed(2)}px from the ` +
      `centre of ${sourceSize}px source images, which hold only ${room.toFixed(2)}px. Use outputSize ≤ ` +
      `${maxSafeOutputSize(sourceSize, range)}, source images of at least ${minSafeSourceSize(outputSize, range)}px, ` +
      `or a narrower zoom/translate range.`,
  );
}
