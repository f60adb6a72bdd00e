/// <reference lib="dom" />
/**
 * The browser's own image decoder: a JPEG or PNG file to RGBA pixels (no colour management, no
 * premultiplication, so the pixels are the file's), with a clear message for anything else.
 */
import { type Decoded, ImageError } from '../../data/images/pixels.js';

export interface BrowserImage extends Decoded {
  readonly bitmap: ImageBitmap;
}

/** `jpeg`, `png` or null from the file's first bytes. */
export function sniffImage(bytes: Uint8Array): 'jpeg' | 'png' | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

export async function decodeImage(file: Blob): Promise<BrowserImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (error) {
    throw new ImageError('unreadable', `cannot read the file (${(error as Error).message})`);
  }
  const kind = sniffImage(bytes);
  if (!kind) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new ImageError(
      'not-jpeg',
      `not a JPEG or PNG image (the file starts with ${head || 'nothing'}); choose .jpg or .png galaxy images`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file.slice(0, file.size, `image/${kind}`), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch {
    throw new ImageError('corrupt', `this ${kind.toUpperCase()} cannot be decoded (damaged or truncated file?)`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new ImageError('unreadable', 'no 2D canvas in this browser');
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return {
    data: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length),
    width: bitmap.width,
    height: bitmap.height,
    channels: 4,
    bitmap,
  };
}
