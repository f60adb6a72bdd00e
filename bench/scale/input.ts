/**
 * The labels and images one `bench:scale` run ingests: a data folder given with `--data` (its
 * first `--count` rows when it holds more), or a synthetic set generated once and reused.
 */
import { createReadStream, existsSync, linkSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError } from '../../src/errors.js';
import { generateSyntheticDataset } from '../../src/data/synthetic/index.js';
import { writeLinesAtomic } from '../../src/util/atomic.js';

export type ScaleFormat = 'kaggle' | 'gz2';

/** What the ingest phase reads. */
export interface ScaleInput {
  readonly format: ScaleFormat;
  readonly labels: string;
  readonly images?: string;
  /** GZ2: `gz2_filename_mapping.csv` (objid → asset_id). */
  readonly mapping?: string;
  readonly labelsOnly: boolean;
}

export interface InputOptions {
  readonly format: ScaleFormat;
  /** Galaxies with images (Kaggle: also the label rows). */
  readonly count: number;
  /** GZ2 label rows (default: count). */
  readonly rows?: number;
  /** An existing data folder; otherwise a synthetic one under `generatedDir`. */
  readonly data?: string;
  readonly generatedDir: string;
  /** Where a subset of a larger Kaggle folder is laid out (labels prefix + image links). */
  readonly subsetDir: string;
  readonly seed: number;
  /** Labels without images (ingest only): no image checks, nothing to preprocess. */
  readonly labelsOnly?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

const KAGGLE_LABELS = 'training_solutions_rev1.csv';
const KAGGLE_IMAGES = 'images_training_rev1';

/** Resolves (generating when needed) the labels and images for `options`. */
export async function prepareInput(options: InputOptions): Promise<ScaleInput> {
  const dir = options.data ? resolve(options.data) : await generate(options);
  if (options.format === 'gz2') return gz2Layout(dir);
  const labels = join(dir, KAGGLE_LABELS);
  const images = join(dir, KAGGLE_IMAGES);
  const needed = options.labelsOnly ? [labels] : [labels, images];
  for (const path of needed)
    if (!existsSync(path)) throw new InputError(`${dir} is not a Kaggle-layout folder: ${path} is missing`);
  const input: ScaleInput = options.labelsOnly
    ? { format: 'kaggle', labels, labelsOnly: true }
    : { format: 'kaggle', labels, images, labelsOnly: false };
  return kaggleSubset(input, options.count, options.subsetDir);
}

async function generate(options: InputOptions): Promise<string> {
  const outDir = join(
    options.generatedDir,
    `${options.format}-${options.format === 'gz2' ? `${options.rows ?? options.count}r-` : ''}${options.count}`,
  );
  const common = {
    outDir,
    count: options.count,
    seed: options.seed,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  const rows = options.format === 'gz2' ? { rows: options.rows ?? options.count } : {};
  await generateSyntheticDataset({
    ...common,
    ...rows,
    format: options.format,
    labelsOnly: options.labelsOnly ?? false,
  });
  return outDir;
}

function gz2Layout(dir: string): ScaleInput {
  const labels = ['gz2_hart16.csv.gz', 'gz2_hart16.csv'].map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!labels) {
    throw new InputError(
      `${dir} holds no gz2_hart16.csv(.gz): --format gz2 needs a GZ2-layout folder (the synthetic ` +
        `generator's format 'gz2', or --data)`,
    );
  }
  const mapping = join(dir, 'gz2_filename_mapping.csv');
  const images = join(dir, 'images');
  const hasImages = existsSync(images);
  return {
    format: 'gz2',
    labels,
    ...(existsSync(mapping) ? { mapping } : {}),
    ...(hasImages ? { images } : {}),
    labelsOnly: !hasImages,
  };
}

/**
 * The first `count` rows of a Kaggle folder: the folder itself when it holds exactly `count`,
 * else a labels file of its first `count` data rows and a folder of links to their images.
 */
async function kaggleSubset(input: ScaleInput, count: number, subsetDir: string): Promise<ScaleInput> {
  const ids: string[] = [];
  let total = 0;
  const lines = createInterface({ input: createReadStream(input.labels), crlfDelay: Infinity });
  let header = '';
  const kept: string[] = [];
  for await (const line of lines) {
    if (header === '') {
      header = line;
      continue;
    }
    if (line.trim() === '') continue;
    total++;
    if (total <= count) {
      kept.push(line);
      ids.push(line.slice(0, line.indexOf(',')));
    }
  }
  if (total < count) throw new InputError(`${input.labels} has ${total} rows, fewer than --count ${count}`);
  if (total === count) return input;
  rmSync(subsetDir, { recursive: true, force: true });
  mkdirSync(subsetDir, { recursive: true });
  const labels = join(subsetDir, KAGGLE_LABELS);
  await writeLinesAtomic(labels, [header, ...kept]);
  if (!input.images) return { ...input, labels };
  const images = join(subsetDir, KAGGLE_IMAGES);
  mkdirSync(images, { recursive: true });
  for (const id of ids) linkOrSymlink(join(input.images, `${id}.jpg`), join(images, `${id}.jpg`));
  return { ...input, labels, images };
}

/**
 * A hard link to `target` (a subset's images then cost what the full folder's do to open), or a
 * symbolic link where hard links cannot be made (another file system, a read-only source).
 */
function linkOrSymlink(target: string, path: string): void {
  try {
    linkSync(target, path);
  } catch {
    symlinkSync(target, path);
  }
}
