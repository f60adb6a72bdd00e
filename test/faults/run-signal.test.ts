/**
 * `gzh run` stopped by signals in the middle of training epochs, then resumed: each time the
 * member in training is checkpointed at the batch it reached and the run is recorded as
 * interrupted (exit 130); the run completed by `--resume` has the model weights, epoch losses and
 * test figures of an uninterrupted run. Stopped inline (SIGINT, as Ctrl-C sends it), then resumed
 * with `--executor local` and stopped by SIGTERM to `gzh run`, which passes it on to the `gzh unit`
 * process training the member, then (where the Slurm dev cluster runs) resumed with `--executor
 * slurm` and stopped by SIGTERM to `gzh run`, which scancels the task.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { RunRegistry } from '../../src/experiments/registry.js';
import { readUnitStatus } from '../../src/experiments/unit-status.js';
import type { TrainingPosition } from '../../src/train/index.js';
import { resolveAtomicDir } from '../../src/util/atomic.js';
import { testCli } from '../helpers/cli-bundle.js';
import { slurmDevCluster } from '../helpers/slurm.js';
import type { Exit } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-run-signal-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const BATCHES = 30; // per epoch: 120 training galaxies in batches of 4
const EPOCHS = 6;
const slurmSkipped = slurmDevCluster();

/**
 * The config of the runs under `out`: one flat model, 6 epochs of 30 batches, checkpointed only at
 * epoch ends (and when stopped); its synthetic galaxies and caches beside `out`, so that runs under
 * other folders can run alongside.
 */
function configFor(out: string): string {
  const file = `${out}.json`;
  if (existsSync(file)) return file;
  const config = {
    name: 'signal',
    seed: 7,
    data: {
      source: 'synthetic',
      synthetic: { count: 150, size: 32 },
      path: `${out}-data`,
      split: { validation: 0.1, test: 0.1 },
    },
    preprocess: { method: 'center', size: 24, centerCrop: 28, channels: 1, cacheDir: `${out}-cache` },
    model: { kind: 'flat' },
    augment: { d4: true },
    training: { epochs: EPOCHS, batchSize: 4 },
    callbacks: { checkpointSeconds: 3600 },
    report: { examples: 1, scatterPoints: 5 },
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** `gzh -q --json run <out's config> --out <out> …` with 1 TensorFlow thread in every process. */
function gzh(out: string, args: readonly string[] = []) {
  const [node, main] = testCli();
  const child = spawn(
    node!,
    [main!, '-q', '--json', 'run', configFor(out), '--out', out, '--threads-per-member', '1', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', GZH_THREADS: '1' },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out: stdout, err: stderr })),
  );
  return { child, done };
}

/** The folder of the (only) run under `out`, once it exists. */
function runDirOf(out: string): string | undefined {
  if (!existsSync(out)) return undefined;
  const dirs = readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory());
  return dirs.length === 1 ? join(out, dirs[0]!.name) : undefined;
}

const memberDir = (runDir: string) => join(runDir, 'variants', 'flat', 'member-0');

interface CheckpointInfo {
  /** Where training stands. */
  readonly position: TrainingPosition;
  /** The epochs trained, with their durations. */
  readonly history: ReadonlyArray<{ readonly seconds: number }>;
}

/** The member's latest checkpoint, if it has one. */
function checkpointOf(runDir: string | undefined): CheckpointInfo | undefined {
  const dir = runDir && resolveAtomicDir(join(memberDir(runDir), 'checkpoint', 'latest'));
  if (!dir) return undefined;
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as CheckpointInfo;
  } catch {
    return undefined; // replaced while read
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `gzh run … args` and, once the member's checkpoint says `epoch` epochs are trained, sends
 * it `signal` a quarter of the last epoch's time later: inside the next epoch, far from both of its
 * ends, on a machine as loaded now as it was during that epoch.
 */
async function signalDuringEpoch(
  out: string,
  args: readonly string[],
  epoch: number,
  signal: NodeJS.Signals,
): Promise<Exit> {
  const run = gzh(out, args);
  let exited = false;
  void run.done.then(() => (exited = true));
  let checkpoint = checkpointOf(runDirOf(out));
  while (!exited && (checkpoint?.position.epoch ?? 0) < epoch) {
    await sleep(20);
    checkpoint = checkpointOf(runDirOf(out));
  }
  if (checkpoint) await sleep((checkpoint.history[epoch - 1]!.seconds * 1000) / 4);
  run.child.kill(signal);
  return run.done;
}

/**
 * A run stopped by `signal` inside an epoch after the first `epoch` (on a loaded machine the signal
 * can land an epoch later than aimed at): checkpointed at the batch it reached, recorded as
 * interrupted. Returns the epochs it had trained.
 */
function expectStoppedAfter(out: string, exit: Exit, epoch: number, signal: NodeJS.Signals): number {
  expect(exit.code, exit.err).toBe(130);
  expect(exit.err).toMatch(/interrupted; resume it with: gzh run .* --resume /);
  const runDir = runDirOf(out)!;
  const at = checkpointOf(runDir)!.position;
  expect(at.epoch).toBeGreaterThanOrEqual(epoch);
  expect(at.epoch).toBeLessThan(EPOCHS);
  expect(at.batch).toBeGreaterThan(0);
  expect(at.batch).toBeLessThan(BATCHES);
  const unit = readUnitStatus(runDir, 'train:flat:0')!;
  expect(unit.state).toBe('failed');
  expect(unit.message).toContain(`stopped by ${signal}`);
  expect(unit.message).toContain(`training stopped at batch ${at.batch} of epoch ${at.epoch + 1}`);
  const registry = RunRegistry.open(join(out, 'registry.sqlite'));
  try {
    expect(registry.get('latest').status).toBe('interrupted');
  } finally {
    registry.close();
  }
  return at.epoch;
}

/** The test figures a run printed. */
function figures(exit: Exit) {
  const out = JSON.parse(exit.out) as { variants: Array<{ rmse: number; r2: number; perQuestion: unknown }> };
  return out.variants.map((v) => ({ rmse: v.rmse, r2: v.r2, perQuestion: v.perQuestion }));
}

/** The member's trained weights, and its epochs' losses. */
function member(runDir: string) {
  const history = JSON.parse(readFileSync(join(memberDir(runDir), 'history.json'), 'utf8')) as Array<{
    loss: number;
    valRmse: number;
  }>;
  return {
    weights: readFileSync(join(memberDir(runDir), 'model', 'weights.bin')),
    losses: history.map((e) => [e.loss, e.valRmse]),
  };
}

describe('gzh run stopped mid-epoch by signals, then --resume', () => {
  it(
    'SIGINT inline from epoch 2, SIGTERM to --executor local and then to --executor slurm in later epochs: each ' +
      `checkpoints the batch reached, and the resumed run equals an uninterrupted one${
        slurmSkipped ? ` (slurm skipped: ${slurmSkipped})` : ''
      }`,
    { timeout: 300_000 },
    async () => {
      // the uninterrupted run, alongside (each process has 1 thread)
      const referenceOut = join(work, 'reference');
      const referenceRun = gzh(referenceOut);
      onTestFinished(() => void referenceRun.child.kill('SIGKILL'));
      const out = join(work, 'stopped');
      const inline = await signalDuringEpoch(out, [], 1, 'SIGINT');
      const first = expectStoppedAfter(out, inline, 1, 'SIGINT');
      const resume = ['--resume', 'latest', '--executor'];
      const local = await signalDuringEpoch(out, [...resume, 'local'], first + 1, 'SIGTERM');
      const second = expectStoppedAfter(out, local, first + 1, 'SIGTERM');
      if (slurmSkipped === null) {
        expect(second + 1, 'an epoch left to stop under slurm').toBeLessThan(EPOCHS);
        const slurm = await signalDuringEpoch(out, [...resume, 'slurm'], second + 1, 'SIGTERM');
        expectStoppedAfter(out, slurm, second + 1, 'SIGTERM');
        // the score job, which would start once the train array ended, was cancelled too
        expect(readUnitStatus(runDirOf(out)!, 'score:flat')?.message).toMatch(/^not run: the run was stopped/);
      }

      const resumed = await gzh(out, ['--resume', 'latest']).done;
      expect(resumed.code, resumed.err).toBe(0);
      const reference = await referenceRun.done;
      expect(reference.code, reference.err).toBe(0);
      expect(figures(resumed)).toEqual(figures(reference));
      const trained = member(runDirOf(out)!);
      const uninterrupted = member(runDirOf(referenceOut)!);
      expect(trained.losses).toEqual(uninterrupted.losses);
      expect(trained.weights.equals(uninterrupted.weights)).toBe(true);
    },
  );
});
