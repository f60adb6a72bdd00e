import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  ImageError,
  type ImageErrorKind,
  type Preprocessed,
  type ResolvedParams,
  configureSharp,
  preprocessFile,
} from './preprocess.js';
import { nativeJpeg } from './native-jpeg.js';
import type { WorkerRequest, WorkerResult } from './worker.js';

/** Preprocesses files with a pool of worker threads (or in this thread when workers is 0). */
export interface Preprocessor {
  readonly workers: number;
  /** The live worker threads, when there are any (for monitoring and fault tests). */
  readonly threads?: readonly Worker[];
  process(path: string): Promise<Preprocessed>;
  close(): Promise<void>;
}

/** Default worker count: one per core. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Worker threads run compiled JavaScript only; from TypeScript sources (tests) the work stays in
 * this thread, where sharp still decodes on libuv's thread pool.
 */
export function workersSupported(): boolean {
  return !import.meta.url.endsWith('.ts');
}

export function createPreprocessor(params: ResolvedParams, workers = defaultWorkers()): Preprocessor {
  if (workers <= 0 || !workersSupported()) {
    if (params.decoder === 'sharp') configureSharp(1);
    return { workers: 0, process: (path) => preprocessFile(path, params), close: async () => {} };
  }
  // Before any worker decodes: see NativeJpeg.primeAttributeNames.
  if (params.decoder === 'tensorflow') nativeJpeg()?.primeAttributeNames();
  return new WorkerPool(params, workers);
}

interface Task {
  readonly seq: number;
  readonly path: string;
  readonly resolve: (r: Preprocessed) => void;
  readonly reject: (e: Error) => void;
  /** Times a worker died while it held this task. */
  crashes: number;
}

interface Slot {
  worker: Worker;
  /** Tasks sent to this worker and not answered yet. */
  readonly held: Map<number, Task>;
  lastError?: Error;
}

/** Batches of requests a worker takes at once, and how many batches it may hold. */
const MAX_BATCH = 16;
/** A task whose worker died this many times fails (the file itself likely kills the decoder). */
const MAX_CRASHES = 2;

/**
 * Worker threads fed in batches (see worker.ts): a batch goes to the worker with the fewest
 * outstanding images, at most MAX_BATCH at a time, up to two batches in flight. A worker that
 * dies (an uncaught error, a crash in native code, terminate()) is replaced at once; the tasks it
 * held are sent again, and fail with an ImageError naming the file when that file killed a worker
 * MAX_CRASHES times. Every task therefore settles: none waits on a dead worker.
 */
class WorkerPool implements Preprocessor {
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private seq = 0;
  private scheduled = false;
  private closing = false;
  private readonly url = fileURLToPath(new URL('./worker.js', import.meta.url));

  constructor(
    private readonly params: ResolvedParams,
    readonly workers: number,
  ) {
    this.slots = Array.from({ length: workers }, () => this.spawn());
  }

  /** The live worker threads (a crashed one is replaced by a new one). */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.url, { workerData: { params: this.params } }), held: new Map() };
    this.attach(slot);
    return slot;
  }

  private attach(slot: Slot): void {
    const worker = slot.worker;
    worker.on('message', (results: WorkerResult[]) => {
      for (const m of results) {
        const task = slot.held.get(m.seq);
        if (!task) continue;
        slot.held.delete(m.seq);
        if (m.ok) task.resolve({ pixels: m.pixels, crop: m.crop as Preprocessed['crop'] });
        else task.reject(new ImageError(m.kind as ImageErrorKind, m.message));
      }
      this.flush();
    });
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => {
      if (this.closing || slot.worker !== worker) return;
      this.replace(slot, code);
    });
  }

  /** A worker died: start another in its place and send its tasks again (or fail them). */
  private replace(slot: Slot, code: number): void {
    const why = slot.lastError?.message ?? `exit code ${code}`;
    const orphans = [...slot.held.values()];
    slot.held.clear();
    slot.lastError = undefined;
    slot.worker = new Worker(this.url, { workerData: { params: this.params } });
    this.attach(slot);
    const retry: Task[] = [];
    for (const task of orphans) {
      task.crashes++;
      if (task.crashes >= MAX_CRASHES)
        task.reject(
          new ImageError('corrupt', `the image worker died ${task.crashes} times while decoding this file (${why})`),
        );
      else retry.push(task);
    }
    this.queue.unshift(...retry);
    this.flush();
  }

  process(path: string): Promise<Preprocessed> {
    if (this.closing) return Promise.reject(new Error('the preprocessing pool is closed'));
    return new Promise<Preprocessed>((resolve, reject) => {
      this.queue.push({ seq: this.seq++, path, resolve, reject, crashes: 0 });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      let best = this.slots[0];
      for (const slot of this.slots) if (slot.held.size < best.held.size) best = slot;
      if (best.held.size >= 2 * MAX_BATCH) return;
      const size = Math.min(MAX_BATCH, Math.max(1, Math.ceil(this.queue.length / this.workers)));
      const items = this.queue.splice(0, size);
      for (const task of items) best.held.set(task.seq, task);
      const request: WorkerRequest = { items: items.map(({ seq, path }) => ({ seq, path })) };
      best.worker.postMessage(request);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    const left = [...this.queue, ...this.slots.flatMap((s) => [...s.held.values()])];
    this.queue.length = 0;
    for (const s of this.slots) s.held.clear();
    for (const task of left)
      task.reject(new Error(`${task.path}: the preprocessing pool was closed before this file was done`));
  }
}
