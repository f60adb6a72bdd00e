import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gaussianBlur3, gaussianBlur5 } from '../../../src/data/images/filters.js';

/** Separable Gaussian blur with border reflect-101, computed pixel by pixel in plain arithmetic. */
function naiveBlur(src: Uint8Array, width: number, height: number, kernel: readonly number[]): Uint8Array {
  const r = (kernel.length - 1) / 2;
  const norm = kernel.reduce((a, b) => a + b, 0) ** 2;
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          sum += kernel[dy + r] * kernel[dx + r] * src[reflect(y + dy, height) * width + reflect(x + dx, width)];
        }
      }
      out[y * width + x] = Math.floor((sum + norm / 2) / norm);
    }
  }
  return out;
}

const image = (min: number) =>
  fc
    .record({ width: fc.integer({ min, max: 24 }), height: fc.integer({ min, max: 24 }) })
    .chain(({ width, height }) =>
      fc.uint8Array({ minLength: width * height, maxLength: width * height }).map((data) => ({ width, height, data })),
    );

describe('image filters', () => {
  it('gaussianBlur3 is the [1 2 1]² / 16 blur with reflect-101 borders, rounded', () => {
    fc.assert(
      fc.property(image(2), ({ width, height, data }) => {
        expect(gaussianBlur3(data, width, height)).toEqual(naiveBlur(data, width, height, [1, 2, 1]));
      }),
    );
  });

  it('gaussianBlur5 is the [1 4 6 4 1]² / 256 blur with reflect-101 borders, rounded', () => {
    fc.assert(
      fc.property(image(3), ({ width, height, data }) => {
        expect(gaussianBlur5(data, width, height)).toEqual(naiveBlur(data, width, height, [1, 4, 6, 4, 1]));
      }),
    );
  });
});
