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
function experiment(name: string) {
  return parseExperimentConfig({
    name,
    seed: 5,
    data: { source: 'synthetic', synthetic: { count: 160, size: 32 }, split: { validation: 0.1, test: 0.25 } },
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

async function run(executor: ExecutorChoice, extra: { resume?: string } = {}): Promise<RunOutcome> {
  const r = registry();
  try {
    return await runExperiment(experiment('tiny-exec'), { kind: 'compare', registry: r, executor, ...extra });
  } finally {
    r.close();
  }
}

let inline: ReturnType<typeof figures> | undefined;
async function inlineFigures() {
  inline ??= figures(await run({ name: 'inline' }));
  return inline;
}

describe('executors give the inline run\'s figures', { timeout: 600_000 }, () => {
  it('--executor local --jobs 2: train units in 2 child processes, then score and report in one', async () => {
    const expected = await inlineFigures();
    const outcome = await run({ name: 'local', jobs: 2, unitCommand: testCli() });
    expect(outcome.run.status).toBe('completed');
    expect(figures(outcome)).toEqual(expected);
    const statuses = readUnitStatuses(outcome.runDir);
    expect(statuses.map((s) => [s.id, s.state])).toEqual(
      ['prepare', 'report', 'score:flat', 'score:hier', 'train:flat:0', 'train:flat:1', 'train:hier:0', 'train:hier:1'].map((id) => [id, 'done']),
    );
    expect(readUnitStatus(outcome.runDir, 'train:flat:1')?.where).toMatch(/^local pid \d+/);
    // tasks never open the registry: only this process wrote it, with every unit's phases
    const r = registry();
    expect(Object.keys(r.get(outcome.run.id).phases)).toEqual(expect.arrayContaining(['ingest', 'train:flat', 'train:hier', 'evaluate:flat', 'report']));
    r.close();
    expect(existsSync(join(outcome.runDir, 'report', 'report.md'))).toBe(true);
  });
});

const skip = slurmDevCluster();

describe.skipIf(skip !== null)(`--executor slurm on the dev cluster${skip ? ` (skipped: ${skip})` : ''}`, { timeout: 600_000 }, () => {
  const slurm = (): ExecutorChoice => ({ name: 'slurm', slurm: { cpusPerTask: 1 }, unitCommand: testCli(), pollSeconds: 0.5 });

  it('runs the train units as one array and score + report as a dependent job, with the inline figures', async () => {
    const expected = await inlineFigures();
    const outcome = await run(slurm());
    expect(figures(outcome)).toEqual(expected);
    const script = readFileSync(join(outcome.runDir, 'train.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-3');
    expect(readFileSync(join(outcome.runDir, 'score.sbatch'), 'utf8')).toMatch(/#SBATCH --dependency=afterany:\d+/);
    expect(readUnitStatus(outcome.runDir, 'train:hier:1')?.where).toMatch(/^slurm \d+_\d$/);
  });

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
      if (status?.state === 'running' && status.where?.startsWith('slurm ')) cancelled = status.where.slice('slurm '.length);
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
    r.close();
    const resumed = await run(slurm(), { resume: stopped.id });
    expect(resumed.run.status).toBe('completed');
    expect(figures(resumed)).toEqual(expected);
    // only the units not done ran again: the flat members kept their first status
    expect(readUnitStatus(resumed.runDir, 'train:hier:0')?.where).not.toBe(`slurm ${cancelled}`);
  });
});
