import { parentPort, workerData } from 'node:worker_threads';
import { nativeJpeg } from './native-jpeg.js';
import { ImageError, type ResolvedParams, configureSharp, preprocessFile } from './preprocess.js';

/**
 * Worker-thread entry: preprocesses the batches of files it is sent and posts each batch's results
 * back in one message (pixels transferred). One message per batch rather than per image: on a busy
 * machine each cross-thread message costs about as much as decoding an image.
 */
export interface WorkerRequest {
  readonly items: ReadonlyArray<{ readonly seq: number; readonly path: string }>;
}

export type WorkerResult =
  | { readonly seq: number; readonly ok: true; readonly pixels: Uint8Array; readonly crop: string }
  | { readonly seq: number; readonly ok: false; readonly kind: string; readonly message: string };

const { params } = workerData as { params: ResolvedParams };
// load the decoder now rather than on the first image
if (params.decoder === 'tensorflow') nativeJpeg();
else configureSharp(1);

parentPort!.on('message', (request: WorkerRequest) => {
  void Promise.all(
    request.items.map(({ seq, path }) =>
      preprocessFile(path, params).then(
        (result): WorkerResult => ({ seq, ok: true, pixels: result.pixels, crop: result.crop }),
        (error: unknown): WorkerResult => ({
          seq,
          ok: false,
          kind: error instanceof ImageError ? error.kind : 'corrupt',
          message: error instanceof Error ? error.message : String(error),
        }),
      ),
    ),
  ).then((results) => {
    const transfer = results.flatMap((r) => (r.ok ? [r.pixels.buffer as ArrayBuffer] : []));
    parentPort!.postMessage(results, transfer);
  });
});
