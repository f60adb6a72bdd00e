/**
 * The phases of `bench:scale`, each run in its own process by bench/scale.ts so that its peak
 * memory is its own: ingest → preprocess (contour 106 gray, centre 64 RGB) → one training epoch of
 * the deep hierarchical model streamed from the cache → predict every cached galaxy → evaluate.
 * Every phase leaves its output complete or not at all (atomic writes), and the training phase
 * checkpoints, so a killed phase is run again (training: continued) by the next bench run.
 */
import { join } from 'node:path';
import { Catalogue } from '../../src/data/catalogue.js';
import type { SplitName } from '../../src/data/batch.js';
import type { PreprocessParams } from '../../src/data/images/preprocess.js';
import { buildCache } from '../../src/data/cache.js';
import { ingest } from '../../src/data/ingest.js';
import { openCsv } from '../../src/data/csv.js';
import { InputError } from '../../src/errors.js';
import { ANSWER_COUNT } from '../../src/questions/index.js';
import { MetricsAccumulator } from '../../src/train/metrics.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import type { ScaleInput } from './input.js';

export const PHASES = ['ingest', 'preprocess-contour', 'preprocess-centre', 'train', 'predict', 'evaluate'] as const;
export type PhaseName = (typeof PHASES)[number];

/** The two preprocessings of the issue: the seed's contour crop and the centre crop the deep model reads. */
export const CONTOUR: PreprocessParams = { mode: 'contour', size: 106, channels: 1 };
export const CENTRE: PreprocessParams = { mode: 'center', size: 64, channels: 3, centerCrop: 207 };

/** Settings shared by every phase of one bench run. */
export interface PhaseContext {
  readonly out: string;
  readonly input: ScaleInput;
  readonly seed: number;
  readonly batchSize: number;
  /** Preprocessing worker threads (default: one per core). */
  readonly workers?: number;
  /** Training checkpoints inside the epoch this often (seconds). */
  readonly checkpointSeconds: number;
  /** …and every this many batches (for fault tests). */
  readonly checkpointBatches?: number;
}

/** What a phase did: how many items (rows or images) and anything else worth reporting. */
export interface PhaseOutcome {
  readonly items: number;
  readonly unit: 'rows' | 'images';
  readonly detail: Record<string, unknown>;
}

export const paths = (out: string) => ({
  catalogue: join(out, 'catalogue.sqlite'),
  cache: join(out, 'cache'),
  checkpoint: join(out, 'train', 'checkpoint'),
  model: join(out, 'model'),
  predictions: join(out, 'predictions.csv'),
  evaluation: join(out, 'evaluation.json'),
});

export const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

async function ingestPhase(ctx: PhaseContext): Promise<PhaseOutcome> {
  const { input } = ctx;
  const report = await ingest(paths(ctx.out).catalogue, {
    format: input.format,
    labels: input.labels,
    ...(input.images ? { images: input.images } : {}),
    ...(input.mapping ? { mapping: input.mapping } : {}),
    labelsOnly: input.labelsOnly,
    seed: ctx.seed,
  });
  const { rows, accepted, rejected, splits } = report;
  return {
    items: rows,
    unit: 'rows',
    detail: { accepted, rejected, splits, rejectedByReason: report.rejectedByReason },
  };
}

async function preprocessPhase(ctx: PhaseContext, params: PreprocessParams): Promise<PhaseOutcome> {
  const result = await buildCache({
    catalogue: paths(ctx.out).catalogue,
    cacheDir: paths(ctx.out).cache,
    params,
    force: true,
    ...(ctx.workers !== undefined ? { workers: ctx.workers } : {}),
  });
  const m = result.manifest;
  return {
    items: m.catalogue.galaxies,
    unit: 'images',
    detail: { cached: m.ids.length, failures: m.failures.length, crops: m.crops },
  };
}

/**
 * Scores predictions.csv against the catalogue's cumulative targets, streaming both: the file holds
 * the cached galaxies of each split in catalogue order, so one pass over each side joins them.
 */
async function evaluatePhase(ctx: PhaseContext): Promise<PhaseOutcome> {
  const p = paths(ctx.out);
  const table = await openCsv(p.predictions);
  const rows = table.rows()[Symbol.asyncIterator]();
  const catalogue = new Catalogue(p.catalogue);
  const metrics: Record<string, ReturnType<MetricsAccumulator['result']>> = {};
  let items = 0;
  try {
    let next = await rows.next();
    for (const split of SPLITS) {
      const acc = new MetricsAccumulator();
      const predicted = new Float32Array(ANSWER_COUNT);
      for (const galaxy of catalogue.iterate(split)) {
        if (next.done || next.value.values[0] !== galaxy.id) continue; // not cached: no prediction
        for (let a = 0; a < ANSWER_COUNT; a++) predicted[a] = Number(next.value.values[a + 1]);
        acc.update(galaxy.cumulative, predicted, 1);
        next = await rows.next();
      }
      if (acc.count > 0) metrics[split] = acc.result();
      items += acc.count;
    }
    if (!next.done)
      throw new InputError(
        `${p.predictions}: row ${next.value.line} (${next.value.values[0]}) is not a galaxy of ` +
          `${p.catalogue} in catalogue order`,
      );
  } finally {
    catalogue.close();
  }
  const summary = Object.fromEntries(
    Object.entries(metrics).map(([split, m]) => [split, { count: m.count, rmse: m.rmse, r2: m.r2 }]),
  );
  await writeFileAtomic(p.evaluation, `${JSON.stringify(metrics, null, 2)}\n`);
  return { items, unit: 'images', detail: summary };
}

/** Runs one phase in this process. */
export function runPhase(name: PhaseName, ctx: PhaseContext): Promise<PhaseOutcome> {
  switch (name) {
    case 'ingest':
      return ingestPhase(ctx);
    case 'preprocess-contour':
      return preprocessPhase(ctx, CONTOUR);
    case 'preprocess-centre':
      return preprocessPhase(ctx, CENTRE);
    case 'train':
      // the model phases alone load TensorFlow.js, so the others' memory figures are their own
      return import('./model-phases.js').then((m) => m.trainPhase(ctx));
    case 'predict':
      return import('./model-phases.js').then((m) => m.predictPhase(ctx));
    case 'evaluate':
      return evaluatePhase(ctx);
  }
}
