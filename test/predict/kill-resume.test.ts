import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveTiny, tinyHierarchical, writeJpegs } from '../ensemble/helpers.js';
import { testCli } from '../helpers/cli-bundle.js';
import { predictInProcess as predict, spawnCli } from './helpers.js';

let dir: string;
let model: string;
let list: string;
const PER_SHARD = 800;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-predict-kill-'));
  process.env.GZH_CLI_ENTRY = testCli()[1];
  const paths = await writeJpegs(join(dir, 'images'), 30);
  writeFileSync(join(dir, 'images', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
  paths.push(join(dir, 'images', 'broken.jpg'));
  // a catalogue of 4 × PER_SHARD entries that cycles over the files, each under a GalaxyID of its
  // own (a list may name a galaxy once): symbolic links 1000000.jpg, 1000001.jpg, … to them
  list = join(dir, 'catalogue.txt');
  mkdirSync(join(dir, 'links'));
  const entries = Array.from({ length: 4 * PER_SHARD }, (_, i) => {
    const link = join(dir, 'links', `${1_000_000 + i}.jpg`);
    symlinkSync(paths[i % paths.length], link);
    return link;
  });
  writeFileSync(list, entries.map((e) => `${e}\n`).join(''));
  const m = tinyHierarchical(11);
  model = await saveTiny(m, join(dir, 'model'), 'hierarchical');
  m.dispose();
}, 180_000);
afterAll(() => {
  delete process.env.GZH_CLI_ENTRY;
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(test: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (test()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('sharded predict: a killed shard loses nothing', { timeout: 300_000 }, () => {
  it(
    'a shard task killed (SIGKILL) mid-way leaves no part; the rerun predicts only that shard and gathers the ' +
      'CSV of one predict',
    async () => {
      const parts = join(dir, 'parts');
      for (const i of [0, 2, 3])
        expect(
          (await predict(['--list', list, '--model', model, '--shard', `${i}/4`, '--parts', parts])).exitCode,
        ).toBe(0);
      const before = Object.fromEntries(readdirSync(parts).map((f) => [f, statSync(join(parts, f)).mtimeMs]));

      const task = spawnCli(
        process.env.GZH_CLI_ENTRY!,
        ['predict', '--list', list, '--model', model, '--shard', '1/4', '--parts', parts, '--quiet'],
        { GZH_THREADS: '1' },
      );
      // once the part's temporary file holds rows (a first 64 KiB flush), and before the shard is done
      const temp = () => readdirSync(parts).find((f) => f.startsWith('.part-00001-of-00004.gzp.tmp-'));
      const writing = await waitFor(() => {
        const t = temp();
        return t !== undefined && statSync(join(parts, t)).size > 0;
      }, 120_000);
      task.child.kill('SIGKILL');
      const ended = await task.done;
      expect(writing, ended.stderr).toBe(true);
      expect(ended.signal).toBe('SIGKILL');
      expect(existsSync(join(parts, 'part-00001-of-00004.gzp'))).toBe(false);
      expect(temp()).toBeDefined(); // the killed writer's hidden temporary: never gathered

      const csv = join(dir, 'sharded.csv');
      const rerun = await predict([
        '--list',
        list,
        '--model',
        model,
        '--csv',
        csv,
        '--shards',
        '4',
        '--parts',
        parts,
        '--executor',
        'local',
        '--jobs',
        '2',
        '--keep-parts',
      ]);
      expect(rerun.exitCode, rerun.stderr).toBe(1); // the broken image, reported
      expect(rerun.stderr).toMatch(/1 to predict/);
      expect(readdirSync(join(parts, 'logs'))).toEqual(['predict-1.log']);
      for (const [f, mtime] of Object.entries(before)) expect(statSync(join(parts, f)).mtimeMs, f).toBe(mtime);
      expect(temp()).toBeUndefined(); // stale temporaries are cleared once every part is in

      const single = await predict(['--list', list, '--model', model, '--csv', join(dir, 'single.csv')]);
      expect(single.exitCode).toBe(1);
      const expected = readFileSync(join(dir, 'single.csv'), 'utf8');
      expect(expected.trim().split('\n')).toHaveLength(1 + 4 * PER_SHARD - Math.ceil((4 * PER_SHARD - 30) / 31));
      expect(readFileSync(csv, 'utf8')).toBe(expected);
      const fails = (s: string) => s.split('\n').filter((l) => l.startsWith('gzh: ') && l.includes('broken.jpg'));
      expect(fails(rerun.stderr)).toEqual(fails(single.stderr));
    },
  );

  it('an interrupted predict --csv (SIGINT, or SIGKILL) leaves the previous file as it was', async () => {
    const out = join(dir, 'interrupt');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out);
    const csv = join(out, 'results.csv');
    writeFileSync(csv, 'previous results\n');
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const task = spawnCli(process.env.GZH_CLI_ENTRY!, [
        'predict',
        '--list',
        list,
        '--model',
        model,
        '--csv',
        csv,
        '--quiet',
      ]);
      const temp = () => readdirSync(out).find((f) => f.startsWith('.results.csv.tmp-'));
      const writing = await waitFor(() => {
        const t = temp();
        return t !== undefined && statSync(join(out, t)).size > 0;
      }, 120_000);
      task.child.kill(signal);
      const ended = await task.done;
      expect(writing, ended.stderr).toBe(true);
      expect(readFileSync(csv, 'utf8')).toBe('previous results\n');
      if (signal === 'SIGINT') {
        expect(ended.exitCode, ended.stderr).toBe(130);
        expect(ended.stderr).toMatch(/interrupted \(SIGINT\); nothing was written/);
        expect(temp()).toBeUndefined(); // removed on the way out
      } else {
        expect(ended.signal).toBe('SIGKILL');
      }
    }
  });

  it('--executor local --jobs 2 over named files equals one predict', async () => {
    const images = join(dir, 'images');
    const csv = join(dir, 'local.csv');
    const r = await predict([
      images,
      '--model',
      model,
      '--csv',
      csv,
      '--shards',
      '3',
      '--executor',
      'local',
      '--jobs',
      '2',
    ]);
    expect(r.exitCode, r.stderr).toBe(1);
    const single = await predict([images, '--model', model, '--csv', join(dir, 'local-single.csv')]);
    expect(readFileSync(csv, 'utf8')).toBe(readFileSync(join(dir, 'local-single.csv'), 'utf8'));
    expect(existsSync(`${csv}.parts`)).toBe(false);
    expect(single.exitCode).toBe(1);
  });
});
