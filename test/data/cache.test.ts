import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/data/batch.js';
import { buildCache, openCachedSource } from '../../src/data/cache.js';
import { trainSubset } from '../../src/data/subset.js';
import { Catalogue } from '../../src/data/catalogue.js';
import { preprocessFile, resolveParams } from '../../src/data/images/preprocess.js';
import { ingest } from '../../src/data/ingest.js';
import { DATA, realDataAvailable } from '../helpers/data.js';

const gz2 = realDataAvailable(DATA.gz2SampleImages);

async function collect(iterable: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of iterable) out.push(b);
  return out;
}

describe.skipIf(!gz2.available)(`image cache and batch source on the GZ2 sample ${gz2.reason}`, () => {
  let work: string;
  let catalogue: string;
  const params = { mode: 'contour', size: 32, channels: 3, contour: { referenceSize: 424 } } as const;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'gzh-cache-'));
    catalogue = join(work, 'gz2.sqlite');
    await ingest(catalogue, { format: 'gz2', labels: DATA.gz2SampleLabels, images: DATA.gz2SampleImages });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('builds once, reuses when parameters match, rebuilds elsewhere when they differ', async () => {
    const first = await buildCache({ catalogue, cacheDir: join(work, 'cache'), params, workers: 0, shardRecords: 100 });
    expect(first.reused).toBe(false);
    expect(first.manifest.ids.length).toBe(767);
    expect(first.manifest.failures).toEqual([]);
    expect(first.manifest.shards.length).toBe(8);
    const again = await buildCache({ catalogue, cacheDir: join(work, 'cache'), params, workers: 0 });
    expect(again.reused).toBe(true);
    expect(again.dir).toBe(first.dir);
    const gray = await buildCache({
      catalogue,
      cacheDir: join(work, 'cache'),
      params: { ...params, channels: 1 },
      workers: 0,
    });
    expect(gray.reused).toBe(false);
    expect(gray.dir).not.toBe(first.dir);
  }, 120_000);

  it('streams a split in batches with the catalogue targets and the cached pixels', async () => {
    const source = openCachedSource({ catalogue, cacheDir: join(work, 'cache'), params, split: 'validation' });
    const cat = new Catalogue(catalogue);
    const rows = cat.galaxies('validation');
    cat.close();
    expect(source.length).toBe(rows.length);
    expect(source.shape).toEqual([32, 32, 3]);
    expect(source.hasCounts).toBe(false);
    const batches = await collect(source.batches({ batchSize: 16, shuffle: false, seed: 1, epoch: 0 }));
    expect(batches.map((b) => b.size).reduce((a, b) => a + b)).toBe(rows.length);
    expect(batches[0].ids).toEqual(rows.slice(0, 16).map((r) => r.id));
    expect(Array.from(batches[0].conditional.subarray(37, 74))).toEqual(Array.from(rows[1].conditional));
    expect(Array.from(batches[0].cumulative.subarray(0, 37))).toEqual(Array.from(rows[0].cumulative));
    const direct = await preprocessFile(rows[3].imagePath!, resolveParams(params));
    expect(Buffer.from(batches[0].images.subarray(3 * 3072, 4 * 3072)).equals(Buffer.from(direct.pixels))).toBe(true);
  });

  it('shuffles by (seed, epoch) only, and skipBatches resumes mid-epoch', async () => {
    const source = openCachedSource({ catalogue, cacheDir: join(work, 'cache'), params, split: 'train' });
    const options = { batchSize: 50, shuffle: true, seed: 9, epoch: 2 };
    const a = await collect(source.batches(options));
    const b = await collect(source.batches(options));
    expect(a.flatMap((x) => x.ids)).toEqual(b.flatMap((x) => x.ids));
    const other = await collect(source.batches({ ...options, epoch: 3 }));
    expect(other.flatMap((x) => x.ids)).not.toEqual(a.flatMap((x) => x.ids));
    expect(new Set(a.flatMap((x) => x.ids)).size).toBe(source.length);
    // shuffled over the whole split, not shard by shard: every full batch mixes most shards
    const { ids, shardRecords, shards } = source.manifest;
    const shardOf = new Map(ids.map((id, i) => [id, Math.floor(i / shardRecords)]));
    expect(shards.length).toBeGreaterThanOrEqual(4);
    for (const batch of a.filter((x) => x.size === 50)) {
      expect(new Set(batch.ids.map((id) => shardOf.get(id))).size).toBeGreaterThan(shards.length / 2);
    }
    const resumed = await collect(source.batches({ ...options, skipBatches: 4 }));
    expect(resumed.map((x) => x.ids)).toEqual(a.slice(4).map((x) => x.ids));
    expect(Buffer.from(resumed[0].images).equals(Buffer.from(a[4].images))).toBe(true);
  });

  it("streams a training subset (data.trainFraction) with each galaxy's own pixels and targets", async () => {
    const source = openCachedSource({ catalogue, cacheDir: join(work, 'cache'), params, split: 'train' });
    const whole = await collect(source.batches({ batchSize: 1000, shuffle: false, seed: 0, epoch: 0 }));
    const row = new Map(whole[0].ids.map((id, i) => [id, i]));
    const sub = trainSubset(source, 0.3, 5);
    expect(sub.length).toBe(Math.round(0.3 * source.length));
    const batches = await collect(sub.batches({ batchSize: 16, shuffle: true, seed: 9, epoch: 1 }));
    const ids = batches.flatMap((b) => b.ids);
    expect([...ids].sort()).toEqual([...sub.ids].sort());
    for (const b of batches) {
      b.ids.forEach((id, j) => {
        const r = row.get(id)!;
        expect(
          Buffer.from(b.images.subarray(j * 3072, (j + 1) * 3072)).equals(
            Buffer.from(whole[0].images.subarray(r * 3072, (r + 1) * 3072)),
          ),
        ).toBe(true);
        expect(Array.from(b.cumulative.subarray(j * 37, (j + 1) * 37))).toEqual(
          Array.from(whole[0].cumulative.subarray(r * 37, (r + 1) * 37)),
        );
      });
    }
  });
});
