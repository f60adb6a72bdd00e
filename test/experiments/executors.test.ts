import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import type { ExecutorChoice } from '../../src/experiments/execute.js';
import { RunRegistry } from '../../src/experiments/registry.js';
import { type RunOutcome, UnitsFailedError, runExperiment } from '../../src/experiments/runner.js';
import { readUnitStatus, readUnitStatuses } from '../../src/experiments/unit-status.js';
import { testCli } from '../helpers/cli-bundle.js';
import { slurmDevCluster } from '../helpers/slurm.js';

// The same TensorFlow thread count in this process as in the executors' tasks (1 CPU each):
// float reductions, and so the last digits of the figures, depend on it.
process.env.GZH_THREADS = '1';

const root = mkdtempSync(join(tmpdir(), 'gzh-executors-'));

/** 2 variants × 2 members on tiny synthetic galaxies, a few steps each. */
function experiment(
  name: string,
  data: object = { source: 'synthetic', synthetic: { count: 160, size: 32 }, split: { validation: 0.1, test: 0.25 } },
) {
  return parseExperimentConfig({
    name,
    seed: 5,
    data,
    preprocess: { method: 'center', size: 24, centerCrop: 28, channels: 1 },
    model: { kind: 'flat' },
    augment: { d4: true },
    training: { epochs: 2, batchSize: 32 },
    report: { examples: 2, scatterPoints: 10 },
    output: { dir: join(root, 'runs') },
    variants: [
      { name: 'flat', model: { kind: 'flat' }, ensemble: { size: 2, tta: 'flip' } },
      { name: 'hier', model: { kind: 'hierarchical' }, ensemble: { size: 2, tta: 'none' } },
    ],
  });
}

/** Every figure of a run that must not depend on where its units ran. */
function figures(outcome: RunOutcome) {
  return outcome.result.variants.map((v) => ({
    name: v.name,
    overall: v.overall,
    perQuestion: v.perQuestion,
    perAnswerR2: v.perAnswerR2,
    members: v.members,
    memberSpread: v.memberSpread,
    epochs: v.epochs,
    losses: v.history.map((h) => [h.member, h.epoch, h.loss, h.valRmse]),
  }));
}

const registry = () => RunRegistry.open(join(root, 'runs', 'registry.sqlite'));

/** The folder of the newest run. */
function latestRunDir(): string {
  const r = registry();
  try {
    return r.get('latest').outputDir!;
  } finally {
    r.close();
  }
}

async function run(
  executor: ExecutorChoice,
  extra: { resume?: string } = {},
  exp = experiment('tiny-exec'),
): Promise<RunOutcome> {
  const r = registry();
  try {
    return await runExperiment(exp, { kind: 'compare', registry: r, executor, ...extra });
  } finally {
    r.close();
  }
}

let inline: ReturnType<typeof figures> | undefined;
async function inlineFigures() {
  inline ??= figures(await run({ name: 'inline' }));
  return inline;
}

describe("executors give the inline run's figures", { timeout: 600_000 }, () => {
  it('--executor local --jobs 2: train units in 2 child processes, then score and report in one', async () => {
    const expected = await inlineFigures();
    const outcome = await run({ name: 'local', jobs: 2, unitCommand: testCli() });
    expect(outcome.run.status).toBe('completed');
    expect(figures(outcome)).toEqual(expected);
    const statuses = readUnitStatuses(outcome.runDir);
    expect(statuses.map((s) => [s.id, s.state])).toEqual(
      [
        'prepare',
        'report',
        'score:flat',
        'score:hier',
        'train:flat:0',
        'train:flat:1',
        'train:hier:0',
        'train:hier:1',
      ].map((id) => [id, 'done']),
    );
    expect(readUnitStatus(outcome.runDir, 'train:flat:1')?.where).toMatch(/^local pid \d+/);
    // prepare ran in a child process too, before the train units
    const prepare = readUnitStatus(outcome.runDir, 'prepare')!;
    expect(prepare.where).toMatch(/^local pid \d+/);
    expect(prepare.updatedAt < readUnitStatus(outcome.runDir, 'train:flat:0')!.updatedAt).toBe(true);
    expect(prepare.artifacts?.catalogue).toMatch(/\.sqlite$/);
    // tasks never open the registry: only this process wrote it, with every unit's phases
    const r = registry();
    expect(Object.keys(r.get(outcome.run.id).phases)).toEqual(
      expect.arrayContaining(['ingest', 'train:flat', 'train:hier', 'evaluate:flat', 'report']),
    );
    r.close();
    expect(existsSync(join(outcome.runDir, 'report', 'report.md'))).toBe(true);
  });

  it(
    '--threads-per-member 1 pins the threads of each child: ' + 'local --jobs 1 gives the 1-thread inline figures',
    async () => {
      const expected = await inlineFigures();
      const outcome = await run({ name: 'local', jobs: 1, threads: 1, unitCommand: testCli() });
      expect(figures(outcome)).toEqual(expected);
    },
  );

  it('a failed prepare stops the run before any train unit, each unit saying why', async () => {
    const exp = experiment('tiny-exec-nodata', { source: 'kaggle', path: join(root, 'no-such-data') });
    const error = await run({ name: 'local', jobs: 2, unitCommand: testCli() }, {}, exp).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnitsFailedError);
    expect((error as Error).message).toMatch(/prepare: Kaggle labels not found: .*no-such-data/);
    const runDir = latestRunDir();
    expect(readUnitStatus(runDir, 'prepare')?.state).toBe('failed');
    expect(readUnitStatus(runDir, 'train:flat:0')?.state).toBe('queued');
    expect(existsSync(join(runDir, 'logs', 'train-0.log'))).toBe(false);
  });
});

const skip = slurmDevCluster();

describe.skipIf(skip !== null)(
  `--executor slurm on the dev cluster${skip ? ` (skipped: ${skip})` : ''}`,
  { timeout: 600_000 },
  () => {
    const slurm = (): ExecutorChoice => ({
      name: 'slurm',
      slurm: { cpusPerTask: 1 },
      unitCommand: testCli(),
      pollSeconds: 0.5,
    });

    it(
      'runs prepare as a job, the train units as one array after it and score + report as a dependent job, ' +
        'with the inline figures',
      async () => {
        const expected = await inlineFigures();
        const outcome = await run(slurm());
        expect(figures(outcome)).toEqual(expected);
        const script = readFileSync(join(outcome.runDir, 'train.sbatch'), 'utf8');
        expect(script).toContain('#SBATCH --array=0-3');
        const prepare = readUnitStatus(outcome.runDir, 'prepare')!;
        expect(prepare.where).toMatch(/^slurm \d+_0$/);
        const prepareJob = prepare.where!.slice('slurm '.length, -'_0'.length);
        expect(script).toContain(`#SBATCH --dependency=afterok:${prepareJob}\n#SBATCH --kill-on-invalid-dep=yes\n`);
        expect(readFileSync(join(outcome.runDir, 'score.sbatch'), 'utf8')).toMatch(
          new RegExp(`#SBATCH --dependency=afterok:${prepareJob},afterany:\\d+\n`),
        );
        expect(readUnitStatus(outcome.runDir, 'train:hier:1')?.where).toMatch(/^slurm \d+_\d$/);
      },
    );

    it('an array task cancelled mid-training loses nothing: --resume completes with the same figures', async () => {
      const expected = await inlineFigures();
      const r = registry();
      const exp = experiment('tiny-exec');
      const first = runExperiment(exp, { kind: 'compare', registry: r, executor: slurm() }).catch((e: unknown) => e);
      // wait for a train unit to run, then scancel its task
      let cancelled: string | undefined;
      for (let i = 0; i < 600 && !cancelled; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const latest = r.list().find((x) => x.name === 'tiny-exec' && x.status === 'running');
        const status = latest?.outputDir ? readUnitStatus(latest.outputDir, 'train:hier:0') : undefined;
        if (status?.state === 'running' && status.where?.startsWith('slurm '))
          cancelled = status.where.slice('slurm '.length);
      }
      expect(cancelled).toBeDefined();
      execFileSync('scancel', [cancelled!]);
      const error = await first;
      expect(error).toBeInstanceOf(UnitsFailedError);
      const stopped = r.get('latest');
      expect(stopped.status).toBe('failed');
      const lost = readUnitStatus(stopped.outputDir!, 'train:hier:0');
      expect(lost?.state).toBe('failed');
      // the task says it was stopped by SIGTERM, or Slurm killed it before it could
      expect(lost?.message).toMatch(/stopped by SIGTERM|no exit status from Slurm job/);
      expect(stopped.error).toContain('train:hier:0');
      expect(readUnitStatus(stopped.outputDir!, 'train:flat:0')?.state).toBe('done');
      const preparedAt = readUnitStatus(stopped.outputDir!, 'prepare')?.updatedAt;
      r.close();
      const resumed = await run(slurm(), { resume: stopped.id });
      expect(resumed.run.status).toBe('completed');
      expect(figures(resumed)).toEqual(expected);
      // only the units not done ran again: prepare and the flat members kept their first status
      expect(readUnitStatus(resumed.runDir, 'train:hier:0')?.where).not.toBe(`slurm ${cancelled}`);
      expect(readUnitStatus(resumed.runDir, 'prepare')?.updatedAt).toBe(preparedAt);
      expect(existsSync(join(resumed.runDir, 'prepare.sbatch'))).toBe(true);
    });

    it('a failed prepare job cancels the train array and the score job: no task of theirs runs', async () => {
      const exp = experiment('tiny-exec-nodata', { source: 'kaggle', path: join(root, 'no-such-data') });
      const error = await run(slurm(), {}, exp).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnitsFailedError);
      expect((error as Error).message).toMatch(/prepare: Kaggle labels not found/);
      const runDir = latestRunDir();
      expect(readUnitStatus(runDir, 'train:flat:0')?.message).toMatch(/^not run: prepare failed/);
      expect(readUnitStatus(runDir, 'report')?.message).toMatch(/^not run: prepare failed/);
      expect(existsSync(join(runDir, 'logs', 'train-0.log'))).toBe(false);
    });
  },
);
