import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ImageError, type ImageErrorKind, type Preprocessed, type ResolvedParams, configureSharp, preprocessFile } from './preprocess.js';
import { nativeJpeg } from './native-jpeg.js';
import type { WorkerRequest, WorkerResult } from './worker.js';

/** Preprocesses files with a pool of worker threads (or in this thread when workers is 0). */
export interface Preprocessor {
  readonly workers: number;
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
  const url = new URL('./worker.js', import.meta.url);
  const pool = Array.from({ length: workers }, () => new Worker(fileURLToPath(url), { workerData: { params } }));
  const pending = new Map<number, { resolve(r: Preprocessed): void; reject(e: Error): void }>();
  const load = new Array<number>(workers).fill(0);
  let seq = 0;
  pool.forEach((worker, i) => {
    worker.on('message', (results: WorkerResult[]) => {
      load[i] -= results.length;
      for (const m of results) {
        const p = pending.get(m.seq);
        if (!p) continue;
        pending.delete(m.seq);
        if (m.ok) p.resolve({ pixels: m.pixels, crop: m.crop as Preprocessed['crop'] });
        else p.reject(new ImageError(m.kind as ImageErrorKind, m.message));
      }
      // keep the worker busy: the requests that queued while it worked
      if (queue.length > 0) flush();
    });
    worker.on('error', (error) => {
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
  });
  // Requests are queued and sent in batches (see worker.ts): a batch to each worker with the
  // fewest outstanding images, at most MAX_BATCH at a time, keeping up to two batches in flight.
  const MAX_BATCH = 16;
  const queue: Array<{ seq: number; path: string }> = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (queue.length > 0) {
      let best = 0;
      for (let i = 1; i < workers; i++) if (load[i] < load[best]) best = i;
      if (load[best] >= 2 * MAX_BATCH) return;
      const size = Math.min(MAX_BATCH, Math.max(1, Math.ceil(queue.length / workers)));
      const items = queue.splice(0, size);
      load[best] += items.length;
      const request: WorkerRequest = { items };
      pool[best].postMessage(request);
    }
  };
  return {
    workers,
    process(path) {
      const id = seq++;
      return new Promise<Preprocessed>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        queue.push({ seq: id, path });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}
