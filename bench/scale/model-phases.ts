/**
 * The phases of `bench:scale` that run a model: one training epoch of the deep hierarchical model
 * streamed from the centre cache (checkpointing, so a killed epoch continues), and prediction of
 * every cached galaxy into a Kaggle CSV written atomically. Loaded only by these phases.
 */
import { CachedSource } from '../../src/data/cache.js';
import type { SplitName } from '../../src/data/batch.js';
import { kaggleCsvHeader, kaggleCsvRow } from '../../src/ensemble/kaggle.js';
import { buildHierarchicalModel } from '../../src/models/hierarchical.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { createManifest } from '../../src/models/manifest.js';
import { seedInitialWeights } from '../../src/models/seed-weights.js';
import { ANSWER_COUNT } from '../../src/questions/index.js';
import { predictBatches } from '../../src/train/evaluate.js';
import { train } from '../../src/train/trainer.js';
import { writeLinesAtomic } from '../../src/util/atomic.js';
import { CENTRE, type PhaseContext, type PhaseOutcome, SPLITS, paths } from './phases.js';

const source = (ctx: PhaseContext, split: SplitName) =>
  new CachedSource({ catalogue: paths(ctx.out).catalogue, cacheDir: paths(ctx.out).cache, params: CENTRE, split });

export async function trainPhase(ctx: PhaseContext): Promise<PhaseOutcome> {
  const p = paths(ctx.out);
  const data = source(ctx, 'train');
  const model = buildHierarchicalModel({ inputSize: 64, channels: 3, trunk: { kind: 'deep' } });
  seedInitialWeights(model, ctx.seed);
  // Ctrl-C: the batch in progress ends, a checkpoint is written, and the rerun goes on from it
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  try {
    const result = await train(model, {
      signal: stop.signal,
      train: data,
      epochs: 1,
      batchSize: ctx.batchSize,
      seed: ctx.seed,
      checkpoint: {
        dir: p.checkpoint,
        everySeconds: ctx.checkpointSeconds,
        ...(ctx.checkpointBatches ? { everyBatches: ctx.checkpointBatches } : {}),
      },
    });
    const manifest = createManifest(model, {
      kind: 'hierarchical',
      options: { trunk: { kind: 'deep' } },
      preprocessing: data.manifest.params,
    });
    await saveModel(model, p.model, { manifest });
    const resumedFrom = result.resumedFrom;
    // a resumed epoch trained only the batches after its checkpoint in this process
    const batches = Math.ceil(data.length / ctx.batchSize);
    const trained = !resumedFrom
      ? data.length
      : resumedFrom.epoch >= 1
        ? 0
        : Math.max(0, data.length - resumedFrom.batch * ctx.batchSize);
    return {
      items: trained,
      unit: 'images',
      detail: { train: data.length, batches, loss: result.history.at(-1)?.loss, resumedFrom },
    };
  } finally {
    process.off('SIGINT', onSignal);
    model.dispose();
  }
}

/** Cumulative predictions of every cached galaxy, split by split, as Kaggle CSV rows. */
async function* predictionRows(
  ctx: PhaseContext,
  model: Parameters<typeof predictBatches>[0],
  count: { n: number },
): AsyncGenerator<string> {
  yield kaggleCsvHeader();
  for (const split of SPLITS) {
    const data = source(ctx, split);
    if (data.length === 0) continue;
    for await (const { ids, cumulative } of predictBatches(model, data, { batchSize: ctx.batchSize })) {
      for (let i = 0; i < ids.length; i++)
        yield kaggleCsvRow(ids[i], cumulative.subarray(i * ANSWER_COUNT, (i + 1) * ANSWER_COUNT));
      count.n += ids.length;
    }
  }
}

export async function predictPhase(ctx: PhaseContext): Promise<PhaseOutcome> {
  const p = paths(ctx.out);
  const { model } = await loadModel(p.model);
  const count = { n: 0 };
  try {
    await writeLinesAtomic(p.predictions, predictionRows(ctx, model, count));
  } finally {
    model.dispose();
  }
  return { items: count.n, unit: 'images', detail: {} };
}
