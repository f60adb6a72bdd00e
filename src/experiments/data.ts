/**
 * The data side of an experiment: (synthetic generation →) ingest into a catalogue (cached) →
 * preprocessing (cached) → train / validation / test BatchSources shared by every variant, so all
 * variants see the identical split.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BatchSource, ImageShape, SplitName } from '../data/batch.js';
import { buildCache, openCachedSource } from '../data/cache.js';
import { openCatalogue, verifyCatalogue } from '../data/catalogue.js';
import { ingest } from '../data/ingest.js';
import { paramsKey } from '../data/images/preprocess.js';
import { generateSyntheticDataset } from '../data/synthetic/index.js';
import type { Progress } from '../util/progress.js';
import type { Experiment, PreprocessSettings } from './config.js';
import { canonicalJson } from './config.js';

export interface PhaseContext {
  /** A progress bar for a long step (silent under --quiet / --json / no TTY). */
  readonly progress: Progress;
  /** One line of chatter (dropped under --quiet / --json). */
  readonly log: (line: string) => void;
}

export interface IngestedData {
  /** SQLite catalogue with labels, image paths and the seeded split. */
  readonly catalogue: string;
  readonly cached: boolean;
  readonly counts: Readonly<Record<SplitName, number>>;
}

export interface PreparedData {
  readonly train: BatchSource;
  readonly validation: BatchSource;
  readonly test: BatchSource;
  readonly shape: ImageShape;
  readonly cached: boolean;
  /** Original image file of a galaxy (for report examples), or null. */
  imagePath(id: string): string | null;
  /** Description stored in model manifests. */
  readonly preprocessing: unknown;
  /** The image cache folder the splits are read from, when there is one (the prepare unit checks it still exists). */
  readonly cacheDir?: string;
}

/**
 * What the runner needs from the data pipeline. The default implementation below uses the
 * project's ingest and image preprocessing; tests and library users can inject their own.
 */
export interface DataPipeline {
  ingest(experiment: Experiment, ctx: PhaseContext): Promise<IngestedData>;
  /**
   * The three splits preprocessed with `preprocess` (default: the first variant's). Ensemble
   * members with their own preprocessing get their own call; every call must give the same
   * galaxies in the same order.
   */
  prepare(
    experiment: Experiment,
    ingested: IngestedData,
    ctx: PhaseContext,
    preprocess?: PreprocessSettings,
  ): Promise<PreparedData>;
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

function fileStamp(path: string): string {
  const s = statSync(path);
  return `${s.size}-${Math.round(s.mtimeMs)}`;
}

interface SourceFiles {
  readonly format: 'kaggle' | 'gz2';
  readonly labels: string;
  readonly images: string;
  /** GZ2: `gz2_filename_mapping.csv` beside the labels (objid → image), for label files without asset_id. */
  readonly mapping?: string;
}

async function sourceFiles(experiment: Experiment, ctx: PhaseContext): Promise<SourceFiles> {
  const d = experiment.data;
  if (d.source === 'synthetic') {
    const s = d.synthetic!;
    ctx.progress.start(s.count, `synthesize ${s.count} galaxies`);
    let last = 0;
    try {
      const dataset = await generateSyntheticDataset({
        outDir: d.path,
        count: s.count,
        seed: s.seed,
        size: s.size,
        onProgress: (done) => {
          ctx.progress.tick(done - last);
          last = done;
        },
      });
      if (dataset.reused) ctx.log(`synthetic data: reusing ${dataset.outDir}`);
      return { format: 'kaggle', labels: dataset.solutionsPath, images: dataset.imagesDir };
    } finally {
      ctx.progress.stop();
    }
  }
  if (d.source === 'kaggle') {
    const labels = join(d.path, 'training_solutions_rev1.csv');
    const images = join(d.path, 'images_training_rev1');
    if (!existsSync(labels))
      throw new Error(`Kaggle labels not found: ${labels} (set --data-dir, --data-path or data.path)`);
    return { format: 'kaggle', labels, images };
  }
  const labels = ['gz2_sample_labels.csv', 'gz2_hart16.csv', 'gz2_hart16.csv.gz']
    .map((f) => join(d.path, f))
    .find((f) => existsSync(f));
  if (!labels) throw new Error(`GZ2 labels not found in ${d.path} (expected gz2_sample_labels.csv or gz2_hart16.csv)`);
  const mapping = join(d.path, 'gz2_filename_mapping.csv');
  return { format: 'gz2', labels, images: join(d.path, 'images'), ...(existsSync(mapping) ? { mapping } : {}) };
}

/** Ingest into a catalogue under the experiment's cache dir, reused while labels, images, seed and split match. */
async function ingestExperiment(experiment: Experiment, ctx: PhaseContext): Promise<IngestedData> {
  const d = experiment.data;
  const files = await sourceFiles(experiment, ctx);
  const split = [1 - d.split.validation - d.split.test, d.split.validation, d.split.test] as const;
  // Debiased fractions are missing for some answers in GZ2 tables: those fall back to weighted
  // fractions. Other label kinds are taken as asked, or ingest says which column is missing.
  const values = d.labels ?? 'debiased';
  const fallback = values === 'debiased';
  const key = shortHash({
    version: 1,
    format: files.format,
    labels: files.labels,
    stamp: fileStamp(files.labels),
    images: files.images,
    values: d.labels ?? null,
    seed: experiment.seed,
    split,
    // only where they apply, so that other catalogues keep their keys
    ...(files.mapping ? { mapping: files.mapping, mappingStamp: fileStamp(files.mapping) } : {}),
    ...(fallback ? {} : { noFallback: true }),
  });
  const dir = join(experiment.cacheDir, 'catalogues');
  mkdirSync(dir, { recursive: true });
  const catalogue = join(dir, `${experiment.data.source}-${key}.sqlite`);
  let cached = existsSync(catalogue);
  const check = cached ? verifyCatalogue(catalogue) : null;
  if (check && !check.ok) {
    ctx.log(`ingest: rebuilding the cached catalogue: ${check.problem}`);
    cached = false;
  }
  if (!cached) {
    const report = await ingest(catalogue, {
      format: files.format,
      labels: files.labels,
      images: files.images,
      seed: experiment.seed,
      split,
      progress: ctx.progress,
      ...(files.format === 'gz2'
        ? { values, ...(fallback ? { fallbackValues: 'weighted_fraction' as const } : {}) }
        : {}),
      ...(files.mapping ? { mapping: files.mapping } : {}),
    });
    ctx.progress.stop();
    ctx.log(`ingest: ${report.accepted} galaxies accepted, ${report.rejected} rejected → ${catalogue}`);
  } else {
    ctx.log(`ingest: cached catalogue ${catalogue}`);
    cached = true;
  }
  const cat = openCatalogue(catalogue);
  try {
    return {
      catalogue,
      cached,
      counts: { train: cat.count('train'), validation: cat.count('validation'), test: cat.count('test') },
    };
  } finally {
    cat.close();
  }
}

/** The three splits through the image cache of one preprocessing (built once, then reused). */
async function prepareSplits(
  experiment: Experiment,
  ingested: IngestedData,
  ctx: PhaseContext,
  preprocess?: PreprocessSettings,
): Promise<PreparedData> {
  const p = preprocess ?? experiment.variants[0].settings.preprocess;
  const params = { mode: p.method, size: p.size, channels: p.channels, centerCrop: p.centerCrop } as const;
  // One cache root per catalogue, so experiments on different data never evict each other.
  const cacheRoot = join(experiment.cacheDir, 'images', basename(ingested.catalogue, '.sqlite'));
  const built = await buildCache({
    catalogue: ingested.catalogue,
    cacheDir: cacheRoot,
    params,
    progress: ctx.progress,
  });
  ctx.progress.stop();
  const m = built.manifest;
  ctx.log(
    built.reused
      ? `preprocess: cached ${m.ids.length} images (${paramsKey(m.params)})`
      : `preprocess: ${m.ids.length} images in ${m.seconds.toFixed(1)}s (${m.imagesPerSecond.toFixed(0)}/s)` +
          (m.failures.length
            ? `, ${m.failures.length} unreadable (first: ${m.failures[0].id}: ${m.failures[0].message})`
            : ''),
  );
  const open = (split: SplitName) => openCachedSource({ catalogue: ingested.catalogue, cacheDir: built.dir, split });
  const cat = openCatalogue(ingested.catalogue);
  let paths: Map<string, string | null>;
  try {
    paths = new Map(cat.galaxies().map((r) => [r.id, r.imagePath]));
  } finally {
    cat.close();
  }
  return {
    train: open('train'),
    validation: open('validation'),
    test: open('test'),
    shape: m.shape,
    cached: built.reused,
    imagePath: (id) => paths.get(id) ?? null,
    preprocessing: m.params,
    cacheDir: built.dir,
  };
}

/** The default pipeline: the project's ingest and image cache, both kept under the experiment's cache dir. */
export function defaultDataPipeline(): DataPipeline {
  return { ingest: ingestExperiment, prepare: prepareSplits };
}
