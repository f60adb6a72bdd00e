import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ImageError, type ImageErrorKind, type Preprocessed, type ResolvedParams, configureSharp, preprocessFile } from './preprocess.js';

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
    configureSharp(1);
    return { workers: 0, process: (path) => preprocessFile(path, params), close: async () => {} };
  }
  const url = new URL('./worker.js', import.meta.url);
  const pool = Array.from({ length: workers }, () => new Worker(fileURLToPath(url), { workerData: { params } }));
  const pending = new Map<number, { resolve(r: Preprocessed): void; reject(e: Error): void }>();
  const load = new Array<number>(workers).fill(0);
  let seq = 0;
  pool.forEach((worker, i) => {
    worker.on('message', (m: { seq: number; ok: boolean; pixels?: Uint8Array; crop?: Preprocessed['crop']; kind?: ImageErrorKind; message?: string }) => {
      load[i]--;
      const p = pending.get(m.seq);
      if (!p) return;
      pending.delete(m.seq);
      if (m.ok) p.resolve({ pixels: m.pixels!, crop: m.crop! });
      else p.reject(new ImageError(m.kind!, m.message!));
    });
    worker.on('error', (error) => {
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
  });
  return {
    workers,
    process(path) {
      let best = 0;
      for (let i = 1; i < workers; i++) if (load[i] < load[best]) best = i;
      load[best]++;
      const id = seq++;
      return new Promise<Preprocessed>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        pool[best].postMessage({ seq: id, path });
      });
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}
