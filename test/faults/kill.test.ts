/**
 * SIGKILL at seeded random points of `gzh ingest`, `gzh preprocess`, `gzh evaluate` and
 * `gzh predict`, then a rerun: nothing the killed process replaced is lost or half-written, no
 * partial file is taken as complete, and the rerun's figures equal an uninterrupted run's. Also:
 * concurrent preprocesses of a cold cache, and the documented exit codes.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, verifyCache } from '../../src/data/cache.js';
import { Catalogue } from '../../src/data/catalogue.js';
import { saveTiny, tinyHierarchical } from '../ensemble/helpers.js';
import { type Exit, compiledCli, killDelays, spawnNode, tinyKaggle, treeDigest } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-kill-'));
let cli: string;
let data: { labels: string; images: string };
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  cli = compiledCli(join(work, 'build'));
  data = await tinyKaggle(join(work, 'kaggle'), 120);
}, 120_000);

const gzh = (args: string[]) => spawnNode(cli, ['--backend', 'cpu', '-q', ...args]);

async function timed(args: string[]): Promise<Exit & { ms: number }> {
  const t0 = performance.now();
  const exit = await gzh(args).done;
  return { ...exit, ms: performance.now() - t0 };
}

/** Runs `args` and SIGKILLs it after `delay` ms (it may have finished by then). */
async function killedAt(args: string[], delay: number): Promise<Exit> {
  const run = gzh(args);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), delay);
  const exit = await run.done;
  clearTimeout(timer);
  return exit;
}

function contents(path: string) {
  const c = new Catalogue(path);
  try {
    return { galaxies: c.galaxies(), rejections: c.rejections() };
  } finally {
    c.close();
  }
}

const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-'));
/** Kill points per command (GZH_FAULT_KILLS for a longer search; GZH_FAULT_SEED picks other points). */
const KILLS = Number(process.env.GZH_FAULT_KILLS ?? 1);
const SEED = Number(process.env.GZH_FAULT_SEED ?? 0);

describe('SIGKILL and rerun', () => {
  it(
    'ingest: the previous catalogue or the complete new one, never a partial one; the rerun equals an ' +
      'uninterrupted ingest',
    async () => {
      const ref = join(work, 'ref.sqlite');
      const base = ['ingest', '--format', 'kaggle', '--labels', data.labels, '--images', data.images];
      const first = await timed([...base, '--catalogue', ref, '--seed', '5']);
      expect(first.code, first.err).toBe(0);
      const expected = contents(ref);
      const dir = join(work, 'ingest');
      mkdirSync(dir);
      const target = join(dir, 'catalogue.sqlite');
      for (const [i, delay] of killDelays(SEED + 17, KILLS, first.ms * 0.3, first.ms).entries()) {
        // an older catalogue (another seed) is what the killed ingest replaces
        expect((await gzh([...base, '--catalogue', target, '--seed', String(100 + i)]).done).code).toBe(0);
        const old = contents(target);
        await killedAt([...base, '--catalogue', target, '--seed', '5'], delay);
        const after = contents(target); // opens and verifies: never a partial file
        expect([old, expected]).toContainEqual(after);
        const rerun = await gzh([...base, '--catalogue', target, '--seed', '5']).done;
        expect(rerun.code, rerun.err).toBe(0);
        expect(contents(target)).toEqual(expected);
        expect(temporaries(dir)).toEqual([]);
      }
    },
    240_000,
  );

  it(
    'preprocess: a killed build leaves no cache that is taken as complete; the rerun equals an uninterrupted ' +
      'build',
    async () => {
      const catalogue = join(work, 'pp.sqlite');
      expect(
        (
          await gzh([
            'ingest',
            '--format',
            'kaggle',
            '--labels',
            data.labels,
            '--images',
            data.images,
            '--catalogue',
            catalogue,
          ]).done
        ).code,
      ).toBe(0);
      const args = (cache: string) => [
        'preprocess',
        '--catalogue',
        catalogue,
        '--cache',
        cache,
        '--mode',
        'center',
        '--size',
        '24',
        '--channels',
        '3',
        '--center-crop',
        '48',
        '--workers',
        '2',
      ];
      const first = await timed(args(join(work, 'pp-ref')));
      expect(first.code, first.err).toBe(0);
      const refDir = join(work, 'pp-ref', readdirSync(join(work, 'pp-ref'))[0]);
      const expected = treeDigest(refDir);
      delete expected['index.json']; // holds timings
      const reference = readManifest(refDir)!;
      for (const [i, delay] of killDelays(SEED + 29, KILLS, first.ms * 0.3, first.ms).entries()) {
        const cache = join(work, `pp-${i}`);
        await killedAt(args(cache), delay);
        if (existsSync(cache)) {
          for (const entry of readdirSync(cache).filter((e) => !e.startsWith('.'))) {
            const manifest = readManifest(join(cache, entry));
            if (manifest) verifyCache(join(cache, entry), manifest); // a cache that is there is complete
          }
        }
        const rerun = await gzh(args(cache)).done;
        expect(rerun.code, rerun.err).toBe(0);
        const dir = join(cache, reference.key);
        const got = treeDigest(dir);
        delete got['index.json'];
        expect(got).toEqual(expected);
        expect(readManifest(dir)!.ids).toEqual(reference.ids);
        expect(temporaries(cache)).toEqual([]);
      }
    },
    240_000,
  );

  it(
    'evaluate and predict: killed at random points, the rerun gives the uninterrupted figures and the model is ' +
      'untouched',
    async () => {
      await tf.setBackend('cpu');
      const model = tinyHierarchical(9, 14, 1);
      const modelDir = await saveTiny(model, join(work, 'model'), 'hierarchical', {
        mode: 'center',
        size: 16,
        channels: 1,
        centerCrop: 40,
      });
      model.dispose();
      const modelDigest = treeDigest(modelDir);
      for (const args of [
        ['evaluate', '--model', modelDir, '--data', join(work, 'kaggle'), '--json'],
        ['predict', data.images, '--model', modelDir, '--json'],
      ]) {
        const first = await timed(args);
        expect(first.code, first.err).toBe(0);
        const figures = (out: string) => {
          const parsed = JSON.parse(out);
          delete parsed.seconds;
          return parsed;
        };
        for (const delay of killDelays(SEED + 41, KILLS, first.ms * 0.3, first.ms)) {
          await killedAt(args, delay);
          const rerun = await gzh(args).done;
          expect(rerun.code, rerun.err).toBe(0);
          expect(figures(rerun.out)).toEqual(figures(first.out));
          expect(treeDigest(modelDir)).toEqual(modelDigest);
        }
      }
    },
    300_000,
  );
});

describe('concurrent runs and exit codes', () => {
  let catalogue: string;
  beforeAll(async () => {
    catalogue = join(work, 'cc.sqlite');
    expect(
      (
        await gzh([
          'ingest',
          '--format',
          'kaggle',
          '--labels',
          data.labels,
          '--images',
          data.images,
          '--catalogue',
          catalogue,
        ]).done
      ).code,
    ).toBe(0);
  }, 60_000);

  it('six concurrent preprocesses of a cold cache all succeed with the same cache', async () => {
    const cache = join(work, 'cold');
    const args = [
      'preprocess',
      '--catalogue',
      catalogue,
      '--cache',
      cache,
      '--mode',
      'center',
      '--size',
      '20',
      '--channels',
      '1',
      '--center-crop',
      '48',
      '--workers',
      '1',
      '--json',
    ];
    const exits = await Promise.all(Array.from({ length: 6 }, () => gzh(args).done));
    for (const e of exits) expect(e.code, e.err).toBe(0);
    const sums = exits.map((e) => JSON.parse(e.out).shardSha256);
    for (const s of sums) expect(s).toEqual(sums[0]);
    expect(readdirSync(cache).length).toBe(1);
  }, 240_000);

  it(
    'exit codes: unreadable images → 1; empty ingest → 2 leaving the catalogue; corrupt catalogue → 1 naming it; ' +
      'missing data.path → 2 with no run recorded',
    async () => {
      const cache = join(work, 'codes');
      const some = await gzh([
        'preprocess',
        '--catalogue',
        catalogue,
        '--cache',
        cache,
        '--mode',
        'center',
        '--size',
        '20',
        '--channels',
        '1',
        '--input-size',
        '424',
      ]).done;
      expect(some.code, some.err).toBe(1);
      expect(some.out).toMatch(/wrong-size/);

      const headerOnly = join(work, 'header.csv');
      writeFileSync(headerOnly, readFileSync(data.labels, 'utf8').split('\n')[0] + '\n');
      const before = readFileSync(catalogue);
      const empty = await gzh([
        'ingest',
        '--format',
        'kaggle',
        '--labels',
        headerOnly,
        '--images',
        data.images,
        '--catalogue',
        catalogue,
      ]).done;
      expect(empty.code).toBe(2);
      expect(empty.err).toMatch(/no data rows; no catalogue written/);
      expect(readFileSync(catalogue).equals(before)).toBe(true);

      const broken = join(work, 'broken.sqlite');
      writeFileSync(broken, before.subarray(0, Math.floor(statSync(catalogue).size / 2)));
      const bad = await gzh(['preprocess', '--catalogue', broken, '--cache', cache]).done;
      expect(bad.code).toBe(1);
      expect(bad.err).toContain(broken);

      const config = join(work, 'missing-data.json');
      const demo = JSON.parse(readFileSync(join(import.meta.dirname, '../../experiments/demo.json'), 'utf8'));
      writeFileSync(
        config,
        JSON.stringify({
          ...demo,
          data: { source: 'kaggle', path: join(work, 'no-such-folder'), split: demo.data.split },
        }),
      );
      const out = join(work, 'runs');
      const run = await gzh(['run', config, '--out', out]).done;
      expect(run.code).toBe(2);
      expect(run.err).toMatch(/data folder not found/);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    },
    240_000,
  );
});
