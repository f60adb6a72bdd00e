import { existsSync } from 'node:fs';
import { dataPaths, resolveDataDir } from '../../src/data/data-dir.js';

/**
 * Real-data tests run only where the shared Galaxy Zoo data is present; elsewhere they are
 * skipped with the path that was looked for, so a skip is never silent.
 */
export function realDataAvailable(path: string): { available: boolean; reason: string } {
  const available = existsSync(path);
  return {
    available,
    reason: available ? '' : `Galaxy Zoo data not found at ${path} (set GZH_DATA_DIR)`,
  };
}

export const DATA_DIR = resolveDataDir();
export const DATA = dataPaths(DATA_DIR);
