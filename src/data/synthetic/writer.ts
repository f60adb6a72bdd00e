/**
 * Writes a seeded synthetic data set in the layout of a real download so the same ingest path
 * serves it:
 *
 * - `kaggle`: the Galaxy Challenge layout (kaggle-layout.ts): `images_training_rev1/<GalaxyID>.jpg`,
 *   `training_solutions_rev1.csv`, `vote_counts.csv`;
 * - `gz2`: the Galaxy Zoo 2 layout (gz2-layout.ts): `gz2_hart16.csv.gz` with every column family
 *   of the Hart et al. (2016) table, `gz2_filename_mapping.csv` and `images/<asset_id>.jpg` for the
 *   first `count` of its `rows` galaxies;
 *
 * plus `truth.jsonl` (true morphology per galaxy) and `synthetic-manifest.json` (generator version
 * and parameters, written last).
 *
 * Deterministic: every galaxy draws from RNG streams derived from (seed, index), so the same
 * parameters give byte-identical files whatever the number of worker threads, and a smaller count
 * gives a prefix of a larger one. Label rows are streamed to disk by this thread while worker
 * threads render, encode and write the images, so memory does not grow with the size. Generation
 * happens in a temporary sibling directory that is renamed into place (what a killed generation
 * left is removed by the next one); an existing complete data set with the same parameters is
 * reused.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { cleanStaleTemps, writeDirAtomic } from '../../util/atomic.js';
import { SYNTHETIC_ID_START, type SyntheticGalaxyOptions, synthesizeGalaxy } from './galaxy.js';
import { GZ2_FILES, openGz2Labels } from './gz2-layout.js';
import { defaultImageWorkers, writeSyntheticImages } from './image-pool.js';
import { KAGGLE_FILES, openKaggleLabels } from './kaggle-layout.js';
import { type LabelFiles, LineSink } from './line-sink.js';
import { TRUTH_FILE, truthLine } from './truth.js';

/** Bumped whenever the generator's output for the same parameters changes. */
export const SYNTHETIC_GENERATOR_VERSION = 'gzh-synthetic/3';
export const SYNTHETIC_MANIFEST = 'synthetic-manifest.json';

/** The download a synthetic data set imitates. */
export type SyntheticFormat = 'kaggle' | 'gz2';

/** Options of {@link generateSyntheticDataset}. */
export interface SyntheticDatasetOptions extends SyntheticGalaxyOptions {
  /** Folder the data set is written into (replaced atomically). */
  readonly outDir: string;
  /** Galaxies (Kaggle), or galaxies with an image, the first of the `rows` (GZ2). */
  readonly count: number;
  /** Seed of the morphologies, votes and noise. */
  readonly seed: number;
  /** Layout of the files (default `kaggle`). */
  readonly format?: SyntheticFormat;
  /** GZ2 only: label rows (default `count`; at least `count`): rows past `count` have no image. */
  readonly rows?: number;
  /** Write the label files only, no images. */
  readonly labelsOnly?: boolean;
  /** Worker threads that render and encode images (default: one per available CPU; 0: this thread). */
  readonly workers?: number;
  /** JPEG quality (default 90). */
  readonly quality?: number;
  /** Regenerate even when a complete dataset with the same parameters exists. */
  readonly force?: boolean;
  /** Called as galaxies are done (label row written and, when it has one, image written): done of total rows. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What {@link generateSyntheticDataset} wrote: the folder, its files and the galaxy count. */
export interface SyntheticDataset {
  /** The data set's folder. */
  readonly outDir: string;
  /** The layout written. */
  readonly format: SyntheticFormat;
  /** The image folder (absent when no image was written). */
  readonly imagesDir: string;
  /** The labels file: training_solutions_rev1.csv (Kaggle) or gz2_hart16.csv.gz (GZ2). */
  readonly labelsPath: string;
  /** The Kaggle name of {@link SyntheticDataset.labelsPath}. */
  readonly solutionsPath: string;
  /** Kaggle: vote_counts.csv; null for GZ2, whose table holds the counts. */
  readonly countsPath: string | null;
  /** GZ2: gz2_filename_mapping.csv; null for Kaggle. */
  readonly mappingPath: string | null;
  /** The true morphologies, one JSON line per galaxy (truth.jsonl). */
  readonly truthPath: string;
  /** The manifest (generator version and parameters), written last. */
  readonly manifestPath: string;
  /** The `count` asked for. */
  readonly count: number;
  /** Label rows written. */
  readonly rows: number;
  /** Images written. */
  readonly images: number;
  /** True when an existing complete dataset was reused instead of generated. */
  readonly reused: boolean;
}

/** synthetic-manifest.json: what made a data set, and its files. */
export interface SyntheticManifest {
  readonly generator: string;
  readonly params: Record<string, unknown>;
  readonly count: number;
  readonly rows: number;
  readonly images: number;
  readonly files: Record<string, string | null>;
}

/** The sizes of a data set: label rows and images. */
interface Sizes {
  readonly format: SyntheticFormat;
  readonly rows: number;
  readonly images: number;
}

function sizesOf(options: SyntheticDatasetOptions): Sizes {
  const { count, seed } = options;
  const format = options.format ?? 'kaggle';
  if (format !== 'kaggle' && format !== 'gz2')
    throw new InputError(`format must be kaggle or gz2, got ${String(format)}`);
  if (!Number.isInteger(count) || count < 1) throw new InputError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(seed)) throw new InputError(`seed must be an integer, got ${seed}`);
  const workers = options.workers;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
    throw new InputError(`workers must be an integer ≥ 0, got ${workers}`);
  }
  const rows = options.rows ?? count;
  if (format === 'kaggle' && rows !== count) {
    throw new InputError(`rows (${rows}) is for the gz2 format; a Kaggle data set has one row per image (count)`);
  }
  if (!Number.isInteger(rows) || rows < count)
    throw new InputError(`rows must be an integer ≥ count (${count}), got ${rows}`);
  return { format, rows, images: options.labelsOnly ? 0 : count };
}

function manifestParams(options: SyntheticDatasetOptions, sizes: Sizes): Record<string, unknown> {
  // Every option that affects the output, with defaults filled in, in a fixed order.
  return {
    format: sizes.format,
    count: options.count,
    rows: sizes.rows,
    labelsOnly: options.labelsOnly ?? false,
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

/** The files of a data set of `format` in `outDir`. */
function pathsOf(outDir: string, format: SyntheticFormat) {
  const files = format === 'kaggle' ? KAGGLE_FILES : GZ2_FILES;
  const labelsPath = join(outDir, files.labels);
  return {
    outDir,
    format,
    imagesDir: join(outDir, files.images),
    labelsPath,
    solutionsPath: labelsPath,
    countsPath: format === 'kaggle' ? join(outDir, KAGGLE_FILES.counts) : null,
    mappingPath: format === 'gz2' ? join(outDir, GZ2_FILES.mapping) : null,
    truthPath: join(outDir, TRUTH_FILE),
    manifestPath: join(outDir, SYNTHETIC_MANIFEST),
  };
}

async function isComplete(dir: string, params: Record<string, unknown>, sizes: Sizes): Promise<boolean> {
  const manifest = await readManifest(dir);
  if (!manifest || manifest.generator !== SYNTHETIC_GENERATOR_VERSION) return false;
  if (JSON.stringify(manifest.params) !== JSON.stringify(params)) return false;
  const paths = pathsOf(dir, sizes.format);
  if (
    ![paths.labelsPath, paths.countsPath, paths.mappingPath, paths.truthPath].every((p) => p === null || existsSync(p))
  )
    return false;
  if (sizes.images === 0) return true;
  try {
    const images = (await readdir(paths.imagesDir)).filter((f) => f.endsWith('.jpg'));
    return images.length === sizes.images;
  } catch {
    return false;
  }
}

/**
 * Progress in galaxies: galaxy i is done once its label row is written (rows are written in
 * order) and, when it has an image, every image up to its own is written too (images complete in
 * ranges, out of order).
 */
class Tracker {
  private labels = 0;
  private imageFrontier = 0;
  private readonly finished = new Map<number, number>();
  private reported = 0;

  constructor(
    private readonly sizes: Sizes,
    private readonly onProgress?: (done: number, total: number) => void,
  ) {}

  label(): void {
    this.labels++;
    this.report();
  }

  images(from: number, to: number): void {
    this.finished.set(from, to);
    for (
      let next = this.finished.get(this.imageFrontier);
      next !== undefined;
      next = this.finished.get(this.imageFrontier)
    ) {
      this.finished.delete(this.imageFrontier);
      this.imageFrontier = next;
    }
    this.report();
  }

  private report(): void {
    const imaged = this.imageFrontier >= this.sizes.images ? this.sizes.rows : this.imageFrontier;
    const done = Math.min(this.labels, imaged);
    if (done > this.reported) {
      this.reported = done;
      this.onProgress?.(done, this.sizes.rows);
    }
  }
}

/** Streams every label row (and the truth line) of galaxies [0, rows) in order. */
async function writeLabels(
  dir: string,
  options: SyntheticDatasetOptions,
  sizes: Sizes,
  tracker: Tracker,
): Promise<void> {
  const labels: LabelFiles =
    sizes.format === 'kaggle' ? await openKaggleLabels(dir) : await openGz2Labels(dir, options.seed);
  const truth = new LineSink(join(dir, TRUTH_FILE));
  const sinks = [...labels.sinks, truth];
  try {
    for (let i = 0; i < sizes.rows; i++) {
      const galaxy = synthesizeGalaxy(options.seed, i, options);
      await labels.write(galaxy);
      await truth.write(truthLine(galaxy));
      tracker.label();
    }
    for (const sink of sinks) await sink.close();
  } catch (error) {
    for (const sink of sinks) sink.destroy();
    throw error;
  }
}

/** Fills `dir` with a complete data set: labels on this thread while worker threads write the images. */
async function writeDataset(
  dir: string,
  options: SyntheticDatasetOptions,
  sizes: Sizes,
  params: Record<string, unknown>,
): Promise<void> {
  const paths = pathsOf(dir, sizes.format);
  const tracker = new Tracker(sizes, options.onProgress);
  const abort = new AbortController();
  let images: Promise<void> = Promise.resolve();
  if (sizes.images > 0) {
    await mkdir(paths.imagesDir, { recursive: true });
    const job = {
      seed: options.seed,
      options: { ...galaxyOptions(options), size: options.size ?? 424, quality: options.quality ?? 90 },
      dir: paths.imagesDir,
    };
    const workers = options.workers ?? defaultImageWorkers();
    images = writeSyntheticImages(job, sizes.images, workers, (from, to) => tracker.images(from, to), abort.signal);
  }
  const labels = writeLabels(dir, options, sizes, tracker).catch((error: unknown) => {
    abort.abort();
    throw error;
  });
  const [labelsDone, imagesDone] = await Promise.allSettled([labels, images]);
  if (labelsDone.status === 'rejected') throw labelsDone.reason;
  if (imagesDone.status === 'rejected') throw imagesDone.reason;
  const manifest: SyntheticManifest = {
    generator: SYNTHETIC_GENERATOR_VERSION,
    params,
    count: options.count,
    rows: sizes.rows,
    images: sizes.images,
    files: {
      images: sizes.images > 0 ? (sizes.format === 'kaggle' ? KAGGLE_FILES : GZ2_FILES).images : null,
      labels: sizes.format === 'kaggle' ? KAGGLE_FILES.labels : GZ2_FILES.labels,
      counts: sizes.format === 'kaggle' ? KAGGLE_FILES.counts : null,
      mapping: sizes.format === 'gz2' ? GZ2_FILES.mapping : null,
      truth: TRUTH_FILE,
    },
  };
  await writeFile(paths.manifestPath, JSON.stringify(manifest, null, 2) + '\n');
}

/** The options that shape one galaxy, without callbacks (they travel to worker threads). */
function galaxyOptions(options: SyntheticDatasetOptions): SyntheticGalaxyOptions {
  const { outDir: _o, count: _c, seed: _s, format: _f, rows: _r, labelsOnly: _l, ...rest } = options;
  const { workers: _w, quality: _q, force: _x, onProgress: _p, ...galaxy } = rest;
  return galaxy;
}

/** Generate (or reuse) a synthetic data set in the Kaggle or GZ2 layout. */
export async function generateSyntheticDataset(options: SyntheticDatasetOptions): Promise<SyntheticDataset> {
  const sizes = sizesOf(options);
  const outDir = resolve(options.outDir);
  const final = { ...pathsOf(outDir, sizes.format), count: options.count, rows: sizes.rows, images: sizes.images };
  const params = manifestParams(options, sizes);

  if (!options.force && (await isComplete(outDir, params, sizes))) return { ...final, reused: true };
  await assertReplaceable(outDir);
  await cleanStaleTemps(outDir); // what killed generations left behind

  let reused = false;
  await writeDirAtomic(outDir, (tmpDir) => writeDataset(tmpDir, options, sizes, params), {
    // Another process may have finished the same dataset meanwhile: keep theirs.
    keepExisting: async (existing) => {
      if (!options.force && (await isComplete(existing, params, sizes))) return (reused = true);
      await assertReplaceable(existing);
      return false;
    },
  });
  return { ...final, reused };
}

/** Only an empty directory or an earlier synthetic dataset may be replaced. */
async function assertReplaceable(outDir: string): Promise<void> {
  if (!existsSync(outDir)) return;
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch {
    throw new InputError(`${outDir} exists and is not a directory`);
  }
  if (entries.length === 0) return;
  if (await readManifest(outDir)) return;
  throw new InputError(
    `${outDir} is not empty and holds no ${SYNTHETIC_MANIFEST}: refusing to overwrite it (choose another --out)`,
  );
}
