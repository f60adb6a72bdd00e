/**
 * Sharded prediction: one shard's inputs predicted into its part file, and a whole sharded run:
 * find the shards not done, run them (in this process, or as tasks of an executor, each a
 * `gzh predict --shard i/N` process), then gather the parts into one CSV.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { galaxyId, kaggleCsvRow } from '../ensemble/kaggle.js';
import type { EnsemblePredictor } from '../ensemble/predictor.js';
import { InputError } from '../errors.js';
import type { Executor, TaskOutcome } from '../exec/types.js';
import { writeLinesAtomic } from '../util/atomic.js';
import { type ShardPlan, expectedMeta, missingShards, partPath } from './gather.js';
import { type InputSource, inputEntries, inputRange } from './input-list.js';
import { PartWriter } from './part.js';
import { type PipelineOptions, predictStream } from './pipeline.js';

/** Predicts shard `index` of `plan` into its part file (atomically); returns its counts. */
export async function predictShard(
  predictor: EnsemblePredictor,
  source: InputSource,
  plan: ShardPlan,
  index: number,
  options: PipelineOptions & { onOutcome?: () => void } = {},
): Promise<{ rows: number; failed: number }> {
  const meta = expectedMeta(plan, index);
  await mkdir(plan.partsDir, { recursive: true });
  const part = await PartWriter.open(partPath(plan, index), meta);
  try {
    for await (const o of predictStream(predictor, inputRange(source, meta.start, meta.end), options)) {
      if (o.ok) await part.row(kaggleCsvRow(galaxyId(o.source), o.prediction.cumulative));
      else await part.failure({ source: o.source, kind: o.error.kind, reason: o.error.reason });
      options.onOutcome?.();
    }
    return await part.commit();
  } catch (error) {
    await part.abort();
    throw error;
  }
}

/**
 * Writes the inputs as a list file (one path per line, atomically) for shard tasks to read.
 * Refuses a path with a line break, which a list cannot hold.
 */
export async function writeInputList(source: InputSource, path: string): Promise<void> {
  async function* paths(): AsyncGenerator<string> {
    for await (const { path: p } of inputEntries(source)) {
      if (/[\r\n]/.test(p)) throw new InputError(`${JSON.stringify(p)}: a path with a line break cannot be sharded`);
      yield p;
    }
  }
  await writeLinesAtomic(path, paths());
}

export interface RunShardsOptions {
  /** Task command line of shard i (a `gzh predict --shard i/N …`), for an executor. */
  readonly argv: (index: number) => string[];
  readonly cwd: string;
  readonly signal?: AbortSignal;
  readonly onTaskEnd?: (outcome: TaskOutcome) => void;
}

/**
 * Runs the missing shards of `plan` with `executor` and checks that each left its part. Returns
 * the shards that were run; throws listing the tasks that failed (their parts stay absent, so a
 * rerun predicts only those).
 */
export async function runShardTasks(plan: ShardPlan, executor: Executor, options: RunShardsOptions): Promise<number[]> {
  const missing = await missingShards(plan);
  if (missing.length === 0) return missing;
  const outcomes = await executor.runArray(
    { name: 'predict', indices: missing, argv: options.argv, cwd: options.cwd, logDir: join(plan.partsDir, 'logs') },
    {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onTaskEnd ? { onTaskEnd: options.onTaskEnd } : {}),
    },
  );
  const failed = outcomes.filter((o) => !o.ok);
  const still = await missingShards(plan);
  if (failed.length > 0 || still.length > 0) {
    const lines = failed.map((o) => `shard ${o.index}/${plan.shards}: ${o.message ?? 'failed'} (log ${o.log})`);
    const silent = still
      .filter((i) => !failed.some((o) => o.index === i))
      .map((i) => `shard ${i}/${plan.shards}: ended without its part`);
    throw new Error(
      `${failed.length || still.length} shard(s) not done; run the same command again to predict only ` +
        `those:\n${[...lines, ...silent].join('\n')}`,
    );
  }
  return missing;
}
