/**
 * Slow reference implementations of the equivariant layers, on plain nested arrays: loops and
 * index arithmetic only, sharing nothing with the layers but the group's multiplication table.
 */
import { compose, inverse, transformArray } from '../../../src/models/equivariant/group.js';

export type Image = number[][][]; // H × W × C
export type Batch = Image[];

/** T_e applied to every channel of an H×W×C image. */
export function transformImage(img: Image, e: number): Image {
  const channels = img[0]![0]!.length;
  const planes = Array.from({ length: channels }, (_, c) =>
    transformArray(
      img.map((row) => row.map((px) => px[c]!)),
      e,
    ),
  );
  return planes[0]!.map((row, i) => row.map((_, j) => planes.map((p) => p[i]![j]!)));
}

export function refCyclicSlice(x: Batch, elements: number[]): Batch {
  return elements.flatMap((g) => x.map((img) => transformImage(img, inverse(g))));
}

export function refCyclicRoll(x: Batch | number[][], elements: number[]): Batch | number[][] {
  const n = x.length / elements.length;
  const copy = (g: number) => x.slice(g * n, g * n + n);
  const out: unknown[] = [];
  for (const g of elements) {
    for (let i = 0; i < n; i++) {
      const parts = elements.map((u) => {
        const item = copy(compose(g, u))[i]!;
        return typeof item[0] === 'number' ? (item as number[]) : transformImage(item as Image, u);
      });
      if (typeof parts[0]![0] === 'number') out.push((parts as number[][]).flat());
      else {
        const imgs = parts as Image[];
        out.push(imgs[0]!.map((row, r) => row.map((_, c) => imgs.flatMap((im) => im[r]![c]!))));
      }
    }
  }
  return out as Batch | number[][];
}

export function refCyclicPool(
  x: number[][],
  copies: number,
  mode: 'mean' | 'rms' | 'concat',
  epsilon: number,
): number[][] {
  const n = x.length / copies;
  return Array.from({ length: n }, (_, i) => {
    const rows = Array.from({ length: copies }, (_, v) => x[v * n + i]!);
    if (mode === 'concat') return rows.flat();
    return rows[0]!.map((_, f) => {
      const values = rows.map((r) => r[f]!);
      const mean = values.reduce((a, b) => a + (mode === 'rms' ? b * b : b), 0) / copies;
      return mode === 'rms' ? Math.sqrt(mean + epsilon) : mean;
    });
  });
}

function sample(img: Image, y: number, x: number, c: number): number {
  const size = img.length;
  const y0 = Math.floor(y + 1e-9);
  const x0 = Math.floor(x + 1e-9);
  let sum = 0;
  for (const [r, wr] of [
    [y0, 1 - (y - y0)],
    [y0 + 1, y - y0],
  ] as const) {
    for (const [q, wq] of [
      [x0, 1 - (x - x0)],
      [x0 + 1, x - x0],
    ] as const) {
      if (r >= 0 && r < size && q >= 0 && q < size) sum += wr * wq * img[r]![q]![c]!;
    }
  }
  return sum;
}

/** The 16 views of one image: the two crops resampled, each turned by T_g⁻¹, top-left corner. */
export function refViews(img: Image, crop: number, cropSize: number, part: number): Image[] {
  const size = img.length;
  const channels = img[0]![0]!.length;
  const centre = (size - 1) / 2;
  const views: Image[] = [];
  for (const angle of [0, Math.PI / 4]) {
    const cropped: Image = Array.from({ length: cropSize }, (_, i) =>
      Array.from({ length: cropSize }, (__, j) => {
        const dy = ((i - (cropSize - 1) / 2) * crop) / cropSize;
        const dx = ((j - (cropSize - 1) / 2) * crop) / cropSize;
        const y = centre + Math.cos(angle) * dy - Math.sin(angle) * dx;
        const x = centre + Math.sin(angle) * dy + Math.cos(angle) * dx;
        return Array.from({ length: channels }, (___, c) => sample(img, y, x, c));
      }),
    );
    for (let g = 0; g < 8; g++) {
      views.push(
        transformImage(cropped, inverse(g))
          .slice(0, part)
          .map((row) => row.slice(0, part)),
      );
    }
  }
  return views;
}

/** Group convolution ('same' padding) by explicit loops over transformed kernels. */
export function refGroupConv(
  x: Batch,
  kernel: number[][][][],
  bias: number[] | null,
  elements: number[],
  lifting: boolean,
): Batch {
  const k = kernel.length;
  const cin = kernel[0]![0]!.length;
  const filters = kernel[0]![0]![0]!.length;
  const gin = lifting ? 1 : elements.length;
  const fields = cin / gin;
  const pad = (k - 1) / 2;
  // bank[g][o][ch] = k×k kernel for output orientation g, field o, input channel ch
  const bank = elements.map((g) =>
    Array.from({ length: filters }, (_, o) =>
      Array.from({ length: cin }, (__, ch) => {
        const h = Math.floor(ch / fields);
        const c = ch % fields;
        const src = (lifting ? 0 : compose(inverse(g), h)) * fields + c;
        return transformArray(
          kernel.map((row) => row.map((cell) => cell[src]![o]!)),
          g,
        );
      }),
    ),
  );
  return x.map((img) =>
    img.map((row, i) =>
      row.map((_, j) =>
        elements.flatMap((_, gi) =>
          Array.from({ length: filters }, (__, o) => {
            let sum = bias ? bias[o]! : 0;
            for (let di = 0; di < k; di++) {
              for (let dj = 0; dj < k; dj++) {
                const px = img[i + di - pad]?.[j + dj - pad];
                if (!px) continue;
                for (let ch = 0; ch < cin; ch++) sum += px[ch]! * bank[gi]![o]![ch]![di]![dj]!;
              }
            }
            return sum;
          }),
        ),
      ),
    ),
  );
}

export function maxAbsDiff(a: unknown, b: unknown): number {
  const fa = (a as number[]).flat(5 as 1) as unknown as number[];
  const fb = (b as number[]).flat(5 as 1) as unknown as number[];
  if (fa.length !== fb.length) return Infinity;
  return fa.reduce((m, v, i) => Math.max(m, Math.abs(v - fb[i]!)), 0);
}
