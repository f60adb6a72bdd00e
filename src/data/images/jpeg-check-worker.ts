/**
 * Worker-thread entry of the JPEG check pool (jpeg-check-pool.ts): for each batch it is sent, takes
 * the batch's files one at a time from the shared counter (the main thread may take some too), runs
 * the structural check of jpeg-check.ts and sets each file's status byte: fine, or something for the
 * main thread to report (it checks that file again for the message, or the error the check threw).
 */
import { parentPort } from 'node:worker_threads';
import { jpegProblem } from './jpeg-check.js';
import { DONE, FINE, NEXT, REPORT } from './jpeg-check-pool.js';

/**
 * A batch of files to check: their paths joined by NUL, which no path contains (one string crosses
 * threads for a fraction of the cost of a thousand), and its shared memory: two Int32 control words
 * (next file to take, files checked) and a status byte a file.
 */
export interface CheckRequest {
  readonly paths: string;
  readonly shared: SharedArrayBuffer;
}

function fine(path: string): boolean {
  try {
    return jpegProblem(path) === null;
  } catch {
    return false;
  }
}

parentPort!.on('message', ({ paths, shared }: CheckRequest) => {
  const files = paths.split('\0');
  const control = new Int32Array(shared, 0, 2);
  const status = new Uint8Array(shared, 8);
  for (let i = Atomics.add(control, NEXT, 1); i < files.length; i = Atomics.add(control, NEXT, 1)) {
    Atomics.store(status, i, fine(files[i]) ? FINE : REPORT);
    Atomics.add(control, DONE, 1);
  }
});
