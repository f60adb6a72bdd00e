import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAGGLE_COLUMNS } from '../../src/questions/index.js';
import { saveTiny, tinyHierarchical, writeJpegs } from '../ensemble/helpers.js';
import { predictInProcess as predict } from './helpers.js';

let dir: string;
let images: string;
let model: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-predict-cli-'));
  images = join(dir, 'images');
  await writeJpegs(images, 23);
  writeFileSync(join(images, '200.jpg'), 'not a jpeg');
  const m = tinyHierarchical(5);
  model = await saveTiny(m, join(dir, 'model'), 'hierarchical');
  m.dispose();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failureLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('gzh: '));

describe('gzh predict --shards (inline)', { timeout: 120_000 }, () => {
  it(
    'gathers the same CSV, byte for byte, and the same failure lines as one predict, for any ' + 'shard count',
    async () => {
      const single = await predict([images, '--model', model, '--csv', join(dir, 'single.csv'), '--batch-size', '5']);
      expect(single.exitCode).toBe(1);
      const expected = readFileSync(join(dir, 'single.csv'), 'utf8');
      expect(expected.split('\n')[0]).toBe(`GalaxyID,${KAGGLE_COLUMNS.join(',')}`);
      expect(expected.trim().split('\n')).toHaveLength(1 + 23);
      expect(failureLines(single.stderr)).toEqual([expect.stringMatching(/^gzh: .*200\.jpg: /)]);
      for (const shards of [1, 3, 30]) {
        const csv = join(dir, `sharded-${shards}.csv`);
        const r = await predict([
          images,
          '--model',
          model,
          '--csv',
          csv,
          '--shards',
          String(shards),
          '--batch-size',
          '4',
        ]);
        expect(r.exitCode, r.stderr).toBe(1);
        expect(readFileSync(csv, 'utf8')).toBe(expected);
        expect(failureLines(r.stderr)).toEqual(failureLines(single.stderr));
        expect(existsSync(`${csv}.parts`)).toBe(false); // parts removed once gathered
      }
    },
  );

  it('keeps the parts with --keep-parts; a rerun predicts nothing and gathers the same CSV', async () => {
    const csv = join(dir, 'kept.csv');
    const args = [images, '--model', model, '--csv', csv, '--shards', '4', '--keep-parts'];
    const first = await predict(args);
    expect(first.stderr).toMatch(/4 to predict/);
    expect(readdirSync(`${csv}.parts`).filter((f) => f.endsWith('.gzp'))).toHaveLength(4);
    const csvText = readFileSync(csv, 'utf8');
    const again = await predict(args);
    expect(again.stderr).toMatch(/0 to predict/);
    expect(readFileSync(csv, 'utf8')).toBe(csvText);
    // another TTA is another prediction: every part is stale and predicted again
    const other = await predict([...args, '--tta', 'flip']);
    expect(other.stderr).toMatch(/4 to predict/);
    expect(readFileSync(csv, 'utf8')).not.toBe(csvText);
  });

  it('--shard i/N writes only its part; --shards N then predicts only the missing shards', async () => {
    const parts = join(dir, 'manual-parts');
    const r = await predict([images, '--model', model, '--shard', '2/3', '--parts', parts]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(parts)).toEqual(['part-00002-of-00003.gzp']);
    const csv = join(dir, 'manual.csv');
    const all = await predict([images, '--model', model, '--csv', csv, '--shards', '3', '--parts', parts]);
    expect(all.stderr).toMatch(/2 to predict/);
    expect(readFileSync(csv, 'utf8')).toBe(readFileSync(join(dir, 'single.csv'), 'utf8'));
  });
});

describe('gzh predict: what is never written', { timeout: 120_000 }, () => {
  it(
    'a predict that fails leaves the previous CSV as it was (written to a temporary file, renamed only once ' +
      'complete)',
    async () => {
      const nan = tinyHierarchical(6);
      // finite weights (a model folder with NaN weights is refused at load) whose products overflow
      nan.setWeights(nan.getWeights().map((w) => tf.fill(w.shape, 1e30)));
      const nanModel = await saveTiny(nan, join(dir, 'nan-model'), 'hierarchical');
      nan.dispose();
      const outDir = join(dir, 'atomic');
      mkdirSync(outDir);
      const csv = join(outDir, 'out.csv');
      writeFileSync(csv, 'previous results\n');
      const r = await predict([images, '--model', nanModel, '--csv', csv]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/is NaN; a prediction must be finite/);
      expect(readFileSync(csv, 'utf8')).toBe('previous results\n');
      expect(readdirSync(outDir)).toEqual(['out.csv']); // no temporary left behind
      // nor into a shard's part
      const parts = join(outDir, 'parts');
      const s = await predict([images, '--model', nanModel, '--shard', '0/2', '--parts', parts]);
      expect(s.exitCode).toBe(1);
      expect(existsSync(parts) ? readdirSync(parts) : []).toEqual([]);
    },
  );

  it('refuses file names whose GalaxyID would break a row or be read as a formula, before any work', async () => {
    for (const name of ['=1+1', '@cmd', '-3', 'a,b']) {
      const bad = join(dir, `bad-${name.charCodeAt(0)}`);
      await writeJpegs(bad, 1);
      const { renameSync } = await import('node:fs');
      renameSync(join(bad, '100.jpg'), join(bad, `${name}.jpg`));
      const csv = join(bad, 'out.csv');
      const r = await predict([bad, '--model', model, '--csv', csv]);
      expect(r.exitCode, name).toBe(2);
      expect(r.stderr).toMatch(/rename the file/);
      expect(existsSync(csv)).toBe(false);
    }
  });

  it(
    'usage: --shards needs --csv, --shard needs --parts, no --json with shards, Slurm settings only with ' +
      '--executor slurm',
    async () => {
      expect((await predict([images, '--model', model, '--shards', '2'])).stderr).toMatch(/give --csv/);
      expect((await predict([images, '--model', model, '--shard', '0/2'])).stderr).toMatch(/needs --parts/);
      expect((await predict([images, '--model', model, '--shard', '2/2', '--parts', dir])).exitCode).toBe(2);
      const local = await predict([
        images,
        '--model',
        model,
        '--shards',
        '2',
        '--csv',
        join(dir, 'x.csv'),
        '--executor',
        'local',
        '--partition',
        'gpu',
        '--cpus-per-task',
        '2',
      ]);
      expect(local.exitCode).toBe(2);
      expect(local.stderr).toMatch(
        /--partition, --cpus-per-task are for --executor slurm \(this run uses --executor local\)/,
      );
      expect(existsSync(join(dir, 'x.csv.parts'))).toBe(false);
      expect(
        (
          await predict([
            images,
            '--model',
            model,
            '--shards',
            '2',
            '--csv',
            join(dir, 'x.csv'),
            '--executor',
            'slurm',
            '--cpus-per-task',
            '0',
          ])
        ).stderr,
      ).toMatch(/--cpus-per-task.*must be a positive integer/);
      expect((await predict(['--list', join(dir, 'no-list.txt'), '--model', model])).exitCode).toBe(2);
    },
  );
});
