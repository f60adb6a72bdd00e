/**
 * Worker-thread entry of the synthetic image writer (image-pool.ts): renders, encodes and writes
 * the JPEGs of the index ranges it is sent, and answers each range with one message once all its
 * files are written.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { RenderScratch } from './render.js';
import { type ImageJob, writeImageRange } from './image-range.js';

/** A range of galaxy indices to write, [from, to). */
export interface RangeRequest {
  readonly from: number;
  readonly to: number;
}

/** The answer to a {@link RangeRequest}: written, or the error that stopped it. */
export type RangeResult = RangeRequest & ({ readonly ok: true } | { readonly ok: false; readonly message: string });

const job = workerData as ImageJob;
sharp.cache(false);
const scratch = new RenderScratch(job.options.size);

parentPort!.on('message', (request: RangeRequest) => {
  writeImageRange(job, request.from, request.to, scratch).then(
    () => parentPort!.postMessage({ ...request, ok: true } satisfies RangeResult),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      parentPort!.postMessage({ ...request, ok: false, message } satisfies RangeResult);
    },
  );
});
