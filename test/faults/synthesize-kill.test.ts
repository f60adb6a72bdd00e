/**
 * SIGKILL of a synthetic generation at seeded random points while its worker threads write
 * images: nothing at the output path is taken as a complete data set, and a rerun removes what
 * the killed one left, completes, and writes the same bytes as an uninterrupted generation.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticDataset } from '../../src/data/synthetic/index.js';
import { transpileForNode } from '../train/helpers/transpile.js';
import { ROOT, killDelays, spawnNode, treeDigest } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-synthesize-'));
let child: string;
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  const build = join(work, 'build');
  transpileForNode(join(ROOT, 'src/data/synthetic/image-worker.ts'), ROOT, build);
  child = transpileForNode(join(ROOT, 'test/data/synthetic/fixtures/generate-child.ts'), ROOT, build);
}, 120_000);

/** Kill points (GZH_FAULT_KILLS for a longer search; GZH_FAULT_SEED picks other points). */
const KILLS = Number(process.env.GZH_FAULT_KILLS ?? 2);
const SEED = Number(process.env.GZH_FAULT_SEED ?? 0);

describe('synthetic generation killed and rerun', () => {
  it(
    'leaves no data set taken as complete; the rerun cleans ' + 'up, completes and equals an uninterrupted one',
    async () => {
      const params = { format: 'gz2', count: 400, rows: 450, seed: 21, size: 128 } as const;
      const reference = join(work, 'reference');
      await generateSyntheticDataset({ ...params, outDir: reference, workers: 0 });
      const expected = treeDigest(reference);
      let killed = 0;
      // after the first progress report, so images are being written when the kill comes
      for (const [k, delay] of killDelays(SEED, KILLS, 0, 400).entries()) {
        const out = join(work, `killed-${k}`);
        const run = spawnNode(child, [JSON.stringify({ ...params, outDir: out, workers: 2 })], {
          GZH_TEST_PROGRESS: '1',
        });
        await new Promise<void>((resolve) => {
          const onData = (chunk: Buffer) => {
            if (!chunk.toString().includes('progress')) return;
            run.child.stderr?.off('data', onData);
            setTimeout(() => {
              run.child.kill('SIGKILL');
              resolve();
            }, delay);
          };
          run.child.stderr?.on('data', onData);
          void run.done.then(() => resolve());
        });
        const exit = await run.done;
        if (exit.signal === 'SIGKILL') {
          killed++;
          // killed before the rename: no data set at the path, only the hidden temporary
          expect(existsSync(out), `kill ${k} at +${delay.toFixed(0)} ms`).toBe(false);
          expect(readdirSync(work).some((f) => f.startsWith(`.killed-${k}.tmp-`))).toBe(true);
        } else {
          // finished before the kill: then it is complete
          expect(exit.code, exit.err).toBe(0);
        }
        const rerun = await generateSyntheticDataset({ ...params, outDir: out, workers: 0 });
        expect(rerun.reused).toBe(exit.signal !== 'SIGKILL');
        expect(treeDigest(out)).toEqual(expected);
        expect(readdirSync(work).filter((f) => f.startsWith(`.killed-${k}.`))).toEqual([]);
      }
      expect(killed, 'no generation was still running at its kill point').toBeGreaterThan(0);
    },
    300_000,
  );
});
