/**
 * Runs one unit of a run in this process: records it running, runs its body (timing its phases),
 * then records it done with its phases, values and artifacts, or failed with the reason, in its
 * status file. Whichever process, child or Slurm task runs a unit, this is the code path.
 */
import { GzhError } from '../../errors.js';
import type { Unit, UnitKind } from '../plan.js';
import type { RunSession } from '../session.js';
import { writeUnitStatus } from '../unit-status.js';
import { prepare } from './prepare.js';
import { report } from './report.js';
import { scoreVariant } from './score.js';
import { trainMember } from './train.js';
import type { PhaseTimer, UnitBody, UnitResult } from './types.js';

const BODIES: Record<UnitKind, UnitBody> = { prepare, train: trainMember, score: scoreVariant, report };

export function findUnit(session: RunSession, id: string): Unit {
  const unit = session.plan.units.find((u) => u.id === id);
  if (!unit)
    throw new GzhError(
      `run ${session.run.runId} has no unit "${id}"; its units: ${session.plan.units.map((u) => u.id).join(', ')}`,
    );
  return unit;
}

/** One line for a unit's failure: the message, without the stack. */
export function failureMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runUnit(session: RunSession, unit: Unit, where = 'inline'): Promise<UnitResult> {
  const phases: Record<string, number> = {};
  const phase: PhaseTimer = async (name, fn) => {
    session.checkSignal();
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      session.ctx.progress.stop();
      phases[name] = Math.round(((phases[name] ?? 0) + (performance.now() - t0) / 1000) * 1000) / 1000;
    }
  };
  const base = { id: unit.id, inputsHash: unit.inputsHash, where };
  await writeUnitStatus(session.runDir, { ...base, state: 'running' });
  const t0 = performance.now();
  try {
    session.checkSignal();
    const result = await BODIES[unit.kind](session, unit, phase);
    const seconds = Math.round((performance.now() - t0) / 10) / 100;
    await writeUnitStatus(session.runDir, { ...base, state: 'done', seconds, phases, ...result });
    return result;
  } catch (error) {
    await writeUnitStatus(session.runDir, { ...base, state: 'failed', phases, message: failureMessage(error) });
    throw error;
  }
}
