/**
 * True morphology of a synthetic galaxy: what the renderer draws and what simulated volunteers
 * see through their confusion. Sampled from a seeded generator with a class mix roughly like
 * Galaxy Zoo 2's (about half smooth, half featured, a few stars and artifacts).
 *
 * All lengths are fractions of the image width, so the same morphology renders identically
 * (up to pixel noise) at any image size; positions are relative to the image centre.
 */
import { Random } from '../../util/random.js';

/** What the object is: a smooth galaxy, a galaxy with a disk or features, or a star / artifact. */
export type GalaxyKind = 'smooth' | 'disk' | 'star';
/** What a `star`-kind object is: a bright foreground star or an image artifact (satellite trail). */
export type StarKind = 'star' | 'artifact';
/** Smooth galaxies: how round they look (GZ2 Q7). */
export type Roundness = 'completely_round' | 'in_between' | 'cigar_shaped';
/** How prominent the bulge is (GZ2 Q5). */
export type BulgeProminence = 'no_bulge' | 'just_noticeable' | 'obvious' | 'dominant';
/** Shape of an edge-on disk's bulge (GZ2 Q9). */
export type BulgeShape = 'rounded' | 'boxy' | 'no_bulge';
/** How tightly the spiral arms are wound (GZ2 Q10). */
export type Winding = 'tight' | 'medium' | 'loose';
/** Arm counts as the tree asks them; `5` stands for "more than four". */
export type ArmCount = 1 | 2 | 3 | 4 | 5;
/** Anything odd (GZ2 Q8). */
export type OddFeature = 'ring' | 'lens_or_arc' | 'disturbed' | 'irregular' | 'other' | 'merger' | 'dust_lane';

export const ODD_FEATURES: readonly OddFeature[] = [
  'ring',
  'lens_or_arc',
  'disturbed',
  'irregular',
  'other',
  'merger',
  'dust_lane',
];
export const BULGE_PROMINENCES: readonly BulgeProminence[] = ['no_bulge', 'just_noticeable', 'obvious', 'dominant'];
export const WINDINGS: readonly Winding[] = ['tight', 'medium', 'loose'];

/** A point source drawn over the image (a foreground star, or a knot). */
export interface PointSource {
  /** Offset from the image centre, fraction of the image width (+x right, +y down). */
  readonly x: number;
  /** Offset from the image centre, fraction of the image width (+y down). */
  readonly y: number;
  /** Peak brightness in linear display units (sky noise is ~0.04). */
  readonly flux: number;
  /** Linear RGB tint. */
  readonly colour: readonly [number, number, number];
}

/** A merging or nearby companion galaxy. */
export interface Companion {
  /** Offset of the companion's centre from the primary's, fraction of the image width. */
  readonly x: number;
  /** Offset of the companion's centre from the primary's, fraction of the image width (+y down). */
  readonly y: number;
  /** Effective radius, fraction of the image width. */
  readonly radius: number;
  /** Projected axis ratio b/a. */
  readonly axisRatio: number;
  /** Position angle of the major axis, radians. */
  readonly positionAngle: number;
  /** Surface brightness at the effective radius, linear display units. */
  readonly brightness: number;
  /** Tidal tail: true when a bridge/tail connects the pair. */
  readonly tail: boolean;
}

/** The true morphology of a synthetic galaxy: what the renderer draws and the volunteers answer about. */
export interface Morphology {
  /** What the object is. */
  readonly kind: GalaxyKind;
  /** Sub-type of a `star` object; null otherwise. */
  readonly starKind: StarKind | null;
  /** Centre of the galaxy, offset from the image centre (fraction of width). */
  readonly centreX: number;
  /** Centre of the galaxy, offset from the image centre in y (fraction of width). */
  readonly centreY: number;
  /** Position angle of the major axis, radians. */
  readonly positionAngle: number;
  /**
   * Characteristic size, fraction of the image width: the disk scale length for disks, the
   * effective radius for smooth galaxies, the PSF-ish core for stars.
   */
  readonly scale: number;
  /** Surface brightness scale (disk centre, or smooth galaxy at its effective radius), linear units. */
  readonly brightness: number;
  /** Observed (projected) axis ratio b/a of the whole galaxy. */
  readonly axisRatio: number;
  /** Sérsic index of the smooth galaxy or of the bulge. */
  readonly sersicN: number;
  /** Smooth galaxies: the roundness class their true axis ratio falls in; null for others. */
  readonly roundness: Roundness | null;
  /** Disks: inclination in degrees (0 face-on, 90 edge-on); 0 for others. */
  readonly inclination: number;
  /** Disks: inclined past the edge-on threshold. */
  readonly edgeOn: boolean;
  /** Bulge-to-total flux ratio (disks), 1 for smooth galaxies. */
  readonly bulgeFraction: number;
  /** Face-on/inclined disks: bulge prominence class; null otherwise. */
  readonly bulge: BulgeProminence | null;
  /** Edge-on disks: bulge shape; null otherwise. */
  readonly bulgeShape: BulgeShape | null;
  /** Disks: has a bar. */
  readonly bar: boolean;
  /** Bar strength 0..1 (0 without a bar), its half-length (fraction of width) and in-plane angle. */
  readonly barStrength: number;
  /** Bar half-length, fraction of the image width. */
  readonly barLength: number;
  /** Bar angle in the disk plane, radians. */
  readonly barAngle: number;
  /** Disks: has spiral arms. */
  readonly spiral: boolean;
  /** Arm count (5 = five or more; rendered as `renderedArms`), null without spiral arms. */
  readonly arms: ArmCount | null;
  /** Number of arms drawn. */
  readonly renderedArms: number;
  /** Arm winding class, null without spiral arms. */
  readonly winding: Winding | null;
  /** Pitch angle of the logarithmic spiral, degrees. */
  readonly pitch: number;
  /** Arm contrast 0..1 (0 without arms). */
  readonly armStrength: number;
  /** Phase of the arm pattern, radians. */
  readonly armPhase: number;
  /** The odd feature, if any. */
  readonly odd: OddFeature | null;
  /** How strong (visible) the odd feature is, 0..1 (0 without one). */
  readonly oddStrength: number;
  /** Merging / nearby companion (odd = merger), null otherwise. */
  readonly companion: Companion | null;
  /** Free parameters of the odd feature's shape (angles, radii), 0..1 each. */
  readonly oddShape: readonly number[];
  /** Bluer (young) versus redder (old) stellar population, 0 (red) .. 1 (blue). */
  readonly blueness: number;
  /** Small per-galaxy colour jitter, multiplied into RGB. */
  readonly tint: readonly [number, number, number];
  /** Foreground stars, placed away from the galaxy. */
  readonly stars: readonly PointSource[];
  /** Star-forming knots (disks), offsets from the galaxy centre in the disk plane (fraction of width). */
  readonly knots: readonly PointSource[];
  /**
   * How visible the galaxy's structure is (0..1) from its size and surface brightness; drives the
   * volunteers' confusion. Computed for the 424-pixel images volunteers looked at.
   */
  readonly visibility: number;
}

export interface MorphologyOptions {
  /** Fraction of objects that are stars or artifacts (default 0.02). */
  readonly starFraction?: number;
  /** Fraction of the remaining objects that are smooth (default 0.48). */
  readonly smoothFraction?: number;
  /** Fraction of galaxies with an odd feature (default 0.16). */
  readonly oddFraction?: number;
  /** Mean number of foreground stars per image (Poisson; default 2.5). */
  readonly meanStars?: number;
  /** Exact number of foreground stars (overrides `meanStars`). */
  readonly starCount?: number;
  /** Range of foreground star peak brightness (default [0.3, 8]); sampled log-uniformly. */
  readonly starFlux?: readonly [number, number];
  /** Force a kind (tests). */
  readonly kind?: GalaxyKind;
  /** Maximum jitter of the galaxy centre, fraction of width (default 0.012). */
  readonly centreJitter?: number;
}

const STAR_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [1.0, 0.62, 0.42],
  [1.0, 0.8, 0.6],
  [1.0, 0.92, 0.82],
  [0.9, 0.93, 1.0],
  [0.7, 0.82, 1.0],
];

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function lognormal(rng: Random, median: number, sigma: number): number {
  return median * Math.exp(rng.normal(0, sigma));
}

/** Projected axis ratio of a disk of intrinsic thickness q0 at inclination i (Hubble 1926). */
export function projectedAxisRatio(inclinationDeg: number, q0 = 0.12): number {
  const c = Math.cos((inclinationDeg * Math.PI) / 180);
  return Math.sqrt(c * c * (1 - q0 * q0) + q0 * q0);
}

export function roundnessOf(axisRatio: number): Roundness {
  return axisRatio >= 0.8 ? 'completely_round' : axisRatio >= 0.45 ? 'in_between' : 'cigar_shaped';
}

/** Inclination (degrees) at and above which a disk counts as edge-on. */
export const EDGE_ON_INCLINATION = 76;

/** Pitch angle ranges (degrees) per winding class. */
const PITCH: Record<Winding, readonly [number, number]> = {
  tight: [7, 13],
  medium: [15, 22],
  loose: [25, 36],
};

/** Visibility of structure (0..1) from scale (fraction of width) and surface brightness. */
export function visibilityOf(scale: number, brightness: number): number {
  return sigmoid(2.2 * Math.log(scale / 0.038) + 1.6 * Math.log(brightness / 0.5));
}

/** Sample one object's true morphology. */
export function sampleMorphology(rng: Random, options: MorphologyOptions = {}): Morphology {
  const starFraction = options.starFraction ?? 0.02;
  const smoothFraction = options.smoothFraction ?? 0.48;
  const kind: GalaxyKind =
    options.kind ?? (rng.bool(starFraction) ? 'star' : rng.bool(smoothFraction) ? 'smooth' : 'disk');
  const jitter = options.centreJitter ?? 0.012;
  const centreX = rng.uniform(-jitter, jitter);
  const centreY = rng.uniform(-jitter, jitter);
  const positionAngle = rng.uniform(0, Math.PI);
  const blank = {
    starKind: null,
    roundness: null,
    inclination: 0,
    edgeOn: false,
    bulge: null,
    bulgeShape: null,
    bar: false,
    barStrength: 0,
    barLength: 0,
    barAngle: 0,
    spiral: false,
    arms: null,
    renderedArms: 0,
    winding: null,
    pitch: 0,
    armStrength: 0,
    armPhase: 0,
    odd: null,
    oddStrength: 0,
    companion: null,
    oddShape: [] as number[],
    knots: [] as PointSource[],
  };
  const tint: [number, number, number] = [1 + rng.normal(0, 0.05), 1 + rng.normal(0, 0.04), 1 + rng.normal(0, 0.05)];

  let base: Omit<Morphology, 'stars'>;
  if (kind === 'star') {
    const starKind: StarKind = rng.bool(0.65) ? 'star' : 'artifact';
    base = {
      ...blank,
      kind,
      starKind,
      centreX,
      centreY,
      positionAngle,
      scale: 0.006,
      brightness: starKind === 'star' ? Math.exp(rng.uniform(Math.log(3), Math.log(30))) : rng.uniform(0.5, 2.5),
      axisRatio: 1,
      sersicN: 1,
      bulgeFraction: 0,
      blueness: rng.next(),
      tint,
      oddShape: [rng.next(), rng.next(), rng.next()],
      visibility: 1,
    };
  } else if (kind === 'smooth') {
    const scale = clamp(lognormal(rng, 0.042, 0.33), 0.014, 0.1);
    const brightness = clamp(lognormal(rng, 0.55, 0.5), 0.08, 4);
    // Ellipticals: mostly round to moderately flattened, some very elongated.
    const axisRatio = clamp(rng.bool(0.08) ? rng.uniform(0.22, 0.45) : 1 - Math.abs(rng.normal(0, 0.25)), 0.22, 1);
    let odd: OddFeature | null = null;
    if (rng.bool(options.oddFraction ?? 0.16)) {
      odd = ODD_FEATURES[rng.categorical([0.14, 0.12, 0.2, 0, 0.14, 0.4, 0])];
    }
    base = {
      ...blank,
      kind,
      centreX,
      centreY,
      positionAngle,
      scale,
      brightness,
      axisRatio,
      sersicN: rng.uniform(2, 4),
      roundness: roundnessOf(axisRatio),
      bulgeFraction: 1,
      blueness: clamp(rng.normal(0.15, 0.1), 0, 1),
      tint,
      odd,
      oddStrength: odd ? rng.uniform(0.45, 1) : 0,
      companion: odd === 'merger' ? sampleCompanion(rng, scale, brightness) : null,
      oddShape: [rng.next(), rng.next(), rng.next(), rng.next()],
      visibility: visibilityOf(scale, brightness),
    };
  } else {
    base = sampleDisk(rng, options, { centreX, centreY, positionAngle, tint });
  }

  const stars = sampleStars(rng, options, base);
  return { ...base, stars };
}

function sampleCompanion(rng: Random, scale: number, brightness: number): Companion {
  const distance = scale * rng.uniform(1.3, 3.2);
  const angle = rng.uniform(0, 2 * Math.PI);
  return {
    x: distance * Math.cos(angle),
    y: distance * Math.sin(angle),
    radius: scale * rng.uniform(0.35, 0.9),
    axisRatio: rng.uniform(0.45, 1),
    positionAngle: rng.uniform(0, Math.PI),
    brightness: brightness * rng.uniform(0.5, 1.4),
    tail: rng.bool(0.75),
  };
}

interface DiskContext {
  centreX: number;
  centreY: number;
  positionAngle: number;
  tint: [number, number, number];
}

function sampleDisk(rng: Random, options: MorphologyOptions, ctx: DiskContext): Omit<Morphology, 'stars'> {
  const scale = clamp(lognormal(rng, 0.045, 0.3), 0.015, 0.11);
  const brightness = clamp(lognormal(rng, 0.85, 0.55), 0.1, 5);
  // Random orientation: cos(i) uniform.
  const inclination = (Math.acos(rng.next()) * 180) / Math.PI;
  const edgeOn = inclination >= EDGE_ON_INCLINATION;
  const axisRatio = projectedAxisRatio(inclination);

  let odd: OddFeature | null = null;
  if (rng.bool(options.oddFraction ?? 0.16)) {
    const weights = [0.16, 0.06, 0.17, 0.16, 0.1, 0.22, edgeOn ? 0.5 : 0];
    odd = ODD_FEATURES[rng.categorical(weights)];
  }
  const oddStrength = odd ? rng.uniform(0.45, 1) : 0;
  const irregular = odd === 'irregular';

  // Hubble stage t in [0, 1]: early (big bulge, tight arms) .. late (no bulge, loose arms).
  const stage = rng.next();
  const bulgeIndex = irregular ? rng.int(0, 1) : clamp(Math.round(2.3 - 2.4 * stage + rng.normal(0, 0.55)), 0, 3);
  const bulge = BULGE_PROMINENCES[bulgeIndex];
  const bulgeRanges: ReadonlyArray<readonly [number, number]> = [
    [0, 0.02],
    [0.05, 0.16],
    [0.2, 0.4],
    [0.48, 0.7],
  ];
  const bulgeFraction = rng.uniform(bulgeRanges[bulgeIndex][0], bulgeRanges[bulgeIndex][1]);

  let bulgeShape: BulgeShape | null = null;
  if (edgeOn) {
    bulgeShape = bulgeIndex === 0 ? 'no_bulge' : rng.bool(0.15) ? 'boxy' : 'rounded';
  }

  const bar = !edgeOn && !irregular && rng.bool(0.35);
  const barStrength = bar ? rng.uniform(0.35, 1) : 0;
  const barLength = bar ? scale * rng.uniform(1.0, 1.9) : 0;
  const barAngle = rng.uniform(0, Math.PI);

  const spiral = !edgeOn && !irregular && rng.bool(clamp(0.55 + 0.35 * stage, 0, 0.92));
  let arms: ArmCount | null = null;
  let renderedArms = 0;
  let winding: Winding | null = null;
  let pitch = 0;
  let armStrength = 0;
  if (spiral) {
    arms = ([1, 2, 3, 4, 5] as const)[rng.categorical([0.06, 0.52, 0.18, 0.11, 0.13])];
    renderedArms = arms === 5 ? rng.int(5, 6) : arms;
    const windingIndex = clamp(Math.round(2.2 * stage - 0.1 + rng.normal(0, 0.6)), 0, 2);
    winding = WINDINGS[windingIndex];
    pitch = rng.uniform(PITCH[winding][0], PITCH[winding][1]);
    armStrength = rng.uniform(0.35, 0.9);
  }

  const knots: PointSource[] = [];
  const knotCount = spiral || odd === 'irregular' ? rng.int(3, odd === 'irregular' ? 14 : 9) : rng.int(0, 2);
  for (let k = 0; k < knotCount; k++) {
    const r = scale * rng.uniform(0.6, 2.8);
    const theta = rng.uniform(0, 2 * Math.PI);
    knots.push({
      x: r * Math.cos(theta),
      y: r * Math.sin(theta),
      flux: brightness * rng.uniform(0.15, odd === 'irregular' ? 0.9 : 0.45),
      colour: [0.6, 0.78, 1.0],
    });
  }

  return {
    kind: 'disk',
    starKind: null,
    centreX: ctx.centreX,
    centreY: ctx.centreY,
    positionAngle: ctx.positionAngle,
    scale,
    brightness,
    axisRatio,
    sersicN: rng.uniform(1.5, 4),
    roundness: null,
    inclination,
    edgeOn,
    bulgeFraction,
    bulge: edgeOn ? null : bulge,
    bulgeShape,
    bar,
    barStrength,
    barLength,
    barAngle,
    spiral,
    arms,
    renderedArms,
    winding,
    pitch,
    armStrength,
    armPhase: rng.uniform(0, 2 * Math.PI),
    odd,
    oddStrength,
    companion: odd === 'merger' ? sampleCompanion(rng, scale * 1.6, brightness * 0.6) : null,
    oddShape: [rng.next(), rng.next(), rng.next(), rng.next()],
    blueness: clamp(0.25 + 0.6 * stage + rng.normal(0, 0.12), 0, 1),
    tint: ctx.tint,
    knots,
    visibility: visibilityOf(scale, brightness),
  };
}

/** Outer extent of the galaxy (fraction of width) that foreground stars keep clear of. */
export function galaxyExtent(m: Omit<Morphology, 'stars'>): number {
  const body = m.kind === 'disk' ? 4 * m.scale : m.kind === 'smooth' ? 2.5 * m.scale : 0.03;
  const companion = m.companion ? Math.hypot(m.companion.x, m.companion.y) + 2 * m.companion.radius : 0;
  return Math.max(body, companion);
}

function sampleStars(rng: Random, options: MorphologyOptions, m: Omit<Morphology, 'stars'>): PointSource[] {
  const count = options.starCount ?? rng.poisson(options.meanStars ?? 2.5);
  const [lo, hi] = options.starFlux ?? [0.3, 8];
  const minDistance = Math.max(galaxyExtent(m) + 0.04, 0.12);
  const stars: PointSource[] = [];
  for (let i = 0; i < count; i++) {
    // Uniform over the frame, rejecting positions on top of the galaxy; radial fallback after
    // a few tries so that an exact count is always honoured.
    let x = 0;
    let y = 0;
    let placed = false;
    for (let attempt = 0; attempt < 20 && !placed; attempt++) {
      x = rng.uniform(-0.46, 0.46);
      y = rng.uniform(-0.46, 0.46);
      placed = Math.hypot(x - m.centreX, y - m.centreY) >= minDistance;
    }
    if (!placed) {
      const angle = rng.uniform(0, 2 * Math.PI);
      const r = Math.min(0.44, minDistance + rng.uniform(0, 0.05));
      x = clamp(m.centreX + r * Math.cos(angle), -0.46, 0.46);
      y = clamp(m.centreY + r * Math.sin(angle), -0.46, 0.46);
    }
    stars.push({
      x,
      y,
      flux: Math.exp(rng.uniform(Math.log(lo), Math.log(hi))),
      colour: STAR_COLOURS[rng.int(0, STAR_COLOURS.length - 1)],
    });
  }
  return stars;
}

/** The answer key per question number along the true path through the tree. */
export function trueAnswers(m: Morphology): Map<number, string> {
  const path = new Map<number, string>();
  if (m.kind === 'star') {
    path.set(1, 'star_or_artifact');
    return path;
  }
  if (m.kind === 'smooth') {
    path.set(1, 'smooth');
    path.set(7, m.roundness ?? 'in_between');
  } else {
    path.set(1, 'features_or_disk');
    path.set(2, m.edgeOn ? 'yes' : 'no');
    if (m.edgeOn) {
      path.set(9, m.bulgeShape ?? 'no_bulge');
    } else {
      path.set(3, m.bar ? 'bar' : 'no_bar');
      path.set(4, m.spiral ? 'spiral' : 'no_spiral');
      if (m.spiral) {
        path.set(10, m.winding ?? 'medium');
        path.set(11, (['one', 'two', 'three', 'four', 'more_than_four'] as const)[(m.arms ?? 2) - 1]);
      }
      path.set(5, m.bulge ?? 'just_noticeable');
    }
  }
  path.set(6, m.odd ? 'yes' : 'no');
  if (m.odd) path.set(8, m.odd);
  return path;
}
