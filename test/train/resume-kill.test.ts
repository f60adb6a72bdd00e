import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { splitMemory } from '../../src/train/memory-source.js';
import { CHILD_DATA } from './fixtures/resume-child.js';
import { syntheticGalaxies } from './helpers/synthetic.js';
import { transpileForNode } from './helpers/transpile.js';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'gzh-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const EPOCHS = 3;

function run(
  script: string,
  args: string[],
): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, out, err })),
  );
  return { child, done };
}

function position(dir: string): { epoch: number; batch: number } | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'latest', 'state.json'), 'utf8')).position;
  } catch {
    return null; // not written yet, or between the two renames
  }
}

const parseLog = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [e, b, ids] = l.split(':');
          return { epoch: Number(e), batch: Number(b), ids };
        })
    : [];

describe('kill and resume', () => {
  it(
    'a run killed (SIGKILL) mid-epoch resumes from its checkpoint and completes without ' + 'repeating batches',
    async () => {
      const script = transpileForNode(join(root, 'test/train/fixtures/resume-child.ts'), root, join(work, 'build'));
      const ckpt = join(work, 'ckpt');
      const csv = join(work, 'log.csv');
      const log1 = join(work, 'batches-1.txt');
      const log2 = join(work, 'batches-2.txt');

      const first = run(script, [ckpt, csv, log1, String(EPOCHS), '150']);
      // Kill once a checkpoint inside the second epoch exists (an epoch row is already in the CSV).
      const deadline = Date.now() + 90_000;
      let killedAt: { epoch: number; batch: number } | null = null;
      while (Date.now() < deadline) {
        const p = position(ckpt);
        if (p && p.epoch >= 1 && p.batch >= 1) {
          first.child.kill('SIGKILL');
          killedAt = p;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const exit1 = await first.done;
      expect(killedAt, `child never reached epoch 1: ${exit1.err}`).not.toBeNull();
      expect(exit1.signal).toBe('SIGKILL');
      const resumeAt = position(ckpt);
      expect(resumeAt).not.toBeNull();
      if (!resumeAt) return;
      expect(resumeAt.epoch).toBeLessThan(EPOCHS);

      const second = run(script, [ckpt, csv, log2, String(EPOCHS), '0']);
      const exit2 = await second.done;
      expect(exit2.code, exit2.err).toBe(0);
      const summary = JSON.parse(exit2.out.trim().split('\n').pop() as string);
      expect(summary).toEqual({ epochs: EPOCHS, resumedFrom: resumeAt });

      // The batches that count: the first run's up to its last checkpoint, then the resumed run's.
      const before = parseLog(log1).filter(
        (b) => b.epoch < resumeAt.epoch || (b.epoch === resumeAt.epoch && b.batch < resumeAt.batch),
      );
      const after = parseLog(log2);
      expect(after[0]).toMatchObject(resumeAt);
      const trained = [...before, ...after];

      // Exactly the batches an uninterrupted run trains, once each, in order, with the same galaxies.
      const data = syntheticGalaxies(CHILD_DATA.n, CHILD_DATA.size, CHILD_DATA.seed);
      const { train: trainSet } = splitMemory(data, {
        validation: CHILD_DATA.validation,
        test: 0,
        seed: CHILD_DATA.seed,
      });
      const expected: Array<{ epoch: number; batch: number; ids: string }> = [];
      for (let epoch = 0; epoch < EPOCHS; epoch++) {
        let batch = 0;
        for await (const b of trainSet.batches({
          batchSize: CHILD_DATA.batchSize,
          shuffle: true,
          seed: CHILD_DATA.trainSeed,
          epoch,
        })) {
          expected.push({ epoch, batch: batch++, ids: b.ids.join('|') });
        }
      }
      expect(trained).toEqual(expected);

      // One CSV row per epoch, no duplicates, learning rate following the schedule across the kill.
      const rows = readFileSync(csv, 'utf8').trim().split('\n');
      const header = rows[0].split(',');
      expect(rows.length).toBe(1 + EPOCHS);
      const epochCol = header.indexOf('epoch');
      const lrCol = header.indexOf('lr');
      expect(rows.slice(1).map((r) => Number(r.split(',')[epochCol]))).toEqual([0, 1, 2]);
      expect(rows.slice(1).map((r) => Number(r.split(',')[lrCol]))).toEqual([1e-3, 5e-4, 2.5e-4]);
    },
    180_000,
  );
});
