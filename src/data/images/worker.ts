import { parentPort, workerData } from 'node:worker_threads';
import { ImageError, type ResolvedParams, configureSharp, preprocessFile } from './preprocess.js';

/** Worker-thread entry: preprocesses the files it is sent and posts the pixels back (transferred). */
const { params } = workerData as { params: ResolvedParams };
configureSharp(1);
parentPort!.on('message', (message: { seq: number; path: string }) => {
  preprocessFile(message.path, params).then(
    (result) => parentPort!.postMessage({ seq: message.seq, ok: true, pixels: result.pixels, crop: result.crop }, [result.pixels.buffer as ArrayBuffer]),
    (error: unknown) =>
      parentPort!.postMessage({
        seq: message.seq,
        ok: false,
        kind: error instanceof ImageError ? error.kind : 'corrupt',
        message: error instanceof Error ? error.message : String(error),
      }),
  );
});
