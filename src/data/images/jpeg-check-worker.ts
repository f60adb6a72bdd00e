/**
 * Worker-thread entry of the JPEG check pool (jpeg-check-pool.ts): runs the structural check of
 * jpeg-check.ts on every path of each batch it is sent and answers the batch with one message.
 * A check that throws (an I/O error other than a failed open) stops the batch there; the pool
 * repeats the rest on its own thread, where the same error is thrown to the caller.
 */
import { parentPort } from 'node:worker_threads';
import { jpegProblem } from './jpeg-check.js';

/** A batch of files to check. */
export interface CheckRequest {
  readonly seq: number;
  readonly paths: readonly string[];
}

/**
 * The answer to a {@link CheckRequest}: one problem (null: a plausible JPEG) for each path before
 * `stoppedAt`, which is the length of the batch unless a check threw there.
 */
export interface CheckResult {
  readonly seq: number;
  readonly problems: Array<string | null>;
  readonly stoppedAt: number;
}

parentPort!.on('message', ({ seq, paths }: CheckRequest) => {
  const problems: Array<string | null> = [];
  try {
    for (const path of paths) problems.push(jpegProblem(path));
  } catch {
    // answered below with what was checked; the caller repeats the rest itself
  }
  parentPort!.postMessage({ seq, problems, stoppedAt: problems.length } satisfies CheckResult);
});
