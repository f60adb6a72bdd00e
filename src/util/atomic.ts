/**
 * Atomic replacement of files and directories: the one helper every writer that replaces an
 * artifact goes through. A reader sees either the complete old artifact or the complete new one,
 * never a partial write, whatever point a process is killed at.
 *
 * Temporary names are hidden siblings of the target, `.<name>.tmp-<pid>-<time>-<n>`, so they are
 * on the same file system (rename is atomic) and `cleanStaleTemps` can remove what a killed
 * writer left behind.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A fresh hidden temporary sibling path of `target`. */
export function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now()}-${counter++}`);
}

/** A fresh hidden name under which a writer parks the directory it is replacing. */
function parkedSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.old-${process.pid}-${Date.now()}-${counter++}`);
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

/** Synchronous `writeFileAtomic`, for writers that cannot await (small JSON records). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  replaceFileSync(path, (tmp) => {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * Replaces `path` with a file that `fill` creates at the temporary path it is given (e.g. a
 * SQLite database written by a library): fsync, then rename over `path`. When `fill` throws, the
 * temporary file is removed and `path` is left as it was.
 */
export function replaceFileSync(path: string, fill: (tmp: string) => void): void {
  const tmp = tempSibling(path);
  try {
    fill(tmp);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  installFileSync(tmp, path);
}

/**
 * Moves a finished temporary file (named by `tempSibling(path)`) over `path`: fsync, rename, then
 * fsync of the folder. When that fails, the temporary file is removed and `path` is left as it was.
 * For writers that fill their temporary file over time (e.g. a SQLite database written row by row).
 */
export function installFileSync(tmp: string, path: string): void {
  try {
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  fsyncDir(dirname(path));
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
 * Writes each line of `lines` (with a newline after it) to `path` atomically, in 64 kB writes:
 * the file appears complete when the iteration ends, and a failure anywhere leaves the previous
 * file (or none) there.
 */
export async function writeLinesAtomic(path: string, lines: AsyncIterable<string> | Iterable<string>): Promise<void> {
  const out = await AtomicFileWriter.open(path);
  try {
    let buffer = '';
    for await (const line of lines) {
      buffer += `${line}\n`;
      if (buffer.length >= 1 << 16) {
        await out.write(buffer);
        buffer = '';
      }
    }
    await out.write(buffer);
    await out.commit();
  } catch (error) {
    await out.abort();
    throw error;
  }
}

/**
 * Writes a directory atomically: `write` fills a fresh temporary sibling directory, which then
 * replaces `dir` by rename. A previous `dir` is first parked under a hidden `.<name>.old-…` name
 * and removed last, so a crash at any point leaves either the old or the new directory readable
 * (`resolveAtomicDir`). Concurrent writers of one directory all succeed: each retries when another
 * got in between, and `keepExisting` lets a writer adopt an equivalent directory written meanwhile.
 */
export async function writeDirAtomic(
  dir: string,
  write: (tmp: string) => Promise<void>,
  options: WriteDirOptions = {},
): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = tempSibling(dir);
  await mkdir(tmp, { recursive: true });
  try {
    await write(tmp);
    await installDir(tmp, dir, options.keepExisting);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

export interface WriteDirOptions {
  /**
   * Called when another process put a directory at the target while this one was writing: true
   * keeps that one (this one's copy is discarded), false replaces it. Default: replace.
   */
  readonly keepExisting?: (existing: string) => boolean | Promise<boolean>;
}

/** Moves the filled temporary directory to `dir`; retries when a concurrent writer gets in between. */
async function installDir(tmp: string, dir: string, keepExisting?: WriteDirOptions['keepExisting']): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (existsSync(dir) && (await keepExisting?.(dir))) {
      await rm(tmp, { recursive: true, force: true });
      return;
    }
    // Each writer parks the previous directory under its own name, so concurrent writers never
    // remove each other's; readers find it through resolveAtomicDir meanwhile.
    const old = parkedSibling(dir);
    let parked = false;
    try {
      if (existsSync(dir)) {
        await rename(dir, old);
        parked = true;
      }
      await rename(tmp, dir);
      fsyncDir(dirname(dir));
      if (parked) await rm(old, { recursive: true, force: true });
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (parked && !existsSync(dir)) await rename(old, dir).catch(() => undefined);
      else if (parked) await rm(old, { recursive: true, force: true });
      const raced = code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT' || code === 'EPERM';
      if (!raced || attempt >= 20) throw error;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }
}

/**
 * The readable version of an atomically written directory: `dir`, or the parked previous version
 * when a writer was killed between its two renames; null when there is neither.
 */
export function resolveAtomicDir(dir: string): string | null {
  if (existsSync(dir)) return dir;
  const legacy = `${dir}.old`;
  if (existsSync(legacy)) return legacy;
  const parked = parkedVersions(dir);
  return parked.length > 0 ? parked[parked.length - 1].path : null;
}

/** Parked previous versions of `dir`, oldest first. */
function parkedVersions(dir: string): Array<{ path: string; mtimeMs: number }> {
  const parent = dirname(dir);
  if (!existsSync(parent)) return [];
  const prefix = `.${basename(dir)}.old-`;
  return readdirSync(parent)
    .filter((e) => e.startsWith(prefix))
    .map((e) => {
      const path = join(parent, e);
      try {
        return { path, mtimeMs: statSync(path).mtimeMs };
      } catch {
        return null;
      }
    })
    .filter((e): e is { path: string; mtimeMs: number } => e !== null)
    .sort((a, b) => a.mtimeMs - b.mtimeMs);
}

/**
 * Removes temporary files and directories that writers of `target` left when they were killed
 * mid-write: those whose process is gone (or with no process id in their name) and older than
 * `minAgeMs`. A writer still running, in this process or another, keeps its own. A parked previous version is removed
 * only once `target` exists
 * (until then it is the readable copy).
 */
export async function cleanStaleTemps(target: string, minAgeMs = 0): Promise<void> {
  const parent = dirname(target);
  if (!existsSync(parent)) return;
  const temp = `.${basename(target)}.tmp-`;
  const parked = `.${basename(target)}.old-`;
  const targetExists = existsSync(target);
  const now = Date.now();
  for (const entry of await readdir(parent)) {
    if (!entry.startsWith(temp) && !(targetExists && entry.startsWith(parked))) continue;
    if (writerAlive(entry.slice(entry.startsWith(temp) ? temp.length : parked.length))) continue;
    const path = join(parent, entry);
    const info = await stat(path).catch(() => null);
    if (info && now - info.mtimeMs >= minAgeMs) await rm(path, { recursive: true, force: true });
  }
}

/** Whether the process that made a temporary (`<pid>-<time>-<n>` suffix) still runs on this machine. */
function writerAlive(suffix: string): boolean {
  const pid = Number.parseInt(suffix, 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(pid);
}

/** Whether `pid` has exited but was not reaped yet (Linux; e.g. a killed child of a killed parent). */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
