/**
 * What `gzh run` does with damaged cached artifacts: a truncated cached catalogue is re-ingested
 * and a damaged image cache rebuilt, each with a line saying why, and the data it then serves
 * equals what it served before the damage.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchSource } from '../../src/data/batch.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { defaultDataPipeline } from '../../src/experiments/data.js';
import { SilentProgress } from '../../src/util/progress.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-pipeline-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function all(source: BatchSource): Promise<{ ids: string[]; images: number[] }> {
  const ids: string[] = [];
  const images: number[] = [];
  for await (const b of source.batches({ batchSize: 8, shuffle: false, seed: 0, epoch: 0 })) {
    ids.push(...b.ids);
    images.push(...b.images);
  }
  return { ids, images };
}

describe('gzh run data phases on damaged caches', () => {
  it('re-ingests a truncated cached catalogue and rebuilds a damaged image cache', { timeout: 300_000 }, async () => {
    const exp = parseExperimentConfig({
      name: 'faults',
      seed: 3,
      data: { source: 'synthetic', synthetic: { count: 40, size: 32 }, split: { validation: 0.2, test: 0.2 } },
      preprocess: { size: 24, centerCrop: 300, cacheDir: join(work, 'cache') },
      model: { kind: 'flat' },
      training: { epochs: 1 },
    });
    const lines: string[] = [];
    const ctx = { progress: new SilentProgress(), log: (l: string) => lines.push(l) };
    const pipeline = defaultDataPipeline();
    const first = await pipeline.ingest(exp, ctx);
    const before = await all((await pipeline.prepare(exp, first, ctx)).train);

    truncateSync(first.catalogue, Math.floor(statSync(first.catalogue).size / 2));
    const again = await pipeline.ingest(exp, ctx);
    expect(again.cached).toBe(false);
    expect(lines.some((l) => l.startsWith(`ingest: rebuilding the cached catalogue: ${first.catalogue}`))).toBe(true);
    expect(again.counts).toEqual(first.counts);

    const root = join(work, 'cache', 'images');
    const cacheDir = join(root, readdirSync(root)[0]);
    const keyDir = join(cacheDir, readdirSync(cacheDir).filter((e) => !e.startsWith('.'))[0]);
    const shard = join(keyDir, 'shard-000.bin');
    writeFileSync(shard, Buffer.alloc(statSync(shard).size, 1));
    const data = await pipeline.prepare(exp, again, ctx);
    expect(data.cached).toBe(false);
    expect(await all(data.train)).toEqual(before);
  });
});
