/**
 * Augmentation settings, their defaults and validation. Errors name the offending field, so a
 * typo in an experiment file fails at load time rather than silently training without it.
 */
import type { FillMode, GeometryRange, SamplerChoice } from './affine.js';
import { ConfigError } from '../errors.js';

/**
 * The `augment` section of an experiment config, as written: `outputSize` and any settings that differ from the
 * defaults.
 */
export interface AugmentConfig {
  /** Side of the square network input, pixels. Required. */
  readonly outputSize: number;
  /** A random exact D4 element per image (8 orientations, no interpolation). Default false. */
  readonly d4?: boolean;
  /** A rotation angle uniform in [0, 2π) per image. Default false. */
  readonly rotate?: boolean;
  /** Zoom, log-uniform in [min, max]; a number z means [1/z, z]. Default 1 (none). */
  readonly zoom?: number | readonly [number, number];
  /** Translation, uniform in ±translate source pixels per axis. Default 0. */
  readonly translate?: number;
  /** A horizontal mirror with probability ½ per image. Default false. */
  readonly mirror?: boolean;
  /** Additive brightness, uniform in ±brightness (image value units). Default 0. */
  readonly brightness?: number;
  /** Contrast factor uniform in [1 − contrast, 1 + contrast], about each image's channel means. Default 0. */
  readonly contrast?: number;
  /** Edge handling for samples outside the source (never reached in a valid config). Default 'nearest'. */
  readonly fillMode?: FillMode;
  /** Value read outside the source with fillMode 'constant'. Default 0. */
  readonly fillValue?: number;
  /** Which resampler to use; 'auto' picks per backend. Default 'auto'. */
  readonly sampler?: SamplerChoice;
}

/** An augment config with every default filled in and every value checked. */
export interface ResolvedAugmentConfig {
  /** Network input side, pixels. */
  readonly outputSize: number;
  /** Random D4 elements. */
  readonly d4: boolean;
  /** Random rotations by any angle. */
  readonly rotate: boolean;
  /** Zoom range [min, max]. */
  readonly zoom: readonly [number, number];
  /** Largest translation, pixels of the network input. */
  readonly translate: number;
  /** Random horizontal mirror. */
  readonly mirror: boolean;
  /** Largest additive brightness change. */
  readonly brightness: number;
  /** Largest relative contrast change. */
  readonly contrast: number;
  /** Edge handling for samples outside the source. */
  readonly fillMode: FillMode;
  /** Value read outside the source with fillMode 'constant'. */
  readonly fillValue: number;
  /** Which resampler to use. */
  readonly sampler: SamplerChoice;
}

/** An invalid `augment` section of an experiment config; `field` names the setting. */
export class AugmentConfigError extends ConfigError {
  /**
   * @param field - the field of the augment section that is wrong, e.g. `zoom`.
   * @param message - what is wrong with it.
   */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`augment.${field}: ${message}`);
  }
}

const KNOWN_FIELDS = new Set([
  'outputSize',
  'd4',
  'rotate',
  'zoom',
  'translate',
  'mirror',
  'brightness',
  'contrast',
  'fillMode',
  'fillValue',
  'sampler',
]);

function finite(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new AugmentConfigError(field, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegative(field: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  const x = finite(field, v);
  if (x < 0) throw new AugmentConfigError(field, `must be ≥ 0, got ${x}`);
  return x;
}

function bool(field: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new AugmentConfigError(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new AugmentConfigError(
      field,
      `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
}

function zoomRange(v: unknown): [number, number] {
  if (v === undefined) return [1, 1];
  if (typeof v === 'number') {
    const z = finite('zoom', v);
    if (z < 1) throw new AugmentConfigError('zoom', `a single zoom z means [1/z, z] and must be ≥ 1, got ${z}`);
    return [1 / z, z];
  }
  if (!Array.isArray(v) || v.length !== 2)
    throw new AugmentConfigError('zoom', `must be a number or [min, max], got ${JSON.stringify(v)}`);
  const lo = finite('zoom[0]', v[0]);
  const hi = finite('zoom[1]', v[1]);
  if (!(lo > 0)) throw new AugmentConfigError('zoom', `min must be > 0, got ${lo}`);
  if (hi < lo) throw new AugmentConfigError('zoom', `min ${lo} exceeds max ${hi}`);
  return [lo, hi];
}

/** Validate (e.g. parsed JSON) and fill in defaults. */
export function resolveAugmentConfig(input: unknown): ResolvedAugmentConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AugmentConfigError('(config)', `must be an object, got ${JSON.stringify(input)}`);
  }
  const cfg = input as Record<string, unknown>;
  for (const key of Object.keys(cfg)) {
    if (!KNOWN_FIELDS.has(key))
      throw new AugmentConfigError(key, `unknown field (known: ${[...KNOWN_FIELDS].join(', ')})`);
  }
  const outputSize = cfg.outputSize;
  if (typeof outputSize !== 'number' || !Number.isInteger(outputSize) || outputSize < 1) {
    throw new AugmentConfigError(
      'outputSize',
      `is required and must be a positive integer, got ${JSON.stringify(outputSize)}`,
    );
  }
  const contrast = nonNegative('contrast', cfg.contrast, 0);
  if (contrast >= 1)
    throw new AugmentConfigError(
      'contrast',
      `must be < 1 (factors in [1 − c, 1 + c] must stay positive), got ${contrast}`,
    );
  return Object.freeze({
    outputSize,
    d4: bool('d4', cfg.d4),
    rotate: bool('rotate', cfg.rotate),
    zoom: Object.freeze(zoomRange(cfg.zoom)) as readonly [number, number],
    translate: nonNegative('translate', cfg.translate, 0),
    mirror: bool('mirror', cfg.mirror),
    brightness: nonNegative('brightness', cfg.brightness, 0),
    contrast,
    fillMode: oneOf('fillMode', cfg.fillMode, ['nearest', 'constant'] as const, 'nearest'),
    fillValue: cfg.fillValue === undefined ? 0 : finite('fillValue', cfg.fillValue),
    sampler: oneOf('sampler', cfg.sampler, ['auto', 'kernel', 'gather'] as const, 'auto'),
  });
}

/** The reach-relevant part of a config (see maxSafeOutputSize / assertNoEmptyCorners). */
export function geometryRange(cfg: ResolvedAugmentConfig): GeometryRange {
  return { rotate: cfg.rotate, zoomMin: cfg.zoom[0], translate: cfg.translate };
}

/** True when the config moves pixels at all (otherwise a centre crop is the whole geometry). */
export function hasGeometry(cfg: ResolvedAugmentConfig): boolean {
  return cfg.d4 || cfg.rotate || cfg.mirror || cfg.translate > 0 || cfg.zoom[0] !== 1 || cfg.zoom[1] !== 1;
}
