/**
 * Writes a synthetic dataset in the Kaggle "Galaxy Challenge" layout so the same ingest path
 * serves it:
 *
 *   <outDir>/images_training_rev1/<GalaxyID>.jpg
 *   <outDir>/training_solutions_rev1.csv     GalaxyID,Class1.1,…,Class11.6 (cumulative, Kaggle Q6)
 *   <outDir>/vote_counts.csv                 GalaxyID,volunteers,Class1.1,… (raw vote counts)
 *   <outDir>/truth.json                      true morphology per galaxy
 *   <outDir>/synthetic-manifest.json         generator version + parameters (written last)
 *
 * Deterministic: every galaxy draws from RNG streams derived from (seed, index), so the same
 * parameters give byte-identical CSVs and identical images, and a smaller `count` gives a prefix
 * of a larger one. Generation happens in a temporary sibling directory that is renamed into place;
 * an existing complete dataset with the same parameters is reused.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeDirAtomic } from '../../util/atomic.js';
import { KAGGLE_COLUMNS } from '../../questions/index.js';
import { Random } from '../../util/random.js';
import { type Morphology, type MorphologyOptions, sampleMorphology } from './morphology.js';
import { type RenderOptions, encodeJpeg, renderGalaxy, toUint8 } from './render.js';
import { type VolunteerOptions, type VoteResult, simulateVotes } from './volunteers.js';

/** Bumped whenever the generator's output for the same parameters changes. */
export const SYNTHETIC_GENERATOR_VERSION = 'gzh-synthetic/1';
export const SYNTHETIC_MANIFEST = 'synthetic-manifest.json';
export const SYNTHETIC_ID_START = 900000;

/** Options of one rendered synthetic galaxy: its morphology, volunteers and rendering. */
export interface SyntheticGalaxyOptions
  extends Omit<MorphologyOptions, 'kind'>,
    VolunteerOptions,
    Omit<RenderOptions, 'size'> {
  /** Image size in pixels (default 424). */
  readonly size?: number;
  /** First GalaxyID (default 900000); galaxy i gets idStart + i. */
  readonly idStart?: number;
}

/** Options of {@link generateSyntheticDataset}. */
export interface SyntheticDatasetOptions extends SyntheticGalaxyOptions {
  /** Folder the Kaggle-format data set is written into. */
  readonly outDir: string;
  /** Number of galaxies. */
  readonly count: number;
  /** Seed of the morphologies, votes and noise. */
  readonly seed: number;
  /** JPEG quality (default 90). */
  readonly quality?: number;
  /** Regenerate even when a complete dataset with the same parameters exists. */
  readonly force?: boolean;
  /** Called after each galaxy is written. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** One synthetic galaxy: its id, morphology and simulated volunteer votes. */
export interface SyntheticGalaxy {
  /** 0-based index of the galaxy in the data set. */
  readonly index: number;
  /** GalaxyID. */
  readonly id: number;
  /** Its true morphology. */
  readonly morphology: Morphology;
  /** The simulated volunteers' votes. */
  readonly votes: VoteResult;
}

/** What {@link generateSyntheticDataset} wrote: the folder, its files and the galaxy count. */
export interface SyntheticDataset {
  /** The data set's folder. */
  readonly outDir: string;
  /** Its images (images_training_rev1/). */
  readonly imagesDir: string;
  /** Its Kaggle solutions CSV (cumulative vote fractions). */
  readonly solutionsPath: string;
  /** Its vote counts CSV. */
  readonly countsPath: string;
  /** Its true morphologies (JSON lines). */
  readonly truthPath: string;
  /** Its manifest (the generator's parameters). */
  readonly manifestPath: string;
  /** Number of galaxies. */
  readonly count: number;
  /** True when an existing complete dataset was reused instead of generated. */
  readonly reused: boolean;
}

export interface SyntheticManifest {
  readonly generator: string;
  readonly params: Record<string, unknown>;
  readonly count: number;
  readonly files: { readonly images: string; readonly solutions: string; readonly counts: string; readonly truth: string };
}

/** Morphology and votes of galaxy `index` of a seeded dataset (no pixels). */
export function synthesizeGalaxy(seed: number, index: number, options: SyntheticGalaxyOptions = {}): SyntheticGalaxy {
  const morphology = sampleMorphology(Random.derive(seed, 'morphology', index), options);
  const votes = simulateVotes(morphology, Random.derive(seed, 'votes', index), options);
  return { index, id: (options.idStart ?? SYNTHETIC_ID_START) + index, morphology, votes };
}

/** The display-ready RGB image ([0, 1] floats, HWC) of a synthesized galaxy. */
export function renderSyntheticGalaxy(seed: number, galaxy: SyntheticGalaxy, options: SyntheticGalaxyOptions = {}): Float32Array {
  return renderGalaxy(galaxy.morphology, Random.derive(seed, 'pixels', galaxy.index), options);
}

/** Kaggle-style decimal: up to 9 places, no trailing zeros, never exponent notation. */
export function formatFraction(value: number): string {
  if (value === 0) return '0';
  if (value === 1) return '1';
  const text = value.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return text === '-0' ? '0' : text;
}

function manifestParams(options: SyntheticDatasetOptions): Record<string, unknown> {
  // Every option that affects the output, with defaults filled in, in a fixed order.
  return {
    count: options.count,
    seed: options.seed,
    size: options.size ?? 424,
    quality: options.quality ?? 90,
    idStart: options.idStart ?? SYNTHETIC_ID_START,
    volunteers: options.volunteers ?? 40,
    volunteerSpread: options.volunteerSpread ?? 'poisson',
    skillSpread: options.skillSpread ?? null,
    lapseRate: options.lapseRate ?? null,
    starFraction: options.starFraction ?? null,
    smoothFraction: options.smoothFraction ?? null,
    oddFraction: options.oddFraction ?? null,
    meanStars: options.meanStars ?? null,
    starCount: options.starCount ?? null,
    starFlux: options.starFlux ?? null,
    centreJitter: options.centreJitter ?? null,
    psf: options.psf ?? null,
    skyNoise: options.skyNoise ?? null,
  };
}

async function readManifest(dir: string): Promise<SyntheticManifest | null> {
  try {
    return JSON.parse(await readFile(join(dir, SYNTHETIC_MANIFEST), 'utf8')) as SyntheticManifest;
  } catch {
    return null;
  }
}

async function isComplete(dir: string, params: Record<string, unknown>): Promise<boolean> {
  const manifest = await readManifest(dir);
  if (!manifest || manifest.generator !== SYNTHETIC_GENERATOR_VERSION) return false;
  if (JSON.stringify(manifest.params) !== JSON.stringify(params)) return false;
  const paths = paths_(dir);
  if (![paths.solutionsPath, paths.countsPath, paths.truthPath].every((p) => existsSync(p))) return false;
  try {
    const images = (await readdir(paths.imagesDir)).filter((f) => f.endsWith('.jpg'));
    return images.length === manifest.count;
  } catch {
    return false;
  }
}

function paths_(outDir: string) {
  return {
    outDir,
    imagesDir: join(outDir, 'images_training_rev1'),
    solutionsPath: join(outDir, 'training_solutions_rev1.csv'),
    countsPath: join(outDir, 'vote_counts.csv'),
    truthPath: join(outDir, 'truth.json'),
    manifestPath: join(outDir, SYNTHETIC_MANIFEST),
  };
}

/** Compact, rounded copy of a morphology for truth.json. */
function truthRecord(g: SyntheticGalaxy): Record<string, unknown> {
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  const out: Record<string, unknown> = { GalaxyID: g.id, volunteers: g.votes.volunteers };
  for (const [key, value] of Object.entries(g.morphology)) {
    if (typeof value === 'number') out[key] = round(value);
    else if (Array.isArray(value)) out[key] = roundDeep(value, round);
    else if (value && typeof value === 'object') out[key] = roundDeep(value, round);
    else out[key] = value;
  }
  return out;
}

function roundDeep(value: unknown, round: (x: number) => number): unknown {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map((v) => roundDeep(v, round));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v, round)]));
  }
  return value;
}

/** Generate (or reuse) a synthetic Kaggle-format dataset. */
export async function generateSyntheticDataset(options: SyntheticDatasetOptions): Promise<SyntheticDataset> {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const size = options.size ?? 424;
  const quality = options.quality ?? 90;
  const outDir = resolve(options.outDir);
  const final = paths_(outDir);
  const params = manifestParams(options);

  if (!options.force && (await isComplete(outDir, params))) return { ...final, count, reused: true };
  await assertReplaceable(outDir);

  let reused = false;
  await writeDirAtomic(outDir, async (tmpDir) => {
    const tmp = paths_(tmpDir);
    await mkdir(tmp.imagesDir, { recursive: true });
    const solutionLines = [['GalaxyID', ...KAGGLE_COLUMNS].join(',')];
    const countLines = [['GalaxyID', 'volunteers', ...KAGGLE_COLUMNS].join(',')];
    const truth: Record<string, unknown>[] = [];
    // Render on this thread while sharp encodes and files are written in the background.
    const inFlight = new Set<Promise<void>>();
    let done = 0;
    for (let i = 0; i < count; i++) {
      const galaxy = synthesizeGalaxy(seed, i, options);
      solutionLines.push([String(galaxy.id), ...Array.from(galaxy.votes.cumulative, formatFraction)].join(','));
      countLines.push([String(galaxy.id), String(galaxy.votes.volunteers), ...Array.from(galaxy.votes.counts, String)].join(','));
      truth.push(truthRecord(galaxy));
      const pixels = toUint8(renderSyntheticGalaxy(seed, galaxy, { ...options, size }));
      const job = encodeJpeg(pixels, size, quality)
        .then((jpeg) => writeFile(join(tmp.imagesDir, `${galaxy.id}.jpg`), jpeg))
        .then(() => {
          inFlight.delete(job);
          options.onProgress?.(++done, count);
        });
      inFlight.add(job);
      if (inFlight.size >= 8) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await writeFile(tmp.solutionsPath, solutionLines.join('\n') + '\n');
    await writeFile(tmp.countsPath, countLines.join('\n') + '\n');
    await writeFile(tmp.truthPath, JSON.stringify({ generator: SYNTHETIC_GENERATOR_VERSION, seed, galaxies: truth }) + '\n');
    const manifest: SyntheticManifest = {
      generator: SYNTHETIC_GENERATOR_VERSION,
      params,
      count,
      files: {
        images: 'images_training_rev1',
        solutions: 'training_solutions_rev1.csv',
        counts: 'vote_counts.csv',
        truth: 'truth.json',
      },
    };
    await writeFile(tmp.manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  }, {
    // Another process may have finished the same dataset meanwhile: keep theirs.
    keepExisting: async (existing) => {
      if (!options.force && (await isComplete(existing, params))) return (reused = true);
      await assertReplaceable(existing);
      return false;
    },
  });
  return { ...final, count, reused };
}

/** Only an empty directory or an earlier synthetic dataset may be replaced. */
async function assertReplaceable(outDir: string): Promise<void> {
  if (!existsSync(outDir)) return;
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch {
    throw new Error(`${outDir} exists and is not a directory`);
  }
  if (entries.length === 0) return;
  if (await readManifest(outDir)) return;
  throw new Error(`${outDir} is not empty and holds no ${SYNTHETIC_MANIFEST}: refusing to overwrite it (choose another --out)`);
}
