/**
 * The synthetic generator's worker threads: the files on disk do not depend on how many workers
 * drew the images (nor on whether any did), in either layout. Workers load compiled JavaScript
 * only, so the generator runs compiled in a child process; the reference runs in this process on
 * the main thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticDataset, type SyntheticDatasetOptions } from '../../../src/data/synthetic/index.js';
import { transpileForNode } from '../../train/helpers/transpile.js';
import { ROOT, spawnNode, treeDigest } from '../../faults/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-synthetic-workers-'));
let child: string;
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  const build = join(work, 'build');
  transpileForNode(join(ROOT, 'src/data/synthetic/image-worker.ts'), ROOT, build);
  child = transpileForNode(join(ROOT, 'test/data/synthetic/fixtures/generate-child.ts'), ROOT, build);
}, 120_000);

/** Generates in a compiled child process (real worker threads); returns the result it printed. */
async function generateInChild(
  options: Omit<SyntheticDatasetOptions, 'onProgress'>,
): Promise<{ images: number; rows: number }> {
  const exit = await spawnNode(child, [JSON.stringify(options)]).done;
  expect(exit.code, exit.err).toBe(0);
  return JSON.parse(exit.out) as { images: number; rows: number };
}

let run = 0;

describe('synthetic generator worker threads', () => {
  it(
    'write byte-identical data sets whatever the worker count (property over seeds, sizes, layouts, worker ' +
      'counts)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 10_000 }),
          fc.integer({ min: 9, max: 30 }),
          fc.constantFrom<'kaggle' | 'gz2'>('kaggle', 'gz2'),
          fc.integer({ min: 1, max: 4 }),
          async (seed, count, format, workers) => {
            const base = { seed, count, format, size: 32, ...(format === 'gz2' ? { rows: count + 7 } : {}) } as const;
            const here = join(work, `here-${run}`);
            const there = join(work, `there-${run++}`);
            await generateSyntheticDataset({ ...base, outDir: here, workers: 0 });
            const result = await generateInChild({ ...base, outDir: there, workers });
            expect(result.images).toBe(count);
            const a = treeDigest(here);
            expect(Object.keys(a).filter((f) => f.endsWith('.jpg'))).toHaveLength(count);
            expect(treeDigest(there)).toEqual(a);
          },
        ),
        { numRuns: 3, seed: 2026 },
      );
    },
    300_000,
  );
});
