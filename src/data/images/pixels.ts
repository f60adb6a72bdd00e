/**
 * The browser-safe half of image preprocessing: parameters, errors, and the pixel path that crops
 * and resizes already-decoded pixels (any decoder: sharp, or a browser's canvas). No Node I/O here,
 * so the web bundle and Node share this code; preprocess.ts adds the decoders and file reading.
 */
import { type ContourParams, type CropKind, DEFAULT_CONTOUR, chooseContourCrop, rgbToGray } from './contour.js';
import { resizeSquare } from './resample.js';

/** How images are cropped: to the galaxy's light contour (the seed's method) or a fixed centre crop. */
export type PreprocessMode = 'contour' | 'center';

export const JPEG_DECODERS = ['tensorflow', 'sharp'] as const;
export type JpegDecoder = (typeof JPEG_DECODERS)[number];

/** Bumped whenever the pixels produced for the same parameters change: invalidates caches. */
export const PREPROCESS_VERSION = 'gzh-preprocess/1';

/** How to preprocess images. */
export interface PreprocessParams {
  /** Crop method. */
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
  /** JPEG decoder (default: `defaultDecoder()`). */
  readonly decoder?: JpegDecoder;
}

/** Preprocessing parameters with every default filled in: what caches and manifests record. */
export interface ResolvedParams {
  /** PREPROCESS_VERSION of the build that made the pixels. */
  readonly version: string;
  /** Crop method. */
  readonly mode: PreprocessMode;
  /** Output side in pixels. */
  readonly size: number;
  /** 1 = gray, 3 = RGB. */
  readonly channels: 1 | 3;
  /** `center` mode: crop side at a 424-pixel input (0 in contour mode). */
  readonly centerCrop: number;
  /** `contour` mode parameters. */
  readonly contour: ContourParams;
  /** Expected input side, or null for any. */
  readonly inputSize: number | null;
  /** The JPEG decoder. */
  readonly decoder: JpegDecoder;
}

/**
 * Checks and normalises preprocessing parameters with `decoder` standing for an unnamed one (the
 * Node entry point, `resolveParams`, picks the default decoder and checks that it loads).
 */
export function normaliseParams(params: PreprocessParams, defaultDecoder: JpegDecoder): ResolvedParams {
  if (params.mode !== 'contour' && params.mode !== 'center')
    throw new Error(`unknown preprocessing mode ${String(params.mode)} (contour | center)`);
  if (!Number.isInteger(params.size) || params.size < 1 || params.size > 4096)
    throw new Error(`output size must be a positive integer, got ${params.size}`);
  if (params.channels !== 1 && params.channels !== 3)
    throw new Error(`channels must be 1 (gray) or 3 (RGB), got ${String(params.channels)}`);
  const contour = { ...DEFAULT_CONTOUR, ...params.contour };
  if (params.decoder !== undefined && !(JPEG_DECODERS as readonly string[]).includes(params.decoder)) {
    throw new Error(`unknown JPEG decoder ${String(params.decoder)} (${JPEG_DECODERS.join(' | ')})`);
  }
  const decoder = params.decoder ?? defaultDecoder;
  return {
    version: PREPROCESS_VERSION,
    mode: params.mode,
    size: params.size,
    channels: params.channels,
    // parameters that do not affect the mode are normalised so they do not split the cache
    centerCrop: params.mode === 'center' ? (params.centerCrop ?? 207) : 0,
    contour: params.mode === 'contour' ? contour : DEFAULT_CONTOUR,
    inputSize: params.inputSize ?? null,
    decoder,
  };
}

/** What was wrong with an image file. */
export type ImageErrorKind = 'unreadable' | 'not-jpeg' | 'corrupt' | 'wrong-size' | 'grayscale-only';

/** A per-file problem: reported, and the rest of the run goes on. */
export class ImageError extends Error {
  /**
   * @param kind - what was wrong with the file.
   * @param message - the problem in words.
   */
  constructor(
    readonly kind: ImageErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

/** Decoded pixels of an image. */
export interface Decoded {
  /** height × width × channels, row-major, uint8. */
  readonly data: Uint8Array;
  /** Width, pixels. */
  readonly width: number;
  /** Height, pixels. */
  readonly height: number;
  /** Channels (1 or 3). */
  readonly channels: number;
  /** Which decoder made `data`. */
  readonly decoder?: JpegDecoder;
  /** The JPEG itself (kept by the `tensorflow` decoder, whose preprocessing decodes only what it needs). */
  readonly jpeg?: Uint8Array;
}

/** Rejects an image whose size is not the expected `inputSize` (null: any size). */
export function checkSize(width: number, height: number, inputSize: number | null): void {
  if (inputSize !== null && (width !== inputSize || height !== inputSize)) {
    throw new ImageError('wrong-size', `image is ${width}×${height}, expected ${inputSize}×${inputSize}`);
  }
}

/** A preprocessed image: its pixels and the crop that was used. */
export interface Preprocessed {
  /** size × size × channels, row-major, uint8. */
  readonly pixels: Uint8Array;
  /** Which crop the contour mode chose (`center` for the centre mode). */
  readonly crop: CropKind | 'center';
}

/** The crop square of the `center` mode. */
export function centerSquare(
  width: number,
  height: number,
  params: ResolvedParams,
): { left: number; top: number; side: number } {
  const scale = Math.min(width, height) / params.contour.referenceSize;
  const side = Math.min(Math.round(params.centerCrop * scale), width, height);
  return { left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2), side };
}

/** Crops and resizes decoded pixels (gray = BT.601 luma of the RGB). */
export function preprocessPixels(image: Decoded, params: ResolvedParams): Preprocessed {
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
    ({ left, top, side } = centerSquare(width, height, params));
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
