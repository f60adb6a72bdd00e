/**
 * Prediction as a pipeline: worker threads decode and preprocess the next batches while the main
 * thread runs the current one through the members, so decoding and inference overlap. Built on
 * the predictor's public `preprocessings` and `predictPixels`; every image's pixels come from the
 * same `preprocessFile` as `predictMany`'s, so the answers are the same.
 */
import { ImageError } from '../data/images/preprocess.js';
import { type Preprocessor, createPreprocessor } from '../data/images/pool.js';
import { availableCpusForNative } from '../backend/threads.js';
import { type EnsemblePredictor, PredictInputError, type PredictOutcome } from '../ensemble/predictor.js';
import type { InputEntry } from './input-list.js';

export interface PipelineOptions {
  /** Images per batch through the members (default 32). */
  readonly batchSize?: number;
  /** Decoding worker threads (default: `defaultDecodeWorkers()`; 0 = decode in this thread). */
  readonly workers?: number;
  /** Batches decoded ahead of the one being predicted (default 3). */
  readonly lookahead?: number;
}

/** One predicted input with its position in the input order. */
export type IndexedOutcome = PredictOutcome & { readonly index: number };

/**
 * Decoding threads: none (decode in this thread, overlapped with inference) up to 2 CPUs, where a
 * worker thread cost more than it saved (`npm run bench:predict -- --mode jpeg`, 2 idle cores: 563
 * img/s in this thread, 411 with one worker); above that, the CPUs (GZH_THREADS, the share an
 * executor gave this process) less one left to inference.
 */
export function defaultDecodeWorkers(): number {
  const threads = Number(process.env.GZH_THREADS);
  const cpus = Number.isInteger(threads) && threads > 0 ? threads : availableCpusForNative();
  return cpus <= 2 ? 0 : cpus - 1;
}

type Loaded = Uint8Array | PredictInputError;

function loadBatch(pools: readonly Preprocessor[], batch: readonly InputEntry[]): Promise<Loaded[][]> {
  return Promise.all(
    pools.map((pool) =>
      Promise.all(
        batch.map((entry) =>
          pool.process(entry.path).then(
            (r) => r.pixels,
            (error: unknown) =>
              error instanceof ImageError
                ? new PredictInputError(entry.path, error.message, error.kind)
                : new PredictInputError(entry.path, error instanceof Error ? error.message : String(error)),
          ),
        ),
      ),
    ),
  );
}

async function predictBatch(
  predictor: EnsemblePredictor,
  batch: readonly InputEntry[],
  loaded: Loaded[][],
): Promise<IndexedOutcome[]> {
  const out = new Array<IndexedOutcome>(batch.length);
  const okIndex: number[] = [];
  batch.forEach((entry, k) => {
    const failure = loaded.map((g) => g[k]).find((r): r is PredictInputError => r instanceof PredictInputError);
    if (failure) out[k] = { ok: false, source: entry.path, error: failure, index: entry.index };
    else okIndex.push(k);
  });
  if (okIndex.length > 0) {
    const pixels = predictor.preprocessings.map((p, gi) => {
      const per = p.size * p.size * p.channels;
      const block = new Uint8Array(okIndex.length * per);
      okIndex.forEach((k, r) => block.set(loaded[gi][k] as Uint8Array, r * per));
      return block;
    });
    const predictions = await predictor.predictPixels(pixels, okIndex.length);
    okIndex.forEach((k, r) => {
      const { path: source, index } = batch[k];
      out[k] = { ok: true, source, prediction: { ...predictions[r], source }, index };
    });
  }
  return out;
}

async function* batches(inputs: AsyncIterable<InputEntry>, size: number): AsyncGenerator<InputEntry[]> {
  let batch: InputEntry[] = [];
  for await (const entry of inputs) {
    batch.push(entry);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Predicts a stream of inputs, yielding one outcome per input in input order (failures as
 * `{ ok: false }`). At most `lookahead + 1` batches are held at once, whatever the stream's length.
 */
export async function* predictStream(
  predictor: EnsemblePredictor,
  inputs: AsyncIterable<InputEntry>,
  options: PipelineOptions = {},
): AsyncGenerator<IndexedOutcome> {
  const batchSize = options.batchSize ?? 32;
  const lookahead = options.lookahead ?? 3;
  const workers = options.workers ?? defaultDecodeWorkers();
  const pools = predictor.preprocessings.map((params) => createPreprocessor(params, workers));
  const pending: Array<{ batch: InputEntry[]; loaded: Promise<Loaded[][]> }> = [];
  const source = batches(inputs, batchSize);
  try {
    let exhausted = false;
    const fill = async () => {
      while (!exhausted && pending.length <= lookahead) {
        const next = await source.next();
        if (next.done) exhausted = true;
        else pending.push({ batch: next.value, loaded: loadBatch(pools, next.value) });
      }
    };
    await fill();
    while (pending.length > 0) {
      const { batch, loaded } = pending.shift()!;
      const ready = await loaded;
      await fill();
      yield* await predictBatch(predictor, batch, ready);
    }
  } finally {
    // an abandoned pipeline: let in-flight decodes settle before the pools go
    await Promise.allSettled(pending.map((p) => p.loaded));
    await source.return(undefined);
    await Promise.all(pools.map((p) => p.close()));
  }
}
