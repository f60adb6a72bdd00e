/**
 * Writes the JPEGs of a synthetic data set with worker threads that render, encode and write
 * ranges of galaxies. Each image depends only on (seed, index), so the bytes on disk do not
 * depend on the number of workers or on which worker drew which galaxy. With no workers (or when
 * running from TypeScript sources, where worker threads cannot load the compiled entry) the
 * images are drawn on this thread while sharp encodes in the background.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ImageJob, writeImageRange } from './image-range.js';
import type { RangeRequest, RangeResult } from './image-worker.js';
import { RenderScratch } from './render.js';

/** Galaxies per request sent to a worker; each worker holds two requests, so it never waits. */
const RANGE = 8;
const HELD_PER_WORKER = 2;

/** Default worker count: one per available CPU. */
export function defaultImageWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Worker threads run compiled JavaScript only. */
function workersSupported(): boolean {
  return !import.meta.url.endsWith('.ts');
}

/**
 * Writes images [0, count) of `job`; `onWritten(from, to)` is called as each range is complete
 * (ranges complete out of order). Rejects on the first failure, or when `signal` aborts, after
 * stopping every worker.
 */
export async function writeSyntheticImages(
  job: ImageJob,
  count: number,
  workers: number,
  onWritten: (from: number, to: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (count <= 0) return;
  if (workers <= 0 || !workersSupported()) {
    const scratch = new RenderScratch(job.options.size);
    for (let from = 0; from < count; from += RANGE) {
      signal?.throwIfAborted();
      const to = Math.min(count, from + RANGE);
      await writeImageRange(job, from, to, scratch);
      onWritten(from, to);
    }
    return;
  }
  await runPool(job, count, Math.min(workers, Math.ceil(count / RANGE)), onWritten, signal);
}

/** Feeds ranges to `workers` threads until all of [0, count) is written or one fails. */
function runPool(
  job: ImageJob,
  count: number,
  workers: number,
  onWritten: (from: number, to: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const url = fileURLToPath(new URL('./image-worker.js', import.meta.url));
  return new Promise<void>((resolve, reject) => {
    const threads: Worker[] = [];
    let next = 0;
    let pending = 0;
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', aborted);
      void Promise.all(threads.map((t) => t.terminate())).then(() => (error ? reject(error) : resolve()));
    };
    const aborted = () => finish(new Error('synthetic image writing was stopped'));
    signal?.addEventListener('abort', aborted);
    const feed = (worker: Worker) => {
      if (settled || next >= count) return;
      const request: RangeRequest = { from: next, to: Math.min(count, next + RANGE) };
      next = request.to;
      pending++;
      worker.postMessage(request);
    };
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(url, { workerData: job });
      threads.push(worker);
      worker.on('message', (result: RangeResult) => {
        pending--;
        if (!result.ok) return finish(new Error(`synthetic images ${result.from}–${result.to - 1}: ${result.message}`));
        try {
          onWritten(result.from, result.to);
        } catch (error) {
          return finish(error as Error);
        }
        feed(worker);
        if (pending === 0 && next >= count) finish(null);
      });
      worker.on('error', (error) => finish(error));
      worker.on('exit', (code) => {
        if (!settled)
          finish(new Error(`a synthetic image worker stopped (exit code ${code}) before its images were written`));
      });
      for (let h = 0; h < HELD_PER_WORKER; h++) feed(worker);
    }
  });
}
