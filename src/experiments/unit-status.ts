/**
 * Each unit of a run records its state in `<run dir>/units/<unit id>.json`, written atomically by
 * whichever process runs it (a child process, a Slurm task): tasks never open the registry. The
 * submitting process reads these files to show progress and to fill the registry.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { Unit } from './plan.js';

export const UNIT_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type UnitState = (typeof UNIT_STATES)[number];

export interface UnitStatus {
  readonly id: string;
  readonly state: UnitState;
  readonly inputsHash: string;
  readonly updatedAt: string;
  readonly host?: string;
  readonly pid?: number;
  /** Seconds the unit's body ran (done units). */
  readonly seconds?: number;
  /** Why it failed. */
  readonly message?: string;
  /** Phase name → seconds, as recorded in the registry (`train:flat`, `evaluate:flat`, …). */
  readonly phases?: Readonly<Record<string, number>>;
  /** Files worth listing in the registry (name → path). */
  readonly artifacts?: Readonly<Record<string, string>>;
  /** Numbers other units read back (a train unit's `trainSeconds` and `parameters`). */
  readonly values?: Readonly<Record<string, number>>;
  /** Where the unit ran: inline, local, slurm (with the job id). */
  readonly where?: string;
}

export const unitStatusPath = (runDir: string, id: string): string => join(runDir, 'units', `${id}.json`);

export function readUnitStatus(runDir: string, id: string): UnitStatus | undefined {
  try {
    return JSON.parse(readFileSync(unitStatusPath(runDir, id), 'utf8')) as UnitStatus;
  } catch {
    return undefined;
  }
}

/** Every unit status of a run directory, by id. */
export function readUnitStatuses(runDir: string): UnitStatus[] {
  const dir = join(runDir, 'units');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readUnitStatus(runDir, f.slice(0, -'.json'.length)))
    .filter((s): s is UnitStatus => s !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id));
}

export async function writeUnitStatus(
  runDir: string,
  status: Omit<UnitStatus, 'updatedAt' | 'host' | 'pid'>,
): Promise<void> {
  const full: UnitStatus = { ...status, updatedAt: new Date().toISOString(), host: hostname(), pid: process.pid };
  await writeFileAtomic(unitStatusPath(runDir, status.id), `${JSON.stringify(full, null, 2)}\n`);
}

/**
 * Done: recorded done for the same inputs, and every output present. The prepare unit's outputs
 * also include the shared catalogue and image caches it recorded (outside the run directory, and
 * evicted or rebuilt by other runs): without them, the units after it would each rebuild them.
 */
export function unitDone(runDir: string, unit: Unit): boolean {
  const status = readUnitStatus(runDir, unit.id);
  if (
    status?.state !== 'done' ||
    status.inputsHash !== unit.inputsHash ||
    !unit.outputs.every((o) => existsSync(join(runDir, o)))
  )
    return false;
  return unit.kind !== 'prepare' || Object.values(status.artifacts ?? {}).every((path) => existsSync(path));
}
