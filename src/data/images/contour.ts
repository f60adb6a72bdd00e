/**
 * The seed project's galaxy finder and crop choice, re-implemented on raw pixel buffers (no
 * OpenCV): grayscale → 5×5 Gaussian blur → threshold at 30 → 5×5 dilation → external connected
 * components (as cv2.findContours(RETR_EXTERNAL) sees them: holes filled, components inside a hole
 * of another ignored) with contour area ≥ 100 → the one whose centroid is nearest the image centre
 * → its bounding box → the smallest of the seed's central crops that holds it. The pixel filters
 * live in filters.ts, the components in components.ts, the fused half-resolution mask in
 * detection-mask.ts. Pure compute: no Node-only imports.
 */
import { externalComponents, runComponents, type Component } from './components.js';
import { halfResolutionRuns } from './detection-mask.js';
import { gaussianBlur3, gaussianBlur5, halve, thresholdDilate } from './filters.js';

// grayscale conversion is the finder's first step; callers take it from here
export { rgbToGray } from './filters.js';

/** Parameters of the seed's contour crop finder. */
export interface ContourParams {
  /** Binary threshold on the blurred gray image (pixel > threshold is foreground). Seed: 30. */
  readonly threshold: number;
  /** Minimum contour area, px² at the detection resolution. Seed: 100. */
  readonly minArea: number;
  /** Side of the central crop tried first, at 424 px input. Seed: 106. */
  readonly innerCrop: number;
  /** Side of the central crop tried second, at 424 px input. Seed: 212. */
  readonly outerCrop: number;
  /** Input size the crop sides refer to; other sizes scale them. Seed: 424. */
  readonly referenceSize: number;
  /**
   * 1: detect at full resolution, exactly the seed's kernels. 2: detect on a 2×2-averaged image
   * with the kernels and minimum area scaled to match (3×3 [1 2 1] blur, 3×3 dilation, area / 4),
   * boxes scaled back ×2 — about 4× less work; crop choices agree with full resolution on
   * real images (see test/data/contour.test.ts).
   */
  readonly detectScale: 1 | 2;
}

export const DEFAULT_CONTOUR: ContourParams = {
  threshold: 30,
  minArea: 100,
  innerCrop: 106,
  outerCrop: 212,
  referenceSize: 424,
  detectScale: 2,
};

/** The crop chosen: inside the contour, around it, or the whole image when none was found. */
export type CropKind = 'inner' | 'outer' | 'full';

export interface CropChoice {
  /** Which of the seed's three crops was chosen. */
  readonly kind: CropKind;
  /** Square crop in input pixels. */
  readonly left: number;
  readonly top: number;
  readonly side: number;
  /** The chosen galaxy's component, or null when no component is large enough. */
  readonly galaxy: Component | null;
}

/** The component with area ≥ minArea whose centroid is nearest the image centre, or null. */
export function centralComponent(
  components: readonly Component[],
  width: number,
  height: number,
  minArea: number,
): Component | null {
  const cx = width / 2;
  const cy = height / 2;
  let best: Component | null = null;
  let bestD = Infinity;
  for (const b of components) {
    if (b.area < minArea) continue;
    const d = (b.cx - cx) ** 2 + (b.cy - cy) ** 2;
    if (d < bestD) {
      bestD = d;
      best = b;
    }
  }
  return best;
}

/** Central square of side `side` (rounded) in a width × height image. */
function centralSquare(width: number, height: number, side: number): { left: number; top: number; side: number } {
  const s = Math.min(Math.round(side), width, height);
  return { left: Math.floor((width - s) / 2), top: Math.floor((height - s) / 2), side: s };
}

function fits(galaxy: Component, crop: { left: number; top: number; side: number }): boolean {
  const right = crop.left + crop.side;
  const bottom = crop.top + crop.side;
  return galaxy.x >= crop.left && galaxy.y >= crop.top && galaxy.x + galaxy.w <= right && galaxy.y + galaxy.h <= bottom;
}

/**
 * The seed's crop decision for a grayscale image: the central inner square if the galaxy's box
 * fits in it, else the central outer square if it fits there, else the whole image (as its largest
 * central square). Crop sides scale with min(width, height) / referenceSize.
 */
export function chooseContourCrop(
  gray: Uint8Array,
  width: number,
  height: number,
  params: ContourParams = DEFAULT_CONTOUR,
): CropChoice {
  const galaxy = findGalaxy(gray, width, height, params);
  const scale = Math.min(width, height) / params.referenceSize;
  const inner = centralSquare(width, height, params.innerCrop * scale);
  const outer = centralSquare(width, height, params.outerCrop * scale);
  if (galaxy && fits(galaxy, inner)) return { kind: 'inner', ...inner, galaxy };
  if (galaxy && fits(galaxy, outer)) return { kind: 'outer', ...outer, galaxy };
  return { kind: 'full', ...centralSquare(width, height, Math.min(width, height)), galaxy };
}

/** The central galaxy's component in full-resolution coordinates, or null. */
export function findGalaxy(
  gray: Uint8Array,
  width: number,
  height: number,
  params: ContourParams = DEFAULT_CONTOUR,
): Component | null {
  if (params.detectScale === 1) {
    const blurred = gaussianBlur5(gray, width, height);
    const mask = thresholdDilate(blurred, width, height, params.threshold, 2);
    return centralComponent(externalComponents(mask, width, height), width, height, params.minArea);
  }
  const hw = width >> 1;
  const hh = height >> 1;
  let found: Component[];
  if (hw >= 2 && hh >= 2) {
    found = runComponents(halfResolutionRuns(gray, width, height, params.threshold));
  } else {
    const half = halve(gray, width, height);
    const blurred = gaussianBlur3(half.data, half.width, half.height);
    found = externalComponents(
      thresholdDilate(blurred, half.width, half.height, params.threshold, 1),
      half.width,
      half.height,
    );
  }
  const galaxy = centralComponent(found, hw, hh, params.minArea / 4);
  if (!galaxy) return null;
  // a half-size pixel covers two full-size pixels: boxes scale by 2, centres by 2 (+0.5)
  return {
    x: galaxy.x * 2,
    y: galaxy.y * 2,
    w: galaxy.w * 2,
    h: galaxy.h * 2,
    cx: galaxy.cx * 2 + 0.5,
    cy: galaxy.cy * 2 + 0.5,
    area: galaxy.area * 4,
  };
}
