/**
 * Atomic replacement of files and directories: the one helper every writer that replaces an
 * artifact goes through. A reader sees either the complete old artifact or the complete new one,
 * never a partial write, whatever point a process is killed at.
 *
 * Temporary names are hidden siblings of the target, `.<name>.tmp-<pid>-<time>-<n>`, so they are
 * on the same file system (rename is atomic) and `cleanStaleTemps` can remove what a killed
 * writer left behind.
 */
import { closeSync, existsSync, fsyncSync, openSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A fresh hidden temporary sibling path of `target`. */
export function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now()}-${counter++}`);
}

/** Flushes a directory entry (after a rename into it) to disk; a no-op where directories cannot be opened. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `data` to `path` atomically: a temporary sibling, fsync, then rename over `path`.
 * @public
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const writer = await AtomicFileWriter.open(path);
  try {
    await writer.write(data);
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * A file written piece by piece that appears at its path only when `commit` is called: until
 * then it is a hidden temporary sibling, removed by `abort` (or by `cleanStaleTemps` after a
 * crash). An interrupted writer therefore never leaves a partial file at the target path, and a
 * previous file there stays intact.
 */
export class AtomicFileWriter {
  private done = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the temporary file (and the target's folder); fails at once on a bad path. */
  static async open(path: string): Promise<AtomicFileWriter> {
    await mkdir(dirname(path), { recursive: true });
    const temp = tempSibling(path);
    const handle = await open(temp, 'wx');
    return new AtomicFileWriter(path, temp, handle);
  }

  /** Appends `data`; every byte is written or the call rejects (ENOSPC, EIO, …). */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.done) throw new Error(`${this.path}: write after the file was committed or aborted`);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
  }

  /** Flushes to disk and renames the temporary file over the target. */
  async commit(): Promise<void> {
    if (this.done) throw new Error(`${this.path}: already committed or aborted`);
    this.done = true;
    try {
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
    await rename(this.tempPath, this.path);
    fsyncDir(dirname(this.path));
  }

  /** Removes the temporary file; the target is left as it was. Safe to call more than once. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.tempPath, { force: true });
  }
}

/**
 * Writes a directory atomically: `write` fills a fresh temporary sibling directory, which then
 * replaces `dir` by rename. A previous `dir` is first renamed to `<dir>.old` and removed last, so
 * a crash at any point leaves either the old or the new directory readable (`resolveAtomicDir`).
 */
export async function writeDirAtomic(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = tempSibling(dir);
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
  fsyncDir(dirname(dir));
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

/**
 * Removes temporary files and directories that writers of `target` left when they were killed
 * mid-write. Only temporaries older than `minAgeMs` are removed, so a writer still running in
 * another process keeps its own.
 */
export async function cleanStaleTemps(target: string, minAgeMs = 0): Promise<void> {
  const parent = dirname(target);
  if (!existsSync(parent)) return;
  const prefix = `.${basename(target)}.tmp-`;
  const now = Date.now();
  for (const entry of await readdir(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const path = join(parent, entry);
    const info = await stat(path).catch(() => null);
    if (info && now - info.mtimeMs >= minAgeMs) await rm(path, { recursive: true, force: true });
  }
}
