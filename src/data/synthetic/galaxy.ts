/**
 * One synthetic galaxy by its place in a seeded data set: morphology, simulated volunteer votes
 * and pixels. Every quantity of galaxy `index` draws from RNG streams derived from (seed, index)
 * alone, so galaxies can be made in any order, on any thread, and a smaller data set is a prefix
 * of a larger one.
 */
import { Random } from '../../util/random.js';
import { type Morphology, type MorphologyOptions, sampleMorphology } from './morphology.js';
import { type RenderOptions, type RenderScratch, encodeJpeg, renderGalaxy, renderGalaxyUint8 } from './render.js';
import { type VolunteerOptions, type VoteResult, simulateVotes } from './volunteers.js';

/** First GalaxyID (Kaggle) or asset_id (GZ2) of a synthetic data set: galaxy i gets 900000 + i. */
export const SYNTHETIC_ID_START = 900000;

/** What shapes one synthetic galaxy: its morphology, volunteers and image. */
export interface SyntheticGalaxyOptions
  extends Omit<MorphologyOptions, 'kind'>, VolunteerOptions, Omit<RenderOptions, 'size'> {
  /** Image size in pixels (default 424). */
  readonly size?: number;
  /** First GalaxyID / asset_id (default 900000); galaxy i gets idStart + i. */
  readonly idStart?: number;
}

/** One synthetic galaxy: its id, morphology and simulated volunteer votes. */
export interface SyntheticGalaxy {
  /** 0-based index of the galaxy in the data set. */
  readonly index: number;
  /** GalaxyID (idStart + index). */
  readonly id: number;
  /** Its true morphology. */
  readonly morphology: Morphology;
  /** The simulated volunteers' votes. */
  readonly votes: VoteResult;
}

/** The morphology of galaxy `index` of a seeded data set (no votes, no pixels). */
function morphologyOf(seed: number, index: number, options: SyntheticGalaxyOptions): Morphology {
  return sampleMorphology(Random.derive(seed, 'morphology', index), options);
}

/** Morphology and votes of galaxy `index` of a seeded dataset (no pixels). */
export function synthesizeGalaxy(seed: number, index: number, options: SyntheticGalaxyOptions = {}): SyntheticGalaxy {
  const morphology = morphologyOf(seed, index, options);
  const votes = simulateVotes(morphology, Random.derive(seed, 'votes', index), options);
  return { index, id: (options.idStart ?? SYNTHETIC_ID_START) + index, morphology, votes };
}

/** The display-ready RGB image ([0, 1] floats, HWC) of a synthesized galaxy. */
export function renderSyntheticGalaxy(
  seed: number,
  galaxy: SyntheticGalaxy,
  options: SyntheticGalaxyOptions = {},
): Float32Array {
  return renderGalaxy(galaxy.morphology, Random.derive(seed, 'pixels', galaxy.index), options);
}

/**
 * The JPEG of galaxy `index` of a seeded data set: the same bytes as rendering
 * {@link synthesizeGalaxy}'s galaxy and encoding it, without simulating its volunteers.
 */
export async function syntheticJpeg(
  seed: number,
  index: number,
  options: SyntheticGalaxyOptions & { readonly size: number; readonly quality: number },
  scratch?: RenderScratch,
): Promise<Buffer> {
  const pixels = renderGalaxyUint8(
    morphologyOf(seed, index, options),
    Random.derive(seed, 'pixels', index),
    options,
    scratch,
  );
  return encodeJpeg(pixels, options.size, options.quality);
}
