/**
 * The parts of a sharded prediction: which shards are done, and the gather that concatenates
 * them, in shard order, into one Kaggle-format CSV. Everything is streamed line by line, so the
 * gathering process holds one line at a time whatever the catalogue's length.
 */
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { kaggleCsvHeader } from '../ensemble/kaggle.js';
import { writeLinesAtomic } from '../util/atomic.js';
import { type PartFailure, PART_FORMAT, type PartMeta, readPart, readPartMeta } from './part.js';
import type { InputScan } from './input-list.js';
import { type ShardSpec, partFileName, shardRange } from './shard.js';

/** A sharded prediction: its inputs, shard count, model key and the folder of its parts. */
export interface ShardPlan {
  readonly scan: InputScan;
  readonly shards: number;
  readonly model: string;
  readonly partsDir: string;
}

/** The header every part of `plan` must carry for shard `index`. */
export function expectedMeta(plan: ShardPlan, index: number): PartMeta {
  const shard: ShardSpec = { index, count: plan.shards };
  const { start, end } = shardRange(shard, plan.scan.count);
  return {
    format: PART_FORMAT,
    inputs: plan.scan.hash,
    total: plan.scan.count,
    shard: index,
    shards: plan.shards,
    start,
    end,
    model: plan.model,
  };
}

export function partPath(plan: Pick<ShardPlan, 'partsDir' | 'shards'>, index: number): string {
  return join(plan.partsDir, partFileName({ index, count: plan.shards }));
}

/**
 * Shards whose part is absent or belongs to another list, shard count or model (those are
 * predicted again; the stale part is overwritten atomically then).
 */
export async function missingShards(plan: ShardPlan): Promise<number[]> {
  const missing: number[] = [];
  for (let i = 0; i < plan.shards; i++) {
    const expected = expectedMeta(plan, i);
    const meta = await readPartMeta(partPath(plan, i)).catch(() => null);
    const same =
      meta !== null && (Object.keys(expected) as Array<keyof PartMeta>).every((k) => meta[k] === expected[k]);
    if (!same) missing.push(i);
  }
  return missing;
}

export interface GatherResult {
  readonly rows: number;
  readonly failed: number;
}

/**
 * Concatenates every part of `plan`, in shard order, into the CSV at `csvPath` (atomically: the
 * previous file stays until the gather is complete) and reports each unreadable image through
 * `onFailure`, in input order. Throws naming the part when one is missing, stale or damaged.
 */
export async function gatherParts(
  plan: ShardPlan,
  csvPath: string,
  onFailure: (failure: PartFailure) => void,
): Promise<GatherResult> {
  let rows = 0;
  let failed = 0;
  async function* csvLines(): AsyncGenerator<string> {
    yield kaggleCsvHeader();
    for (let i = 0; i < plan.shards; i++) {
      for await (const line of readPart(partPath(plan, i), expectedMeta(plan, i))) {
        if ('failure' in line) {
          failed++;
          onFailure(line.failure);
          continue;
        }
        rows++;
        yield line.row;
      }
    }
  }
  await writeLinesAtomic(csvPath, csvLines());
  return { rows, failed };
}

/**
 * Removes the parts of `plan` and the given files the sharded run made there (input list, logs),
 * then the folder itself if nothing else is left in it.
 */
export async function removeParts(plan: ShardPlan, also: readonly string[] = []): Promise<void> {
  for (let i = 0; i < plan.shards; i++) await rm(partPath(plan, i), { force: true });
  for (const path of also) await rm(path, { recursive: true, force: true });
  await rmdir(plan.partsDir).catch(() => undefined);
}
