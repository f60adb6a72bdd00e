import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { defaultDataPipeline } from '../../src/experiments/data.js';
import { SilentProgress } from '../../src/util/progress.js';
import { makeGz2Fixture } from '../fixtures/data/make-fixture.js';

describe('default data pipeline', () => {
  it(
    'generates synthetic galaxies, ingests and preprocesses them once, then reuses both caches',
    { timeout: 300_000 },
    async () => {
      const cache = mkdtempSync(join(tmpdir(), 'gzh-data-'));
      const exp = parseExperimentConfig({
        name: 'tiny-data',
        seed: 5,
        data: { source: 'synthetic', synthetic: { count: 40, size: 32 }, split: { validation: 0.2, test: 0.2 } },
        preprocess: { size: 24, centerCrop: 300, cacheDir: cache },
        model: { kind: 'flat' },
        training: { epochs: 1 },
      });
      const lines: string[] = [];
      const ctx = { progress: new SilentProgress(), log: (l: string) => lines.push(l) };
      const pipeline = defaultDataPipeline();
      const ingested = await pipeline.ingest(exp, ctx);
      expect(ingested.cached).toBe(false);
      expect(ingested.counts.train + ingested.counts.validation + ingested.counts.test).toBe(40);
      const data = await pipeline.prepare(exp, ingested, ctx);
      expect(data.cached).toBe(false);
      expect(data.shape).toEqual([24, 24, 3]);
      expect(data.train.length + data.validation.length + data.test.length).toBe(40);
      const batches = data.test.batches({ batchSize: 4, shuffle: false, seed: 0, epoch: 0 });
      const first = await batches[Symbol.asyncIterator]().next();
      expect(first.value.images.length).toBe(first.value.size * 24 * 24 * 3);
      expect(data.imagePath(first.value.ids[0])).toMatch(/\.jpg$/);

      const again = await pipeline.prepare(exp, await pipeline.ingest(exp, ctx), ctx);
      expect(again.cached).toBe(true);
      expect(lines.some((l) => l.startsWith('ingest: cached catalogue'))).toBe(true);
    },
  );

  it(
    'ingests a full-download GZ2 folder (labels, filename mapping, images/); a label kind other than debiased ' +
      'must be complete',
    { timeout: 120_000 },
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'gzh-gz2-'));
      const gz2 = await makeGz2Fixture(join(work, 'gz2'));
      renameSync(gz2.labels, join(work, 'gz2', 'gz2_hart16.csv'));
      const config = (labels?: string) =>
        parseExperimentConfig({
          name: 'gz2-full',
          data: { source: 'gz2', path: join(work, 'gz2'), ...(labels ? { labels } : {}) },
          preprocess: { size: 24, cacheDir: join(work, 'cache') },
          model: { kind: 'flat' },
          training: { epochs: 1 },
        });
      const ctx = { progress: new SilentProgress(), log: () => {} };
      const ingested = await defaultDataPipeline().ingest(config(), ctx);
      expect(ingested.counts.train + ingested.counts.validation + ingested.counts.test).toBe(gz2.goodIds.length);
      await expect(defaultDataPipeline().ingest(config('fraction'), ctx)).rejects.toThrow(
        /"fraction" columns are missing/,
      );
    },
  );
});
