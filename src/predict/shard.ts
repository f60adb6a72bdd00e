/**
 * Which inputs a shard predicts. Shard i of N (0-based) takes the contiguous range
 * [⌊i·L/N⌋, ⌊(i+1)·L/N⌋) of the L inputs in input order: every input is in exactly one shard,
 * shard sizes differ by at most one, and concatenating the shards' outputs in shard order gives
 * the input order back. With N > L some shards are empty (their parts hold no rows).
 */
import { InputError } from '../errors.js';

export interface ShardSpec {
  /** 0-based shard index. */
  readonly index: number;
  /** Number of shards. */
  readonly count: number;
}

/** Parses `i/N` (0 ≤ i < N). */
export function parseShard(value: string): ShardSpec {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!match)
    throw new InputError(`--shard ${JSON.stringify(value)}: expected i/N, e.g. 0/4 (shards are numbered from 0)`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || !Number.isSafeInteger(count))
    throw new InputError(`--shard ${value}: the number of shards must be ≥ 1`);
  if (index >= count)
    throw new InputError(`--shard ${value}: the index must be below the number of shards (0…${count - 1})`);
  return { index, count };
}

/** The input range [start, end) of `shard` over `length` inputs. */
export function shardRange(shard: ShardSpec, length: number): { start: number; end: number } {
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`shard count must be a positive integer, got ${count}`);
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new RangeError(`shard index must be in 0…${count - 1}, got ${index}`);
  if (!Number.isInteger(length) || length < 0)
    throw new RangeError(`input length must be a non-negative integer, got ${length}`);
  // BigInt-free and exact while i·L stays below 2^53 (L up to ~10^12 inputs for 1,000 shards).
  return { start: Math.floor((index * length) / count), end: Math.floor(((index + 1) * length) / count) };
}

/** File name of a shard's part: `part-00003-of-00016.gzp`. */
export function partFileName(shard: ShardSpec): string {
  const width = Math.max(5, String(shard.count).length);
  return `part-${String(shard.index).padStart(width, '0')}-of-${String(shard.count).padStart(width, '0')}.gzp`;
}
