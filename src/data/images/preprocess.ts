import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { default as SharpFn, OutputInfo } from 'sharp';
import { chooseContourCrop } from './contour.js';
import { type NativeJpeg, nativeJpeg, nativeJpegError } from './native-jpeg.js';
import {
  type Decoded,
  type JpegDecoder,
  type PreprocessParams,
  type Preprocessed,
  type ResolvedParams,
  ImageError,
  JPEG_DECODERS,
  centerSquare,
  checkSize,
  normaliseParams,
  preprocessPixels,
} from './pixels.js';
import { resizeSquare } from './resample.js';

// The pixel path and the parameter types are browser-safe and live in pixels.ts; re-exported here.
export * from './pixels.js';

/**
 * Image preprocessing: decode a JPEG, then crop and resize in typed arrays. Two modes:
 * - `contour`: the seed's galaxy-finding crop (see contour.ts), resized to `size`;
 * - `center`: the Kaggle winner's centre crop (207 of 424 px) resized to `size` (e.g. 69 or 64).
 *
 * Two JPEG decoders, both libjpeg-turbo; the one used is part of the parameters (and so of the
 * cache key and of a model's recorded preprocessing), because their pixels differ slightly:
 * - `tensorflow` (default where tfjs-node's addon loads; see native-jpeg.ts): decodes only what
 *   is needed. Gray output and contour detection use the JPEG's own luma plane (as OpenCV's
 *   IMREAD_GRAYSCALE does); RGB output decodes just the chosen square (16-px aligned window, so
 *   the pixels equal those of a full decode). ~6× less CPU than sharp.
 * - `sharp` (libvips; everywhere): decodes the whole image to RGB once; gray is BT.601 luma of it.
 */

/**
 * The decoder used when the parameters name none: env GZH_DECODER (tensorflow | sharp), else
 * `tensorflow` where tfjs-node's addon loads, else `sharp`.
 */
export function defaultDecoder(env: NodeJS.ProcessEnv = process.env): JpegDecoder {
  const requested = env.GZH_DECODER?.trim().toLowerCase();
  if (requested && requested !== 'auto') {
    if (!(JPEG_DECODERS as readonly string[]).includes(requested)) {
      throw new Error(
        `GZH_DECODER: unknown JPEG decoder '${env.GZH_DECODER}' (expected ${JPEG_DECODERS.join(' | ')} | auto)`,
      );
    }
    return requested as JpegDecoder;
  }
  return nativeJpeg() ? 'tensorflow' : 'sharp';
}

function requireNative(): NativeJpeg {
  const native = nativeJpeg();
  if (!native) {
    throw new Error(
      `the 'tensorflow' JPEG decoder needs @tensorflow/tfjs-node, which does not load here (${nativeJpegError()}); ` +
        `caches and models made with it need it, or rebuild them with decoder 'sharp'`,
    );
  }
  return native;
}

/**
 * Check preprocessing parameters and fill in their defaults (decoder: the native one where installed, else sharp).
 */
export function resolveParams(params: PreprocessParams): ResolvedParams {
  const checked = normaliseParams(params, 'sharp'); // rejects bad parameters before the default decoder is looked up
  const decoder = params.decoder ?? defaultDecoder();
  if (decoder === 'tensorflow') requireNative();
  return { ...checked, decoder };
}

/** Cache key: a hash of every parameter that affects the pixels, plus the algorithm version. */
export function paramsKey(params: PreprocessParams | ResolvedParams): string {
  const resolved = 'version' in params ? params : resolveParams(params);
  const canonical = JSON.stringify(resolved, Object.keys(flatten(resolved)).sort());
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  return `${resolved.mode}-${resolved.size}px-${resolved.channels === 1 ? 'gray' : 'rgb'}-${hash}`;
}

function flatten(value: object, out: Record<string, true> = {}): Record<string, true> {
  for (const [k, v] of Object.entries(value)) {
    out[k] = true;
    if (v && typeof v === 'object') flatten(v as object, out);
  }
  return out;
}

/**
 * sharp (libvips) is loaded on first use, so that worker threads decoding with the native decoder
 * do not pay for loading it.
 */
let sharpModule: typeof SharpFn | undefined;
function loadSharp(): typeof SharpFn {
  sharpModule ??= createRequire(import.meta.url)('sharp') as typeof SharpFn;
  return sharpModule;
}

let sharpConfigured = false;
/** libvips settings for many small images: no operation cache, `threads` per image. */
export function configureSharp(threads = 1): void {
  const sharp = loadSharp();
  sharp.cache(false);
  sharp.concurrency(threads);
  sharpConfigured = true;
}

/** The checks made before decoding: a JPEG signature, 3 colour components, the expected size. */
function checkJpeg(buffer: Uint8Array, inputSize: number | null): ReturnType<typeof jpegHeader> {
  if (buffer.length < 4 || buffer[0] !== 0xff || buffer[1] !== 0xd8 || buffer[2] !== 0xff) {
    throw new ImageError(
      'not-jpeg',
      `not a JPEG file (starts with ${Buffer.from(buffer.subarray(0, 4)).toString('hex') || 'nothing'})`,
    );
  }
  const header = jpegHeader(buffer);
  if (header) {
    if (header.components === 1)
      throw new ImageError('grayscale-only', 'grayscale-only JPEG (1 colour component); colour images are expected');
    checkSize(header.width, header.height, inputSize);
  }
  return header;
}

/**
 * A decoder failure in the user's terms: TensorFlow's "Invalid TF_Status: 3 Message: …" wrapper is
 * dropped for its message, or replaced by what the status means when it has none.
 */
export function corrupt(error: unknown): ImageError {
  const full = error instanceof Error ? error.message : String(error);
  const lines = full
    .replace(/Invalid TF_Status: \d+\s*(Message:)?\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const status = /TF_Status: (\d+)/.exec(full)?.[1];
  const reason =
    lines[0] ??
    (status === '3'
      ? 'the data is not a valid JPEG stream'
      : `the decoder failed${status ? ` (status ${status})` : ''}`);
  return new ImageError('corrupt', `JPEG cannot be decoded: ${reason}`);
}

/**
 * Decodes a JPEG to raw interleaved RGB, with a clear error for anything that is not one. With the
 * `tensorflow` decoder the result keeps the JPEG, so that `preprocessDecoded` gives exactly the
 * pixels `preprocessFile` gives for the same parameters.
 */
export async function decodeJpeg(
  buffer: Uint8Array,
  inputSize: number | null = null,
  decoder: JpegDecoder = defaultDecoder(),
): Promise<Decoded> {
  checkJpeg(buffer, inputSize);
  if (decoder === 'tensorflow') {
    const native = requireNative();
    let image;
    try {
      image = native.decode(buffer, 3);
    } catch (error) {
      throw corrupt(error);
    }
    checkSize(image.width, image.height, inputSize);
    return { data: image.data, width: image.width, height: image.height, channels: 3, decoder, jpeg: buffer };
  }
  if (!sharpConfigured) configureSharp();
  let result: { data: Buffer; info: OutputInfo };
  try {
    result = await loadSharp()(buffer, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw corrupt(error);
  }
  const { width, height, channels } = result.info;
  if (channels < 3)
    throw new ImageError(
      'grayscale-only',
      `grayscale-only JPEG (${channels} channel${channels === 1 ? '' : 's'}); colour images are expected`,
    );
  checkSize(width, height, inputSize);
  return {
    data: new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.length),
    width,
    height,
    channels,
    decoder,
  };
}

/**
 * Size and colour components from a JPEG's start-of-frame marker (no decoding), or null when no
 * frame header is found before the scan data (the decoder then reports the problem).
 */
export function jpegHeader(buffer: Uint8Array): { width: number; height: number; components: number } | null {
  let p = 2;
  while (p + 9 < buffer.length) {
    if (buffer[p] !== 0xff) return null;
    const marker = buffer[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    const length = (buffer[p + 2] << 8) | buffer[p + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {
        height: (buffer[p + 5] << 8) | buffer[p + 6],
        width: (buffer[p + 7] << 8) | buffer[p + 8],
        components: buffer[p + 9],
      };
    }
    if (marker === 0xda || marker === 0xd9) return null;
    p += 2 + length;
  }
  return null;
}

/**
 * Crops and resizes decoded pixels according to the parameters. An image from `decodeJpeg` with
 * the parameters' decoder gives exactly `preprocessFile`'s pixels; other pixel arrays go through
 * the pixel path (gray = BT.601 luma of the RGB).
 */
export function preprocessDecoded(image: Decoded, params: ResolvedParams): Preprocessed {
  if (params.decoder === 'tensorflow' && image.decoder === 'tensorflow' && image.jpeg) {
    return preprocessNative(image.jpeg, params, { width: image.width, height: image.height });
  }
  return preprocessPixels(image, params);
}

/**
 * Libjpeg-turbo's cropped decode equals the full decode inside the window except near window
 * edges that cut through a chroma MCU (fancy upsampling sees the edge). Widening the window to the
 * 16-px MCU grid plus one MCU on each side keeps every pixel of the square exact.
 */
const MCU = 16;
function decodeWindow(square: { left: number; top: number; side: number }, width: number, height: number) {
  const left = Math.max(0, Math.floor(square.left / MCU) * MCU - MCU);
  const top = Math.max(0, Math.floor(square.top / MCU) * MCU - MCU);
  const right = Math.min(width, Math.ceil((square.left + square.side) / MCU) * MCU + MCU);
  const bottom = Math.min(height, Math.ceil((square.top + square.side) / MCU) * MCU + MCU);
  return { left, top, width: right - left, height: bottom - top };
}

/** Decodes what is needed and nothing more (see the module comment); errors become ImageError. */
function preprocessNative(
  jpeg: Uint8Array,
  params: ResolvedParams,
  size: { width: number; height: number },
): Preprocessed {
  const native = requireNative();
  const { width, height } = size;
  const decode = (channels: 1 | 3, square?: { left: number; top: number; side: number }) => {
    const window = square ? decodeWindow(square, width, height) : undefined;
    const whole = !window || (window.width === width && window.height === height);
    let image;
    try {
      image = native.decode(jpeg, channels, whole ? undefined : window);
    } catch (error) {
      throw corrupt(error);
    }
    if (whole && (image.width !== width || image.height !== height)) {
      throw new ImageError(
        'corrupt',
        `JPEG decodes to ${image.width}×${image.height} but its header says ${width}×${height}`,
      );
    }
    return { data: image.data, width: image.width, left: whole ? 0 : window!.left, top: whole ? 0 : window!.top };
  };
  if (params.mode === 'center') {
    // a cropped decode stops below the window, so it would not notice a file cut short there:
    // without an end-of-image marker the whole file is decoded once to report it
    if (!endsWithEoi(jpeg)) decode(1);
    const square = centerSquare(width, height, params);
    const image = decode(params.channels, square);
    const pixels = resizeSquare(
      image.data,
      image.width,
      params.channels,
      square.left - image.left,
      square.top - image.top,
      square.side,
      params.size,
    );
    return { pixels, crop: 'center' };
  }
  // contour: detection on the luma plane, which is also the gray output
  const gray = decode(1);
  const choice = chooseContourCrop(gray.data, width, height, params.contour);
  if (params.channels === 1) {
    return {
      pixels: resizeSquare(gray.data, width, 1, choice.left, choice.top, choice.side, params.size),
      crop: choice.kind,
    };
  }
  const rgb = decode(3, choice);
  const pixels = resizeSquare(
    rgb.data,
    rgb.width,
    3,
    choice.left - rgb.left,
    choice.top - rgb.top,
    choice.side,
    params.size,
  );
  return { pixels, crop: choice.kind };
}

/** Whether the data ends with the JPEG end-of-image marker (trailing zero padding allowed). */
function endsWithEoi(jpeg: Uint8Array): boolean {
  let end = jpeg.length;
  while (end > 2 && jpeg[end - 1] === 0) end--;
  return jpeg[end - 2] === 0xff && jpeg[end - 1] === 0xd9;
}

/** Preprocesses one JPEG held in memory; problems are thrown as ImageError. */
export async function preprocessJpeg(buffer: Uint8Array, params: ResolvedParams): Promise<Preprocessed> {
  if (params.decoder === 'tensorflow') {
    const header = checkJpeg(buffer, params.inputSize);
    if (!header) throw new ImageError('corrupt', 'JPEG cannot be decoded: no frame header before the scan data');
    return preprocessNative(buffer, params, header);
  }
  return preprocessPixels(await decodeJpeg(buffer, params.inputSize, 'sharp'), params);
}

/** Reads, decodes and preprocesses one file; problems are thrown as ImageError. */
export async function preprocessFile(path: string, params: ResolvedParams): Promise<Preprocessed> {
  let buffer: Buffer;
  try {
    // one synchronous read (open, fstat, read, close in a single call) costs far less CPU than
    // fs/promises' four thread-pool round trips for a file of ~15 kB; callers preprocessing many
    // files do it in worker threads (pool.ts)
    buffer = readFileSync(path);
  } catch (error) {
    throw new ImageError('unreadable', `cannot read file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return preprocessJpeg(buffer, params);
}
