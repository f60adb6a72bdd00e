/**
 * `split.json` in a run folder: the GalaxyIDs of each split the run trained, validated and tested
 * on, so that `gzh evaluate --split test` re-scores exactly those galaxies later, without the
 * catalogue cache (which is keyed by the label file's size and time, and rebuilt when they change).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SplitName } from '../data/batch.js';
import { SPLIT_NAMES } from '../data/split.js';
import { writeFileAtomicSync } from '../util/atomic.js';

export const SPLIT_FILE = 'split.json';
export const SPLIT_FORMAT = 'gzh-split';

export interface SplitRecord {
  readonly format: typeof SPLIT_FORMAT;
  readonly formatVersion: 1;
  /** The data directory the run read (labels and images). */
  readonly data?: string;
  /** The catalogue the split was read from, when the run was made. */
  readonly catalogue: string;
  readonly seed: number;
  readonly ids: Readonly<Record<SplitName, readonly string[]>>;
}

/** Writes `<runDir>/split.json` (atomically). */
export function writeSplitFile(runDir: string, split: Omit<SplitRecord, 'format' | 'formatVersion'>): string {
  const file = join(runDir, SPLIT_FILE);
  const record: SplitRecord = { format: SPLIT_FORMAT, formatVersion: 1, ...split };
  writeFileAtomicSync(file, `${JSON.stringify(record)}\n`);
  return file;
}

/** Reads a split file, naming it in every error. */
export function readSplitFile(file: string): SplitRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `${file}: cannot read the split: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  const r = parsed as Partial<SplitRecord> | null;
  if (!r || r.format !== SPLIT_FORMAT || r.formatVersion !== 1 || typeof r.ids !== 'object' || r.ids === null) {
    throw new Error(`${file}: not a ${SPLIT_FORMAT} file (version 1)`);
  }
  for (const name of SPLIT_NAMES) {
    const ids = (r.ids as Record<string, unknown>)[name];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
      throw new Error(`${file}: ids.${name} must be a list of GalaxyIDs`);
  }
  return r as SplitRecord;
}

/** Whether `ids` are the galaxies of `record`, split by split and in order. */
export function sameSplit(record: SplitRecord, ids: Readonly<Record<SplitName, readonly string[]>>): boolean {
  return SPLIT_NAMES.every(
    (s) => record.ids[s].length === ids[s].length && record.ids[s].every((id, i) => id === ids[s][i]),
  );
}

/**
 * The split file of the run a model or ensemble belongs to: the nearest `split.json` in `start`
 * (a directory, or a file's directory) or up to `levels` folders above it; null when there is none.
 */
export function findSplitFile(start: string, levels = 4): string | null {
  let dir = resolve(start);
  if (existsSync(dir) && statSync(dir).isFile()) dir = dirname(dir);
  for (let up = 0; up <= levels; up++) {
    const file = join(dir, SPLIT_FILE);
    if (existsSync(file)) return file;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}
