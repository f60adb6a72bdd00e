/**
 * `gzh unit <run dir> <unit id…>` (hidden): runs units of a run in this process, as a child
 * process of `--executor local` or a Slurm task does. It reads the run from the run directory's
 * run.json, never opens the registry, and records each unit's state in `units/<id>.json`. A unit
 * already done is skipped; one whose dependencies are not done is recorded as failed, saying which.
 * SIGTERM (from `gzh run` stopping its local children, scancel, a time limit) or SIGINT stops it at
 * the next training batch, checkpointed there (the session's signal goes to the trainer), with exit
 * code 130.
 */
import { resolve } from 'node:path';
import { type Command } from 'commander';
import { initBackend } from '../../backend/select.js';
import { RunSession, readRunFile } from '../../experiments/session.js';
import { unitDone, writeUnitStatus } from '../../experiments/unit-status.js';
import { findUnit, runUnit } from '../../experiments/units/index.js';
import { EXIT, exitCodeFor } from '../exit.js';

/** Where this process runs: a Slurm array task, else a local child. */
function where(): string {
  const job = process.env.SLURM_ARRAY_JOB_ID ?? process.env.SLURM_JOB_ID;
  if (!job) return `local pid ${process.pid}`;
  return `slurm ${job}${process.env.SLURM_ARRAY_TASK_ID !== undefined ? `_${process.env.SLURM_ARRAY_TASK_ID}` : ''}`;
}

async function runUnits(runDir: string, ids: string[], signal: AbortSignal): Promise<void> {
  const { run, experiment } = readRunFile(runDir);
  const session = new RunSession(experiment, runDir, run, { log: (line) => process.stderr.write(`${line}\n`), signal });
  session.backend = (await initBackend(run.backend)).name;
  for (const id of ids) {
    const unit = findUnit(session, id);
    if (unitDone(runDir, unit)) {
      process.stderr.write(`${id}: already done\n`);
      continue;
    }
    const missing = unit.deps.filter((d) => !unitDone(runDir, findUnit(session, d)));
    if (missing.length) {
      const message = `not run: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not done`;
      await writeUnitStatus(runDir, { id, inputsHash: unit.inputsHash, state: 'failed', message, where: where() });
      throw new Error(`${id}: ${message}`);
    }
    process.stderr.write(`${id}: running (${where()})\n`);
    await runUnit(session, unit, where());
    process.stderr.write(`${id}: done\n`);
  }
}

export function register(program: Command): void {
  program
    .command('unit', { hidden: true })
    .description('run units of a run in this process (what executors start; tasks never open the registry)')
    .argument('<run dir>', 'the run directory (holds run.json)')
    .argument('<unit ids...>', 'units to run in order, e.g. train:flat:0 or score:flat report')
    .action(async (runDir: string, ids: string[]) => {
      const controller = new AbortController();
      const stop = (signal: NodeJS.Signals) =>
        controller.abort(signal === 'SIGTERM' ? 'SIGTERM (scancel, a time limit or kill)' : signal);
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      try {
        await runUnits(resolve(runDir), ids, controller.signal);
        process.exitCode = EXIT.ok;
      } catch (error) {
        process.stderr.write(`gzh unit: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = controller.signal.aborted ? EXIT.interrupted : exitCodeFor(error);
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
    });
}
