/**
 * A worker thread killed mid-batch must not hang the preprocessing pool: it is replaced, the files
 * it held are decoded again, and every result equals the one a single thread gives.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { preprocessFile, resolveParams } from '../../src/data/images/preprocess.js';
import { transpileForNode } from '../train/helpers/transpile.js';
import { ROOT, spawnNode, tinyKaggle } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-pool-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('image worker pool', () => {
  it('a worker terminated while it holds a batch is replaced and no file is lost or hangs', async () => {
    const { images } = await tinyKaggle(join(work, 'kaggle'), 40);
    const build = join(work, 'build');
    transpileForNode(join(ROOT, 'src/data/images/worker.ts'), ROOT, build);
    const child = transpileForNode(join(ROOT, 'test/faults/fixtures/pool-child.ts'), ROOT, build);
    const exit = await spawnNode(child, [images, 'sharp']).done;
    expect(exit.code, exit.err).toBe(0);
    const report = JSON.parse(exit.out) as {
      replaced: boolean;
      files: number;
      results: Array<{ ok: boolean; pixels?: string; message?: string }>;
    };
    expect(report.replaced).toBe(true);
    expect(report.results.length).toBe(40);
    const params = resolveParams({ mode: 'center', size: 16, channels: 1, centerCrop: 40, decoder: 'sharp' });
    const files = readdirSync(images).sort();
    for (const [i, result] of report.results.entries()) {
      expect(result.ok, result.message).toBe(true);
      const expected = Buffer.from((await preprocessFile(join(images, files[i]), params)).pixels).toString('base64');
      expect(result.pixels).toBe(expected);
    }
  }, 120_000);
});
