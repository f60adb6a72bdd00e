/// <reference lib="dom" />
/** The image as the model saw it: the preprocessing crop and the network's input square drawn on the original. */
import { cropOffset } from '../../augment/affine.js';
import { chooseContourCrop, rgbToGray } from '../../data/images/contour.js';
import { type ResolvedParams, centerSquare } from '../../data/images/pixels.js';
import type { BrowserImage } from './decode.js';

export interface Square {
  readonly left: number;
  readonly top: number;
  readonly side: number;
}

/** The square of the original image that preprocessing resizes (the same choice as preprocessPixels). */
export function preprocessSquare(image: BrowserImage, params: ResolvedParams): Square {
  if (params.mode === 'center') return centerSquare(image.width, image.height, params);
  const gray = rgbToGray(image.data, image.width * image.height, image.channels);
  return chooseContourCrop(gray, image.width, image.height, params.contour);
}

/** The part of `square` the network takes: its centred inputSize of size pixels. */
export function networkSquare(square: Square, size: number, inputSize: number): Square {
  const scale = square.side / size;
  const offset = cropOffset(size, inputSize);
  return { left: square.left + offset * scale, top: square.top + offset * scale, side: inputSize * scale };
}

const VIEW = 280;

function outline(context: CanvasRenderingContext2D, s: Square, scale: number, colour: string, dashed: boolean): void {
  context.save();
  context.strokeStyle = colour;
  context.lineWidth = 2;
  context.setLineDash(dashed ? [6, 4] : []);
  context.strokeRect(s.left * scale + 1, s.top * scale + 1, s.side * scale - 2, s.side * scale - 2);
  context.restore();
}

/** The original, scaled to fit, with the preprocessing crop (dashed) and the network input (solid). */
export function drawOriginal(image: BrowserImage, crop: Square, input: Square): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  const scale = VIEW / Math.max(image.width, image.height);
  canvas.width = Math.round(image.width * scale);
  canvas.height = Math.round(image.height * scale);
  const context = canvas.getContext('2d')!;
  context.drawImage(image.bitmap, 0, 0, canvas.width, canvas.height);
  outline(context, crop, scale, '#fdb022', true);
  outline(context, input, scale, '#f04438', false);
  return canvas;
}

/** The preprocessed pixels (size², gray or RGB) with the network's input square outlined. */
export function drawPreprocessed(
  pixels: Uint8Array,
  size: number,
  channels: 1 | 3,
  inputSize: number,
): HTMLCanvasElement {
  const small = document.createElement('canvas');
  small.width = size;
  small.height = size;
  const data = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    data.data[i * 4] = pixels[i * channels];
    data.data[i * 4 + 1] = pixels[i * channels + (channels === 3 ? 1 : 0)];
    data.data[i * 4 + 2] = pixels[i * channels + (channels === 3 ? 2 : 0)];
    data.data[i * 4 + 3] = 255;
  }
  small.getContext('2d')!.putImageData(data, 0, 0);
  const canvas = document.createElement('canvas');
  canvas.width = VIEW;
  canvas.height = VIEW;
  const context = canvas.getContext('2d')!;
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, VIEW, VIEW);
  const offset = cropOffset(size, inputSize);
  outline(context, { left: offset, top: offset, side: inputSize }, VIEW / size, '#f04438', false);
  return canvas;
}
