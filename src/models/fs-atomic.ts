import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/**
 * Writes a directory atomically: `write` fills a fresh temporary sibling directory, which then
 * replaces `dir` by rename. A previous `dir` is first renamed to `<dir>.old` and removed last, so
 * a crash at any point leaves either the old or the new directory readable (`resolveAtomicDir`).
 */
export async function writeDirAtomic(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}-${counter++}`);
  await mkdir(tmp, { recursive: true });
  try {
    await write(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  const old = `${dir}.old`;
  if (existsSync(dir)) {
    await rm(old, { recursive: true, force: true });
    await rename(dir, old);
  }
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/**
 * The readable version of an atomically written directory: `dir`, or `<dir>.old` when a crash
 * happened between the two renames; null when neither exists.
 */
export function resolveAtomicDir(dir: string): string | null {
  if (existsSync(dir)) return dir;
  const old = `${dir}.old`;
  return existsSync(old) ? old : null;
}

/** Removes temporary directories left by writers that were killed mid-write. */
export async function cleanStaleTemps(dir: string): Promise<void> {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const prefix = `.${basename(dir)}.tmp-`;
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(prefix)) await rm(join(parent, entry), { recursive: true, force: true });
  }
}
