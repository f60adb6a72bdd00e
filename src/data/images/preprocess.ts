import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { type ContourParams, type CropKind, DEFAULT_CONTOUR, chooseContourCrop, rgbToGray } from './contour.js';
import { resizeSquare } from './resample.js';

/**
 * Image preprocessing: decode a JPEG once with sharp (libvips + libjpeg-turbo) to raw RGB, then
 * crop and resize in typed arrays. Two modes:
 * - `contour`: the seed's galaxy-finding crop (see contour.ts), resized to `size`;
 * - `center`: the Kaggle winner's centre crop (207 of 424 px) resized to `size` (e.g. 69 or 64).
 */
export type PreprocessMode = 'contour' | 'center';

/** Bumped whenever the pixels produced for the same parameters change: invalidates caches. */
export const PREPROCESS_VERSION = 'gzh-preprocess/1';

export interface PreprocessParams {
  readonly mode: PreprocessMode;
  /** Output side in pixels. */
  readonly size: number;
  /** 1 = gray (BT.601 luma), 3 = RGB. */
  readonly channels: 1 | 3;
  /** `center` mode: crop side at referenceSize input (default 207). */
  readonly centerCrop?: number;
  /** `contour` mode parameters (default: the seed's). */
  readonly contour?: Partial<ContourParams>;
  /** Expected input side (e.g. 424 for Kaggle); other sizes are rejected. Undefined: any size. */
  readonly inputSize?: number;
}

export interface ResolvedParams {
  readonly version: string;
  readonly mode: PreprocessMode;
  readonly size: number;
  readonly channels: 1 | 3;
  readonly centerCrop: number;
  readonly contour: ContourParams;
  readonly inputSize: number | null;
}

export function resolveParams(params: PreprocessParams): ResolvedParams {
  if (params.mode !== 'contour' && params.mode !== 'center') throw new Error(`unknown preprocessing mode ${String(params.mode)} (contour | center)`);
  if (!Number.isInteger(params.size) || params.size < 1 || params.size > 4096) throw new Error(`output size must be a positive integer, got ${params.size}`);
  if (params.channels !== 1 && params.channels !== 3) throw new Error(`channels must be 1 (gray) or 3 (RGB), got ${String(params.channels)}`);
  const contour = { ...DEFAULT_CONTOUR, ...params.contour };
  return {
    version: PREPROCESS_VERSION,
    mode: params.mode,
    size: params.size,
    channels: params.channels,
    // parameters that do not affect the mode are normalised so they do not split the cache
    centerCrop: params.mode === 'center' ? (params.centerCrop ?? 207) : 0,
    contour: params.mode === 'contour' ? contour : DEFAULT_CONTOUR,
    inputSize: params.inputSize ?? null,
  };
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

export type ImageErrorKind = 'unreadable' | 'not-jpeg' | 'corrupt' | 'wrong-size' | 'grayscale-only';

/** A per-file problem: reported, and the rest of the run goes on. */
export class ImageError extends Error {
  constructor(readonly kind: ImageErrorKind, message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

export interface Decoded {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

let sharpConfigured = false;
/** libvips settings for many small images: no operation cache, `threads` per image. */
export function configureSharp(threads = 1): void {
  sharp.cache(false);
  sharp.concurrency(threads);
  sharpConfigured = true;
}

/** Decodes a JPEG to raw interleaved pixels, with a clear error for anything that is not one. */
export async function decodeJpeg(buffer: Uint8Array, inputSize: number | null = null): Promise<Decoded> {
  if (!sharpConfigured) configureSharp();
  if (buffer.length < 4 || buffer[0] !== 0xff || buffer[1] !== 0xd8 || buffer[2] !== 0xff) {
    throw new ImageError('not-jpeg', `not a JPEG file (starts with ${Buffer.from(buffer.subarray(0, 4)).toString('hex') || 'nothing'})`);
  }
  const header = jpegHeader(buffer);
  if (header) {
    if (header.components === 1) throw new ImageError('grayscale-only', 'grayscale-only JPEG (1 colour component); colour images are expected');
    if (inputSize !== null && (header.width !== inputSize || header.height !== inputSize)) {
      throw new ImageError('wrong-size', `image is ${header.width}×${header.height}, expected ${inputSize}×${inputSize}`);
    }
  }
  let result: { data: Buffer; info: OutputInfo };
  try {
    result = await sharp(buffer, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ImageError('corrupt', `JPEG cannot be decoded: ${message}`);
  }
  const { width, height, channels } = result.info;
  if (channels < 3) throw new ImageError('grayscale-only', `grayscale-only JPEG (${channels} channel${channels === 1 ? '' : 's'}); colour images are expected`);
  if (inputSize !== null && (width !== inputSize || height !== inputSize)) {
    throw new ImageError('wrong-size', `image is ${width}×${height}, expected ${inputSize}×${inputSize}`);
  }
  return { data: new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.length), width, height, channels };
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

export interface Preprocessed {
  /** size × size × channels, row-major, uint8. */
  readonly pixels: Uint8Array;
  /** Which crop the contour mode chose (`center` for the centre mode). */
  readonly crop: CropKind | 'center';
}

/** Crops and resizes decoded pixels according to the parameters. */
export function preprocessDecoded(image: Decoded, params: ResolvedParams): Preprocessed {
  const { width, height, channels, data } = image;
  const pixels = width * height;
  const needGray = params.mode === 'contour' || params.channels === 1;
  const gray = needGray ? rgbToGray(data, pixels, channels) : null;
  let left: number;
  let top: number;
  let side: number;
  let crop: Preprocessed['crop'];
  if (params.mode === 'contour') {
    const choice = chooseContourCrop(gray!, width, height, params.contour);
    ({ left, top, side } = choice);
    crop = choice.kind;
  } else {
    const scale = Math.min(width, height) / params.contour.referenceSize;
    side = Math.min(Math.round(params.centerCrop * scale), width, height);
    left = Math.floor((width - side) / 2);
    top = Math.floor((height - side) / 2);
    crop = 'center';
  }
  const out =
    params.channels === 1
      ? resizeSquare(gray!, width, 1, left, top, side, params.size)
      : resizeSquare(channels === 3 ? data : dropAlpha(data, pixels, channels), width, 3, left, top, side, params.size);
  return { pixels: out, crop };
}

function dropAlpha(data: Uint8Array, pixels: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[i * 3] = data[i * channels];
    out[i * 3 + 1] = data[i * channels + 1];
    out[i * 3 + 2] = data[i * channels + 2];
  }
  return out;
}

/** Reads, decodes and preprocesses one file; problems are thrown as ImageError. */
export async function preprocessFile(path: string, params: ResolvedParams): Promise<Preprocessed> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    throw new ImageError('unreadable', `cannot read file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return preprocessDecoded(await decodeJpeg(buffer, params.inputSize), params);
}
