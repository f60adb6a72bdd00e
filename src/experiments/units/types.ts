import type { Unit } from '../plan.js';
import type { RunSession } from '../session.js';

/** Times `fn` as the phase `name` of the unit (recorded in its status, then in the registry). */
export type PhaseTimer = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** What a unit's body hands back besides its output files. */
export interface UnitResult {
  readonly artifacts?: Readonly<Record<string, string>>;
  /** Numbers other units read back (a train unit's `trainSeconds` and `parameters`). */
  readonly values?: Readonly<Record<string, number>>;
}

export type UnitBody = (session: RunSession, unit: Unit, phase: PhaseTimer) => Promise<UnitResult>;
