/**
 * Runs the units of a plan that are not done, with an executor:
 *
 * - inline: every unit in this process, in plan order (the default);
 * - local:  one child process for prepare, then the train units as child processes (`--jobs N`
 *           at a time, the CPU threads divided among them), then one child for the score units
 *           and the report;
 * - slurm:  prepare as one job, the train units as one `sbatch --array` that starts once prepare
 *           succeeded (`--dependency=afterok`), the score units and the report as one job
 *           depending on both (`afterok` on prepare, `afterany` on the array). The submitting
 *           process (a login node) does no heavy work: it only submits, watches and records.
 *
 * A child process or task runs `gzh unit <run dir> <unit id…>` and records each unit's state in
 * the run directory; this process reads those files (it alone writes the registry).
 */
import { join } from 'node:path';
import { projectHome } from '../util/project.js';
import { defaultUnitCommand } from '../exec/cli-command.js';
import { LocalExecutor } from '../exec/local.js';
import { type JobDependencies, SlurmExecutor, type SlurmJob, type SlurmSettings } from '../exec/slurm.js';
import type { Executor, ExecutorName, TaskArray, TaskOutcome } from '../exec/types.js';
import type { Unit } from './plan.js';
import type { RunSession } from './session.js';
import { readUnitStatus, unitDone, writeUnitStatus } from './unit-status.js';
import { runUnit } from './units/index.js';

/** Where the units of a run execute. */
export interface ExecutorChoice {
  /** inline (this process), local (child processes) or slurm (sbatch arrays). */
  readonly name: ExecutorName;
  /** local: child processes at a time. */
  readonly jobs?: number;
  /** slurm: partition, account, time, CPUs and memory per task, extra #SBATCH lines. */
  readonly slurm?: SlurmSettings;
  /** The command that runs `gzh` (program and leading arguments); default: this package's CLI. */
  readonly unitCommand?: readonly string[];
  /** slurm: seconds between looks at the queue (default 2). */
  readonly pollSeconds?: number;
  /**
   * TensorFlow threads of every child process or task (GZH_THREADS), instead of ⌊CPUs / jobs⌋
   * (local) or the task's CPUs (slurm). Float sums, and so the last digits of the figures, depend
   * on the thread count: runs with equal counts give identical figures whatever the executor.
   */
  readonly threads?: number;
}

/**
 * Inline, `--threads-per-member` is this process's thread count: TensorFlow reads it once, as
 * the native backend loads, so this must run before (the runner calls it before initialising
 * the backend; a library process that already loaded it keeps its count).
 */
export function pinInlineThreads(choice: ExecutorChoice): void {
  if (choice.name !== 'inline' || !choice.threads) return;
  process.env.GZH_THREADS = process.env.TF_NUM_INTRAOP_THREADS = String(choice.threads);
}

/** Units not done, in plan order. */
export function pendingUnits(session: RunSession): Unit[] {
  return session.plan.units.filter((u) => !unitDone(session.runDir, u));
}

/** Says which units an earlier process already did. */
function logDone(session: RunSession): void {
  for (const unit of session.plan.units) {
    if (!unitDone(session.runDir, unit)) continue;
    if (unit.kind === 'prepare')
      session.log(`prepare: already done (${join(session.runDir, unit.outputs[0])} and the data caches)`);
    if (unit.kind === 'score')
      session.log(`${unit.variant}: already done, reusing ${join(session.runDir, unit.outputs[0])}`);
    if (unit.kind === 'train') session.log(`${unit.variant}: member ${unit.member! + 1} already trained`);
  }
}

/** The units to run, in the three stages an executor runs one after another. */
interface Stages {
  /** `prepare`, one task (when not done). */
  readonly prepare: readonly (readonly Unit[])[];
  /** One task per train unit. */
  readonly train: readonly (readonly Unit[])[];
  /** One task for the score units and the report. */
  readonly score: readonly (readonly Unit[])[];
}

function stagesOf(pending: readonly Unit[]): Stages {
  const prepare = pending.filter((u) => u.kind === 'prepare');
  const finish = pending.filter((u) => u.kind === 'score' || u.kind === 'report');
  return {
    prepare: prepare.length ? [prepare] : [],
    train: pending.filter((u) => u.kind === 'train').map((u) => [u]),
    score: finish.length ? [finish] : [],
  };
}

const STAGE_NAMES = ['prepare', 'train', 'score'] as const;

function taskArray(
  session: RunSession,
  name: string,
  groups: readonly (readonly Unit[])[],
  choice: ExecutorChoice,
): TaskArray {
  const command = choice.unitCommand ?? defaultUnitCommand();
  const threads = choice.threads ? String(choice.threads) : undefined;
  return {
    name,
    indices: groups.map((_, i) => i),
    argv: (i) => [...command, 'unit', session.runDir, ...groups[i].map((u) => u.id)],
    cwd: projectHome(),
    logDir: join(session.runDir, 'logs'),
    ...(threads ? { env: { GZH_THREADS: threads, TF_NUM_INTRAOP_THREADS: threads } } : {}),
  };
}

async function markQueued(session: RunSession, units: readonly Unit[], where: string): Promise<void> {
  for (const unit of units)
    await writeUnitStatus(session.runDir, { id: unit.id, inputsHash: unit.inputsHash, state: 'queued', where });
}

/** A task that ended without its units recording an end (killed, cancelled, out of time): say so in their status. */
async function recordLost(
  session: RunSession,
  groups: readonly (readonly Unit[])[],
  outcomes: readonly TaskOutcome[],
  why?: string,
): Promise<void> {
  for (const outcome of outcomes) {
    if (outcome.ok) continue;
    for (const unit of groups[outcome.index]) {
      const state = readUnitStatus(session.runDir, unit.id)?.state;
      if (state === 'queued' || state === 'running') {
        await writeUnitStatus(session.runDir, {
          id: unit.id,
          inputsHash: unit.inputsHash,
          state: 'failed',
          message: why ?? outcome.message ?? 'the task ended without a status',
          where: outcome.log,
        });
      }
    }
  }
}

/** Child processes, one stage after the other; a stage with a failed task stops the run there. */
async function runLocal(
  session: RunSession,
  stages: Stages,
  choice: ExecutorChoice,
  signal?: AbortSignal,
): Promise<void> {
  const executor: Executor = new LocalExecutor(choice.jobs ?? 1);
  await markQueued(
    session,
    STAGE_NAMES.flatMap((name) => stages[name].flat()),
    'local',
  );
  for (const name of STAGE_NAMES) {
    const groups = stages[name];
    if (!groups.length) continue;
    if (signal?.aborted) return;
    const outcomes = await executor.runArray(taskArray(session, name, groups, choice), signal ? { signal } : {});
    await recordLost(session, groups, outcomes);
    if (outcomes.some((o) => !o.ok)) return;
  }
}

/**
 * Three submissions: prepare; the train array after prepare succeeded (`afterok`); score and
 * report after prepare succeeded and the array ended (`afterany`). A failed prepare cancels both.
 */
async function submitSlurm(
  session: RunSession,
  stages: Stages,
  executor: SlurmExecutor,
  choice: ExecutorChoice,
): Promise<Array<SlurmJob | undefined>> {
  const submit = (name: (typeof STAGE_NAMES)[number], deps: JobDependencies) =>
    stages[name].length ? executor.submit(taskArray(session, name, stages[name], choice), deps) : undefined;
  const prepare = await submit('prepare', []);
  const afterPrepare = prepare ? [prepare.id] : [];
  const train = await submit('train', { afterok: afterPrepare });
  const score = await submit('score', { afterok: afterPrepare, afterany: train ? [train.id] : [] });
  const jobs = [prepare, train, score];
  for (const [i, name] of STAGE_NAMES.entries()) await markQueued(session, stages[name].flat(), `slurm ${jobs[i]?.id}`);
  const said = jobs.map(
    (job, i) =>
      job &&
      `${STAGE_NAMES[i]} ${job.id} (${job.tasks.indices.length} ` +
        `task${job.tasks.indices.length > 1 ? 's' : ''}, ${job.script})`,
  );
  session.log(`slurm: ${said.filter(Boolean).join(', ')}`);
  return jobs;
}

async function runSlurm(
  session: RunSession,
  stages: Stages,
  choice: ExecutorChoice,
  signal?: AbortSignal,
): Promise<void> {
  const executor = new SlurmExecutor({
    ...choice.slurm,
    scriptDir: session.runDir,
    ...(choice.pollSeconds ? { pollSeconds: choice.pollSeconds } : {}),
  });
  const jobs = await submitSlurm(session, stages, executor, choice);
  const options = signal ? { signal } : {};
  // a stop cancels every job at once: a job waiting on `afterany` must not start while the
  // running stage is still stopping
  const cancelAll = () => jobs.forEach((job) => job && void executor.cancel(job).catch(() => {}));
  signal?.addEventListener('abort', cancelAll, { once: true });
  try {
    await waitForStages(session, stages, executor, jobs, options);
  } finally {
    signal?.removeEventListener('abort', cancelAll);
  }
}

/** Waits for each stage's job in turn and records the units a job did not finish. */
async function waitForStages(
  session: RunSession,
  stages: Stages,
  executor: SlurmExecutor,
  jobs: Awaited<ReturnType<typeof submitSlurm>>,
  options: { signal?: AbortSignal },
): Promise<void> {
  const signal = options.signal;
  let prepareFailed = false;
  for (const [i, name] of STAGE_NAMES.entries()) {
    const job = jobs[i];
    if (!job) continue;
    // a stopped run cancels the jobs still to come too (an `afterany` job would start otherwise)
    const stopped = signal?.aborted === true;
    if (prepareFailed || stopped) await executor.cancel(job).catch(() => {});
    const outcomes = await executor.wait(job, options);
    const why = prepareFailed
      ? `not run: prepare failed (${jobs[0]!.tasks.logDir})`
      : stopped
        ? 'not run: the run was stopped'
        : undefined;
    await recordLost(session, stages[name], outcomes, why);
    if (name === 'prepare') prepareFailed = outcomes.some((o) => !o.ok);
  }
}

/**
 * Runs every unit not done. Inline, a failing unit throws; with the other executors, failures
 * are left in the units' status files for the caller to report.
 */
export async function executeUnits(
  session: RunSession,
  choice: ExecutorChoice,
  signal?: AbortSignal,
  onDone?: (unit: Unit) => void,
): Promise<Unit[]> {
  const pending = pendingUnits(session);
  logDone(session);
  if (choice.name === 'inline') {
    for (const unit of pending) {
      await runUnit(session, unit, 'inline');
      onDone?.(unit);
    }
    return pending;
  }
  const stages = stagesOf(pending);
  if (choice.name === 'local') await runLocal(session, stages, choice, signal);
  else await runSlurm(session, stages, choice, signal);
  for (const unit of pending) if (unitDone(session.runDir, unit)) onDone?.(unit);
  return pending;
}
