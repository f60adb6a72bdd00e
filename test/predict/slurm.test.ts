import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCli } from '../helpers/cli-bundle.js';
import { DATA, realDataAvailable } from '../helpers/data.js';
import { slurmDevCluster } from '../helpers/slurm.js';
import { saveTiny, tinyHierarchical } from '../ensemble/helpers.js';
import { predictInProcess as predict, spawnCli } from './helpers.js';

const data = realDataAvailable(DATA.kaggleImages);
const skip = data.available ? slurmDevCluster() : data.reason;
const SHARDS = 4;
let dir: string;
let list: string;
let model: string;
let expected: string;
let count: number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `<job>_<index>` and state of each task of an array whose batch script is `script`. */
function arrayTasks(script: string): { id: string; state: string }[] {
  const out = execFileSync('squeue', ['-h', '-r', '-o', '%i|%T|%o'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter((f) => f[2] === script)
    .map(([id, state]) => ({ id: id!, state: state! }));
}

beforeAll(async () => {
  if (skip) return;
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-predict-slurm-'));
  process.env.GZH_CLI_ENTRY = testCli()[1];
  const m = tinyHierarchical(3);
  model = await saveTiny(m, join(dir, 'model'), 'hierarchical');
  m.dispose();
  const files = readdirSync(DATA.kaggleImages)
    .filter((f) => f.endsWith('.jpg'))
    .sort();
  count = files.length;
  list = join(dir, 'catalogue.txt');
  writeFileSync(list, files.map((f) => `${join(DATA.kaggleImages, f)}\n`).join(''));
  const started = performance.now();
  const single = await predict([
    '--list',
    list,
    '--model',
    model,
    '--csv',
    join(dir, 'single.csv'),
    '--batch-size',
    '64',
  ]);
  if (single.exitCode !== 0) throw new Error(`one predict failed: ${single.stderr}`);
  expected = readFileSync(join(dir, 'single.csv'), 'utf8');
  process.stderr.write(`one predict of ${count} images: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}, 300_000);
afterAll(() => {
  delete process.env.GZH_CLI_ENTRY;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const title = `gzh predict --shards --executor slurm on the dev cluster${skip ? ` (skipped: ${skip})` : ''}`;

describe.skipIf(skip !== null)(title, { timeout: 300_000 }, () => {
  const args = (csv: string) => [
    ...['--list', list, '--model', model, '--csv', csv, '--shards', String(SHARDS)],
    ...['--executor', 'slurm', '--cpus-per-task', '1', '--batch-size', '64'],
  ];

  it(
    `every shared Kaggle image in ${SHARDS} shards as a Slurm array gives the CSV of one ` + 'predict, byte for byte',
    async () => {
      expect(count).toBe(5408);
      expect(expected.trim().split('\n')).toHaveLength(1 + count);
      const csv = join(dir, 'sharded.csv');
      const r = await predict(args(csv));
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        `${SHARDS} to predict (slurm array, script ${join(`${csv}.parts`, 'predict.sbatch')})`,
      );
      for (let i = 0; i < SHARDS; i++) expect(r.stderr).toContain(`shard ${i}/${SHARDS} done`);
      expect(readFileSync(csv, 'utf8')).toBe(expected);
      expect(existsSync(`${csv}.parts`)).toBe(false);
    },
  );

  it(
    'a shard task scancelled mid-way: the command names it, and the same command again ' + 'predicts only that shard',
    async () => {
      const csv = join(dir, 'cancelled.csv');
      const parts = `${csv}.parts`;
      const script = join(parts, 'predict.sbatch');
      const first = predict(args(csv));
      let cancelled: { id: string; index: number } | undefined;
      for (let tries = 0; !cancelled && tries < 600; tries++) {
        await sleep(250);
        if (!existsSync(script)) continue;
        const running = arrayTasks(script).filter((t) => t.state === 'RUNNING');
        for (const t of running) {
          const index = Number(t.id.split('_')[1]);
          const writing = readdirSync(parts).some(
            (f) => f.startsWith(`.part-${String(index).padStart(5, '0')}-`) && f.includes('.tmp-'),
          );
          if (writing) {
            execFileSync('scancel', [t.id]);
            cancelled = { id: t.id, index };
            break;
          }
        }
      }
      expect(cancelled, 'no shard task was seen writing its part').toBeDefined();
      const r1 = await first;
      const { index } = cancelled!;
      expect(r1.exitCode).toBe(1);
      expect(r1.stderr).toContain('1 shard(s) not done; run the same command again to predict only those');
      expect(r1.stderr).toMatch(
        new RegExp(`shard ${index}/${SHARDS}: (no exit status from Slurm job ${cancelled!.id}|exit code 130)`),
      );
      expect(existsSync(csv)).toBe(false);
      // the batch script stays, readable and resubmittable
      const text = readFileSync(script, 'utf8');
      expect(text).toContain(`#SBATCH --array=0-${SHARDS - 1}\n`);
      expect(text).toContain(`--shard ${index}/${SHARDS}`);
      const done = readdirSync(parts)
        .filter((f) => /^part-\d{5}-of-\d{5}\.gzp$/.test(f))
        .sort();
      expect(done).toHaveLength(SHARDS - 1);
      expect(done).not.toContain(`part-${String(index).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.gzp`);
      const mtimes = done.map((f) => statSync(join(parts, f)).mtimeMs);

      const r2 = await predict([...args(csv), '--keep-parts']);
      expect(r2.exitCode, r2.stderr).toBe(0);
      expect(r2.stderr).toContain(`${count} input(s) in ${SHARDS} shard(s); 1 to predict (slurm array`);
      expect(r2.stderr.match(/shard \d+\/\d+ done/g)).toEqual([`shard ${index}/${SHARDS} done`]);
      expect(readFileSync(script, 'utf8')).toContain(`#SBATCH --array=${index}\n`);
      expect(done.map((f) => statSync(join(parts, f)).mtimeMs)).toEqual(mtimes);
      expect(readFileSync(csv, 'utf8')).toBe(expected);
    },
  );

  it(
    'Ctrl-C of the command cancels its array (exit 130), keeps the finished parts, and the same command again ' +
      'predicts the rest',
    async () => {
      const csv = join(dir, 'interrupted.csv');
      const parts = `${csv}.parts`;
      const script = join(parts, 'predict.sbatch');
      const partFiles = () =>
        existsSync(parts) ? readdirSync(parts).filter((f) => /^part-\d{5}-of-\d{5}\.gzp$/.test(f)) : [];
      const { child, done } = spawnCli(process.env.GZH_CLI_ENTRY!, ['predict', ...args(csv)]);
      let sent = false;
      for (let tries = 0; !sent && child.exitCode === null && tries < 600; tries++) {
        await sleep(250);
        if (partFiles().length >= 1 && arrayTasks(script).some((t) => t.state === 'RUNNING'))
          sent = child.kill('SIGINT');
      }
      expect(sent, 'never saw a finished part beside a running task').toBe(true);
      const r1 = await done;
      expect(r1.exitCode, r1.stderr).toBe(130);
      expect(r1.stderr).toContain('predict interrupted (SIGINT): its shard tasks were cancelled');
      expect(arrayTasks(script)).toEqual([]);
      expect(existsSync(csv)).toBe(false);
      const kept = partFiles().length;
      expect(kept).toBeGreaterThanOrEqual(1);
      expect(kept).toBeLessThan(SHARDS);

      const r2 = await predict(args(csv));
      expect(r2.exitCode, r2.stderr).toBe(0);
      expect(r2.stderr).toContain(`${SHARDS - kept} to predict (slurm array`);
      expect(readFileSync(csv, 'utf8')).toBe(expected);
    },
  );
});
