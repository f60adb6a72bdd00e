/**
 * Runs the structural JPEG check of jpeg-check.ts on batches of files, on worker threads so that
 * ingest's CSV parsing and SQLite inserts go on meanwhile. The check is a handful of synchronous
 * system calls a file, so one worker beside the main thread is right for two cores.
 *
 * A batch lives in shared memory: a counter of the next file to take and one status byte a file
 * (ok, or something to report). The worker takes files one at a time; when the caller needs a
 * batch's result, this thread takes whatever files are left and checks them itself, and checks
 * again every file the worker did not find fine, to report its problem (or throw its error)
 * exactly as a check on this thread does. So the caller never waits for a worker: a slow one
 * (a busy machine) leaves more files to this thread, and one that died (an uncaught error,
 * terminate(), an entry file that cannot be loaded) leaves all of them; nothing can be lost or
 * hang. From TypeScript sources (tests), where worker threads cannot load their entry, every file
 * is checked on this thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { jpegProblem } from './jpeg-check.js';
import type { CheckRequest } from './jpeg-check-worker.js';

/** Index of the next file to take in a batch's control words, and of the number of files checked. */
export const NEXT = 0;
export const DONE = 1;
/** A file's status byte: not checked yet, fine, or something to report (a problem, or a check that threw). */
export const FINE = 1;
export const REPORT = 2;

/** The problems of a batch of files, in order; fewer than the files when a check threw. */
export interface CheckedBatch {
  /** One per file checked (null: a plausible JPEG; see `jpegProblem`), in the batch's order. */
  readonly problems: Array<string | null>;
  /** Present when a check threw: the error of the file at index `problems.length`. */
  readonly error?: unknown;
}

/** A batch handed to a {@link JpegChecker}. */
export interface PendingCheck {
  /** Whether workers have checked every file already. */
  readonly ready: boolean;
  /** The batch's problems; checks on this thread whatever no worker has checked yet. */
  result(): CheckedBatch;
}

/** Checks batches of JPEG files; see the module comment. */
export interface JpegChecker {
  /** Worker threads it started (0: it checks on this thread). */
  readonly workers: number;
  /** The live worker threads (fault tests terminate them). */
  readonly threads: readonly Worker[];
  /** Why a worker stopped, when one did; null while none did. */
  readonly fallback: string | null;
  /** Files this thread checked because no worker had taken them (re-checks for messages aside). */
  readonly checkedHere: number;
  /** Hands `paths` to a worker and returns at once. */
  check(paths: readonly string[]): PendingCheck;
  /** Stops the workers (pending batches are then checked on this thread). */
  close(): Promise<void>;
}

/** Default number of check workers: one per CPU beside the main thread, at most two. */
export function defaultCheckWorkers(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 1));
}

const WORKER_ENTRY = fileURLToPath(new URL('./jpeg-check-worker.js', import.meta.url));

/** Worker threads run compiled JavaScript only, and need their entry beside this module. */
function workersSupported(): boolean {
  return !import.meta.url.endsWith('.ts') && existsSync(WORKER_ENTRY);
}

/** A checker with `workers` threads, or one that checks on this thread (workers 0, or no compiled entry). */
export function createJpegChecker(workers = defaultCheckWorkers()): JpegChecker {
  return new SharedChecker(workers > 0 && workersSupported() ? workers : 0);
}

/** What checking one file on this thread gave. */
type Outcome = { readonly problem: string | null } | { readonly error: unknown };

function checkHere(path: string): Outcome {
  try {
    return { problem: jpegProblem(path) };
  } catch (error) {
    return { error };
  }
}

/**
 * A batch in shared memory (see the module comment): a worker sent `shared` takes files from it
 * until none is left, as does `result()` on this thread.
 */
export class SharedBatch implements PendingCheck {
  /** Two Int32 control words ({@link NEXT}, {@link DONE}) and a status byte a file. */
  readonly shared: SharedArrayBuffer;
  private readonly control: Int32Array;
  private readonly status: Uint8Array;

  /**
   * @param paths - the files to check.
   * @param tally - counts the files `result()` checks because no worker had taken them.
   */
  constructor(
    readonly paths: readonly string[],
    private readonly tally: { checkedHere: number } = { checkedHere: 0 },
  ) {
    this.shared = new SharedArrayBuffer(8 + paths.length);
    this.control = new Int32Array(this.shared, 0, 2);
    this.status = new Uint8Array(this.shared, 8);
  }

  get ready(): boolean {
    return Atomics.load(this.control, DONE) >= this.paths.length;
  }

  result(): CheckedBatch {
    const { paths, control, status } = this;
    const here = new Map<number, Outcome>();
    for (let i = Atomics.add(control, NEXT, 1); i < paths.length; i = Atomics.add(control, NEXT, 1)) {
      const outcome = checkHere(paths[i]);
      here.set(i, outcome);
      this.tally.checkedHere++;
      Atomics.store(status, i, 'problem' in outcome && outcome.problem === null ? FINE : REPORT);
      Atomics.add(control, DONE, 1);
    }
    const problems: Array<string | null> = [];
    for (let i = 0; i < paths.length; i++) {
      if (Atomics.load(status, i) === FINE) {
        problems.push(null);
        continue;
      }
      // a problem to report, or a file the worker has not finished: the message comes from here
      const outcome = here.get(i) ?? checkHere(paths[i]);
      if ('error' in outcome) return { problems, error: outcome.error };
      problems.push(outcome.problem);
    }
    return { problems };
  }
}

class SharedChecker implements JpegChecker {
  private live: Worker[] = [];
  private turn = 0;
  fallback: string | null = null;
  checkedHere = 0;

  constructor(readonly workers: number) {
    for (let w = 0; w < workers; w++) this.spawn();
  }

  get threads(): readonly Worker[] {
    return this.live;
  }

  private spawn(): void {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_ENTRY);
    } catch (error) {
      this.fallback = `a JPEG check worker could not start (${(error as Error).message})`;
      return;
    }
    let lastError: Error | undefined;
    worker.on('error', (error) => (lastError = error));
    worker.on('exit', (code) => {
      if (!this.live.includes(worker)) return; // closed
      this.live = this.live.filter((w) => w !== worker);
      this.fallback = `a JPEG check worker stopped (${lastError?.message ?? `exit code ${code}`})`;
    });
    this.live.push(worker);
  }

  check(paths: readonly string[]): PendingCheck {
    const batch = new SharedBatch(paths, this);
    if (this.live.length > 0 && paths.length > 0) {
      const worker = this.live[this.turn++ % this.live.length];
      worker.postMessage({ paths: paths.join('\0'), shared: batch.shared } satisfies CheckRequest);
    }
    return batch;
  }

  async close(): Promise<void> {
    const workers = this.live;
    this.live = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
