/**
 * Runs the structural JPEG check of jpeg-check.ts on batches of files, on worker threads so that
 * ingest's CSV parsing and SQLite inserts go on meanwhile. The check is a handful of synchronous
 * system calls a file, so one worker beside the main thread is right for two cores.
 *
 * Every batch settles, with exactly what checking it on this thread gives: a worker that dies
 * (an uncaught error, terminate(), an entry file that cannot be loaded) has the batches it held
 * checked on this thread, and the pool goes on without it (on this thread once none is left). A
 * check that throws in a worker is repeated here, so the caller gets the same error. From
 * TypeScript sources (tests), where worker threads cannot load their entry, the checks run on this
 * thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { jpegProblem } from './jpeg-check.js';
import type { CheckRequest, CheckResult } from './jpeg-check-worker.js';

/** The problems of a batch of files, in order; fewer than the files when a check threw. */
export interface CheckedBatch {
  /** One per file checked (null: a plausible JPEG; see `jpegProblem`), in the batch's order. */
  readonly problems: Array<string | null>;
  /**
   * Present when a check threw: the error of the file at index `problems.length` (an I/O error
   * other than a failed open), or that the pool was closed first.
   */
  readonly error?: unknown;
}

/** Checks batches of JPEG files; see the module comment. */
export interface JpegChecker {
  /** Worker threads it started (0: it checks on this thread). */
  readonly workers: number;
  /** The live worker threads (fault tests terminate them). */
  readonly threads: readonly Worker[];
  /** Why checks moved to this thread after workers died; null while none did. */
  readonly fallback: string | null;
  /** Checks `paths`; never rejects (see {@link CheckedBatch}). */
  check(paths: readonly string[]): Promise<CheckedBatch>;
  /** Stops the workers; batches not answered yet settle with an error. */
  close(): Promise<void>;
}

/** Default number of check workers: one per CPU beside the main thread, at most two. */
export function defaultCheckWorkers(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 1));
}

const CLOSED = 'the JPEG check pool was closed before this batch was checked';
const WORKER_ENTRY = fileURLToPath(new URL('./jpeg-check-worker.js', import.meta.url));

/** Worker threads run compiled JavaScript only, and need their entry beside this module. */
function workersSupported(): boolean {
  return !import.meta.url.endsWith('.ts') && existsSync(WORKER_ENTRY);
}

/** A checker with `workers` threads, or one that checks on this thread (workers 0, or no compiled entry). */
export function createJpegChecker(workers = defaultCheckWorkers()): JpegChecker {
  if (workers <= 0 || !workersSupported()) return new InlineChecker();
  return new WorkerChecker(workers);
}

/** Checks `paths` on this thread from where `done` (the problems of the paths before) ends. */
function checkHere(paths: readonly string[], done: Array<string | null> = []): CheckedBatch {
  try {
    for (let i = done.length; i < paths.length; i++) done.push(jpegProblem(paths[i]));
    return { problems: done };
  } catch (error) {
    return { problems: done, error };
  }
}

class InlineChecker implements JpegChecker {
  readonly workers = 0;
  readonly threads: readonly Worker[] = [];
  readonly fallback = null;

  check(paths: readonly string[]): Promise<CheckedBatch> {
    return Promise.resolve(checkHere(paths));
  }

  async close(): Promise<void> {}
}

interface Batch {
  readonly paths: readonly string[];
  readonly resolve: (checked: CheckedBatch) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Batches sent to this worker and not answered yet, by sequence number. */
  readonly held: Map<number, Batch>;
  lastError?: Error;
}

class WorkerChecker implements JpegChecker {
  private slots: Slot[] = [];
  private seq = 0;
  private closing = false;
  fallback: string | null = null;

  constructor(readonly workers: number) {
    for (let w = 0; w < workers; w++) this.spawn();
  }

  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  private spawn(): void {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_ENTRY);
    } catch (error) {
      this.fallback = `a JPEG check worker could not start (${(error as Error).message})`;
      return;
    }
    const slot: Slot = { worker, held: new Map() };
    worker.on('message', (result: CheckResult) => this.answered(slot, result));
    worker.on('error', (error) => (slot.lastError = error));
    worker.on('exit', (code) => this.died(slot, code));
    this.slots.push(slot);
  }

  private answered(slot: Slot, { seq, problems, stoppedAt }: CheckResult): void {
    const batch = slot.held.get(seq);
    if (!batch) return;
    slot.held.delete(seq);
    this.finishHere(batch, problems.slice(0, stoppedAt));
  }

  /** Completes a batch on this thread from where `done` ends. */
  private finishHere(batch: Batch, done: Array<string | null>): void {
    batch.resolve(checkHere(batch.paths, done));
  }

  /** A worker stopped: check what it held here and go on without it. */
  private died(slot: Slot, code: number): void {
    if (this.closing) return;
    this.slots = this.slots.filter((s) => s !== slot);
    this.fallback = `a JPEG check worker stopped (${slot.lastError?.message ?? `exit code ${code}`})`;
    const orphans = [...slot.held.entries()].sort(([a], [b]) => a - b);
    slot.held.clear();
    for (const [, batch] of orphans) this.finishHere(batch, []);
  }

  check(paths: readonly string[]): Promise<CheckedBatch> {
    if (this.closing) return Promise.resolve({ problems: [], error: new Error(CLOSED) });
    if (this.slots.length === 0) return Promise.resolve(checkHere(paths));
    let slot = this.slots[0];
    for (const s of this.slots) if (s.held.size < slot.held.size) slot = s;
    const seq = this.seq++;
    const answer = new Promise<CheckedBatch>((resolve) => slot.held.set(seq, { paths, resolve }));
    slot.worker.postMessage({ seq, paths } satisfies CheckRequest);
    return answer;
  }

  async close(): Promise<void> {
    this.closing = true;
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const slot of slots) {
      for (const batch of slot.held.values()) batch.resolve({ problems: [], error: new Error(CLOSED) });
      slot.held.clear();
    }
  }
}
