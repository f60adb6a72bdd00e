import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Verification of image-cache shards against the size and SHA-256 recorded in the cache's
 * index.json when they were written. Hashing a shard reads it once; a shard that verified is not
 * hashed again by the same process while its size, modification time and inode are unchanged (the
 * train, validation and test sources of one run share the shards).
 */
export interface ShardRecord {
  readonly shards: readonly string[];
  readonly shardBytes?: readonly number[];
  readonly shardSha256?: readonly string[];
}

const verified = new Set<string>();
const CHUNK = 1 << 22;

function sha256(path: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The first shard of `dir` that fails verification and why, or null when all pass. */
export function verifyShards(dir: string, record: ShardRecord): { path: string; problem: string } | null {
  const { shards, shardBytes, shardSha256 } = record;
  if (!shardBytes || !shardSha256 || shardBytes.length !== shards.length || shardSha256.length !== shards.length) {
    return { path: join(dir, 'index.json'), problem: 'no size and checksum recorded for every shard' };
  }
  for (let i = 0; i < shards.length; i++) {
    const path = join(dir, shards[i]);
    let info;
    try {
      info = statSync(path);
    } catch (error) {
      return { path, problem: `shard missing (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
    }
    if (info.size !== shardBytes[i]) {
      return { path, problem: `shard is ${info.size} bytes, ${shardBytes[i]} were written (truncated or overwritten)` };
    }
    const stamp = `${path}\0${info.size}\0${info.mtimeMs}\0${info.ino}\0${shardSha256[i]}`;
    if (verified.has(stamp)) continue;
    const actual = sha256(path);
    if (actual !== shardSha256[i])
      return {
        path,
        problem:
          `shard checksum ${actual.slice(0, 12)}… differs from the recorded ${shardSha256[i].slice(0, 12)}… (the ` +
          'file was modified)',
      };
    verified.add(stamp);
  }
  return null;
}

/** Forgets which shards this process has verified, so the next read hashes them again (benchmarks). */
export function forgetVerifiedShards(): void {
  verified.clear();
}
