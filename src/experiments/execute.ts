/**
 * Runs the units of a plan that are not done, with an executor:
 *
 * - inline: every unit in this process, in plan order (the default);
 * - local:  prepare here, the train units as child processes (`--jobs N` at a time, the CPU
 *           threads divided among them), then one child for the score units and the report;
 * - slurm:  prepare here, the train units as one `sbatch --array`, the score units and the report
 *           as one job depending on the array (`--dependency=afterany`).
 *
 * A child process or task runs `gzh unit <run dir> <unit id…>` and records each unit's state in
 * the run directory; this process reads those files (it alone writes the registry).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot, projectHome } from '../util/project.js';
import { LocalExecutor } from '../exec/local.js';
import { SlurmExecutor, type SlurmSettings } from '../exec/slurm.js';
import type { Executor, ExecutorName, TaskArray, TaskOutcome } from '../exec/types.js';
import { InputError } from '../errors.js';
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
}

/** The CLI that child processes and tasks run: this process's own when it is the CLI, else the built one. */
export function defaultUnitCommand(): string[] {
  const script = process.argv[1] ?? '';
  if (/cli[/\\]main\.(js|mjs)$/.test(script)) return [process.execPath, resolve(script)];
  const built = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(built)) throw new InputError(`the executors run units through the built CLI, and ${built} does not exist: run npm run build first`);
  return [process.execPath, built];
}

/**
 * Units not done, in plan order. `prepare` always runs (its catalogue and caches are reused): it
 * checks that the data still gives the galaxies the run started with.
 */
export function pendingUnits(session: RunSession): Unit[] {
  return session.plan.units.filter((u) => u.kind === 'prepare' || !unitDone(session.runDir, u));
}

/** Says which units an earlier process already did. */
function logDone(session: RunSession): void {
  for (const unit of session.plan.units) {
    if (unit.kind === 'prepare' || !unitDone(session.runDir, unit)) continue;
    if (unit.kind === 'score') session.log(`${unit.variant}: already done, reusing ${join(session.runDir, unit.outputs[0])}`);
    if (unit.kind === 'train') session.log(`${unit.variant}: member ${unit.member! + 1} already trained`);
  }
}

function taskArray(session: RunSession, name: string, groups: readonly (readonly Unit[])[], command: readonly string[]): TaskArray {
  return {
    name,
    indices: groups.map((_, i) => i),
    argv: (i) => [...command, 'unit', session.runDir, ...groups[i].map((u) => u.id)],
    cwd: projectHome(),
    logDir: join(session.runDir, 'logs'),
  };
}

async function markQueued(session: RunSession, units: readonly Unit[], where: string): Promise<void> {
  for (const unit of units) await writeUnitStatus(session.runDir, { id: unit.id, inputsHash: unit.inputsHash, state: 'queued', where });
}

/** A task that ended without its units recording an end (killed, cancelled, out of time): say so in their status. */
async function recordLost(session: RunSession, groups: readonly (readonly Unit[])[], outcomes: readonly TaskOutcome[]): Promise<void> {
  for (const outcome of outcomes) {
    if (outcome.ok) continue;
    for (const unit of groups[outcome.index]) {
      const state = readUnitStatus(session.runDir, unit.id)?.state;
      if (state === 'queued' || state === 'running') {
        await writeUnitStatus(session.runDir, { id: unit.id, inputsHash: unit.inputsHash, state: 'failed', message: outcome.message ?? 'the task ended without a status', where: outcome.log });
      }
    }
  }
}

async function runLocal(session: RunSession, train: Unit[], finish: Unit[], choice: ExecutorChoice, signal?: AbortSignal): Promise<void> {
  const executor: Executor = new LocalExecutor(choice.jobs ?? 1);
  const command = choice.unitCommand ?? defaultUnitCommand();
  const groups = train.map((u) => [u]);
  await markQueued(session, [...train, ...finish], 'local');
  if (groups.length) {
    const outcomes = await executor.runArray(taskArray(session, 'train', groups, command), signal ? { signal } : {});
    await recordLost(session, groups, outcomes);
    if (outcomes.some((o) => !o.ok)) return;
  }
  if (finish.length && !signal?.aborted) {
    const outcomes = await executor.runArray(taskArray(session, 'score', [finish], command), signal ? { signal } : {});
    await recordLost(session, [finish], outcomes);
  }
}

async function runSlurm(session: RunSession, train: Unit[], finish: Unit[], choice: ExecutorChoice, signal?: AbortSignal): Promise<void> {
  const executor = new SlurmExecutor({ ...choice.slurm, scriptDir: session.runDir, ...(choice.pollSeconds ? { pollSeconds: choice.pollSeconds } : {}) });
  const command = choice.unitCommand ?? defaultUnitCommand();
  const groups = train.map((u) => [u]);
  const trainJob = groups.length ? await executor.submit(taskArray(session, 'train', groups, command)) : undefined;
  const finishJob = finish.length ? await executor.submit(taskArray(session, 'score', [finish], command), trainJob ? [trainJob.id] : []) : undefined;
  await markQueued(session, train, `slurm ${trainJob?.id}`);
  await markQueued(session, finish, `slurm ${finishJob?.id}`);
  const trainText = trainJob ? `train array ${trainJob.id} (${groups.length} tasks, ${trainJob.script})` : '';
  const finishText = finishJob ? `${trainJob ? ', ' : ''}score and report job ${finishJob.id}` : '';
  session.log(`slurm: ${trainText}${finishText}`);
  const options = signal ? { signal } : {};
  if (trainJob) await recordLost(session, groups, await executor.wait(trainJob, options));
  if (finishJob) await recordLost(session, [finish], await executor.wait(finishJob, options));
}

/**
 * Runs every unit not done. Inline, a failing unit throws; with the other executors, failures
 * are left in the units' status files for the caller to report.
 */
export async function executeUnits(session: RunSession, choice: ExecutorChoice, signal?: AbortSignal, onDone?: (unit: Unit) => void): Promise<Unit[]> {
  const pending = pendingUnits(session);
  logDone(session);
  const inline = choice.name === 'inline' ? pending : pending.filter((u) => u.kind === 'prepare');
  for (const unit of inline) {
    await runUnit(session, unit, 'inline');
    onDone?.(unit);
  }
  if (choice.name === 'inline') return pending;
  const train = pending.filter((u) => u.kind === 'train');
  const finish = pending.filter((u) => u.kind === 'score' || u.kind === 'report');
  if (choice.name === 'local') await runLocal(session, train, finish, choice, signal);
  else await runSlurm(session, train, finish, choice, signal);
  for (const unit of pending) if (unit.kind !== 'prepare' && unitDone(session.runDir, unit)) onDone?.(unit);
  return pending;
}
