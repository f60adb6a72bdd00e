/**
 * Cost of verifying artifacts on read (not a test). On the real Kaggle sample (5,408 images), with
 * the seed's preprocessing (contour, 106 px, gray):
 *  - cache: the time to hash every shard once (what a process pays when it opens a cache), against
 *    one pass reading every train batch from the cache (the data side of an epoch, no training: the
 *    worst case) and against one training epoch of the seed CNN at the measured training rate;
 *  - model: reading a saved seed CNN with its checks (weights.bin size, finite weights) against
 *    reading the same files without them, and against predicting the sample at the measured rate.
 * Rounds alternate the variants; the best of --repeats is kept (a shared machine disturbs some).
 *   npm run build && node dist/bench/verify.js [--repeats 3] [--seconds 5]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.js';
import { measurePredictThroughput, measureTrainThroughput } from '../src/backend/probe.js';
import { buildCache, openCachedSource, verifyCache } from '../src/data/cache.js';
import { forgetVerifiedShards } from '../src/data/cache-verify.js';
import { dataPaths, resolveDataDir } from '../src/data/data-dir.js';
import { ingest } from '../src/data/ingest.js';
import { buildFlatModel } from '../src/models/flat.js';
import { readArtifacts, saveModel } from '../src/models/io.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const repeats = arg('repeats', 3);
const seconds = arg('seconds', 5);
const time = async (fn: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

const paths = dataPaths(resolveDataDir());
const work = mkdtempSync(join(tmpdir(), 'gzh-bench-verify-'));
try {
  const backend = await initBackend();
  const catalogue = join(work, 'kaggle.sqlite');
  await ingest(catalogue, { format: 'kaggle', labels: paths.kaggleSolutions, images: paths.kaggleImages });
  const built = await buildCache({
    catalogue,
    cacheDir: join(work, 'cache'),
    params: { mode: 'contour', size: 106, channels: 1 },
  });
  const bytes = built.manifest.shardBytes.reduce((a, b) => a + b, 0);
  const readPass = async () => {
    const source = openCachedSource({ catalogue, cacheDir: built.dir, split: 'train' });
    let n = 0;
    for await (const b of source.batches({ batchSize: 64, shuffle: true, seed: 1, epoch: 0 })) n += b.size;
    return n;
  };
  const trainCount = await readPass();
  const verify: number[] = [];
  const read: number[] = [];
  for (let r = 0; r < repeats; r++) {
    forgetVerifiedShards();
    verify.push(await time(() => verifyCache(built.dir, built.manifest)));
    read.push(await time(readPass)); // shards verified already: reading only
  }
  const train = await measureTrainThroughput({ inputSize: 106, batchSize: 64, seconds });
  const predict = await measurePredictThroughput({ inputSize: 106, batchSize: 64, seconds });

  const modelDir = join(work, 'model');
  const model = buildFlatModel({ inputSize: 106, channels: 1 });
  await saveModel(model, modelDir);
  model.dispose();
  const checked: number[] = [];
  const raw: number[] = [];
  for (let r = 0; r < repeats * 3; r++) {
    checked.push(await time(() => readArtifacts(modelDir)));
    raw.push(
      await time(() => [
        readFileSync(join(modelDir, 'model.json'), 'utf8'),
        readFileSync(join(modelDir, 'weights.bin')),
      ]),
    );
  }
  const best = (xs: number[]) => Math.min(...xs);
  const epochTrain = trainCount / train.imagesPerSecond;
  const predictAll = built.manifest.ids.length / predict.imagesPerSecond;
  const modelChecks = Math.max(0, best(checked) - best(raw));
  const result = {
    backend: backend.name,
    load: loadavg().map((x) => Number(x.toFixed(2))),
    cache: {
      images: built.manifest.ids.length,
      shards: built.manifest.shards.length,
      megabytes: Number((bytes / 1e6).toFixed(1)),
      verifySeconds: best(verify),
      verifyMBps: Number((bytes / 1e6 / best(verify)).toFixed(0)),
      readPassSeconds: best(read),
      trainImagesPerSecond: Number(train.imagesPerSecond.toFixed(1)),
      trainEpochSeconds: Number(epochTrain.toFixed(1)),
      overheadVsReadPass: Number((best(verify) / best(read)).toFixed(4)),
      overheadVsTrainEpoch: Number((best(verify) / epochTrain).toFixed(4)),
    },
    model: {
      readCheckedSeconds: best(checked),
      readRawSeconds: best(raw),
      predictImagesPerSecond: Number(predict.imagesPerSecond.toFixed(1)),
      predictSampleSeconds: Number(predictAll.toFixed(1)),
      overheadVsPredictingSample: Number((modelChecks / predictAll).toFixed(5)),
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
