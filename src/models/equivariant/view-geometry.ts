/**
 * Sampling tables of the Kaggle winner's 16 views (Dieleman, Willett & Dambre 2015): for every
 * pixel of every view, the four input pixels and bilinear weights it reads.
 */
import { inverse, transformArray } from './group.js';

export interface ViewGeometry {
  /** Input image side S (square). */
  readonly size: number;
  /** Side of the square region cut from the image centre, input pixels. */
  readonly crop: number;
  /** Side the crop is resampled to (the winner's 69 px). */
  readonly cropSize: number;
  /** Side of each corner part, resampled pixels (the winner's 45 px). */
  readonly part: number;
}

/** The winner's proportions: 45-px parts of a 69-px crop. */
export function defaultPart(cropSize: number): number {
  return Math.max(1, Math.round((cropSize * 45) / 69));
}

/** Number of views: 2 crops × 8 symmetries of the square. */
export const VIEW_COUNT = 16;

export interface ViewTables {
  /** Four index arrays into the flattened S·S image, view-major (view · part² + i · part + j). */
  readonly indices: readonly Int32Array[];
  readonly weights: readonly Float32Array[];
}

/**
 * View v = 8c + g (c = 0 the upright crop, c = 1 the crop rotated 45°; g an element of D4) is the
 * top-left part×part corner of T_g⁻¹(crop c): each crop, turned and mirrored 8 ways, contributes
 * its 4 corners twice (mirrored), each turned so the image centre sits at the part's bottom-right.
 * Pixels falling outside the image read 0.
 */
export function viewTables(geometry: ViewGeometry): ViewTables {
  const { size, crop, cropSize, part } = geometry;
  const n = VIEW_COUNT * part * part;
  const indices = [0, 1, 2, 3].map(() => new Int32Array(n));
  const weights = [0, 1, 2, 3].map(() => new Float32Array(n));
  const grid = Array.from({ length: cropSize }, (_, i) => Array.from({ length: cropSize }, (__, j) => [i, j] as const));
  const centre = (size - 1) / 2;
  const scale = crop / cropSize;
  for (let v = 0; v < VIEW_COUNT; v++) {
    const angle = v >= 8 ? Math.PI / 4 : 0;
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    const turned = transformArray(grid, inverse(v % 8));
    for (let i = 0; i < part; i++) {
      for (let j = 0; j < part; j++) {
        const [si, sj] = turned[i]![j]!;
        const dy = (si - (cropSize - 1) / 2) * scale;
        const dx = (sj - (cropSize - 1) / 2) * scale;
        const at = v * part * part + i * part + j;
        bilinear(centre + cos * dy - sin * dx, centre + sin * dy + cos * dx, size, at, indices, weights);
      }
    }
  }
  return { indices, weights };
}

function bilinear(
  y: number,
  x: number,
  size: number,
  at: number,
  indices: Int32Array[],
  weights: Float32Array[],
): void {
  // snap positions within float noise of a pixel centre, so symmetric views read identical pixels
  const ys = Math.abs(y - Math.round(y)) < 1e-9 ? Math.round(y) : y;
  const xs = Math.abs(x - Math.round(x)) < 1e-9 ? Math.round(x) : x;
  const y0 = Math.floor(ys);
  const x0 = Math.floor(xs);
  const fy = ys - y0;
  const fx = xs - x0;
  const corners = [
    [y0, x0, (1 - fy) * (1 - fx)],
    [y0, x0 + 1, (1 - fy) * fx],
    [y0 + 1, x0, fy * (1 - fx)],
    [y0 + 1, x0 + 1, fy * fx],
  ] as const;
  corners.forEach(([r, c, w], k) => {
    const inside = r >= 0 && r < size && c >= 0 && c < size;
    indices[k]![at] = inside ? r * size + c : 0;
    weights[k]![at] = inside ? w : 0;
  });
}
