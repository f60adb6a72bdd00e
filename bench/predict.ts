/**
 * Prediction benchmark (not a test): images/s of the EnsemblePredictor at 106×106 gray, one
 * member, without and with D4 test-time augmentation, for the seed flat CNN and the hierarchical
 * model (seed trunk), on the native backend when it loads.
 *
 *   npm run bench:predict -- [--backend tensorflow] [--batch 64] [--seconds 10] [--repeats 3] [--files 512]
 * npm run bench:predict -- --mode jpeg|shards|stages|gather [--files 512] [--count N] [--workers W]
 * [--sizes 5000,100000] [--heap MiB]   (see predict-shards.ts)
 *
 * Rows:
 *  - `model.predict`: plain tfjs `model.predict` on a float tensor (the Keras `model.predict`
 *    equivalent: no preprocessing, no post-processing);
 *  - `predictor`: EnsemblePredictor.predictPixels on preprocessed uint8 images (scaling to [0, 1],
 *    centre crop, TTA views, projection / averaging / spread included);
 *  - `predictor+jpeg`: predictMany on Kaggle JPEG files from the shared sample (decode + contour
 *    crop + everything above), when the data directory is present.
 * The best of --repeats runs is reported (on a shared machine it is the least disturbed one).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { dataPaths } from '../src/data/data-dir.js';
import { resolveParams } from '../src/data/images/preprocess.js';
import { EnsemblePredictor } from '../src/ensemble/predictor.js';
import { buildFlatModel } from '../src/models/flat.js';
import { buildHierarchicalModel } from '../src/models/hierarchical.js';
import { saveModel } from '../src/models/io.js';
import { createManifest } from '../src/models/manifest.js';
import { benchGather, benchJpeg, benchShards, benchStages } from './predict-shards.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SIZE = 106;
const backendArg = arg('backend', '');
const batch = Number(arg('batch', '64'));
const seconds = Number(arg('seconds', '10'));
const repeats = Number(arg('repeats', '3'));
const fileCount = Number(arg('files', '512'));

/** Best images/s over repeats of `seconds`-long loops (one warm-up call first). */
async function rate(step: () => Promise<number>): Promise<number> {
  await step();
  let best = 0;
  for (let r = 0; r < repeats; r++) {
    let images = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000 || images === 0) images += await step();
    best = Math.max(best, images / ((performance.now() - start) / 1000));
  }
  return best;
}

async function modes(mode: string, files: string[]): Promise<boolean> {
  if (mode === 'throughput') return false;
  const count = Number(arg('count', String(files.length)));
  const picked = Array.from({ length: count }, (_, i) => files[i % files.length]);
  let result: unknown;
  if (mode === 'jpeg') {
    const w = arg('workers', '');
    result = {
      files: picked.length,
      batch,
      ...(await benchJpeg(picked, batch, repeats, w === '' ? undefined : Number(w))),
    };
  } else if (mode === 'shards') result = { files: picked.length, ...(await benchShards(picked, repeats)) };
  else if (mode === 'stages') result = { files: picked.length, ...(await benchStages(picked, repeats)) };
  else if (mode === 'gather') {
    const sizes = arg('sizes', '5000,100000').split(',').map(Number);
    const out = [];
    const heap = Number(arg('heap', '0')) || undefined;
    for (const n of sizes) out.push(await benchGather(n, heap));
    result = out;
  } else throw new Error(`--mode ${mode}: expected throughput | jpeg | shards | stages | gather`);
  process.stdout.write(
    `GZH_BENCH ${JSON.stringify({ mode, load: loadavg().map((x) => Number(x.toFixed(2))), result })}\n`,
  );
  return true;
}

async function main(): Promise<void> {
  const backend = (await initBackend(backendArg || undefined)).name;
  const kaggleDir = dataPaths().kaggleImages;
  const allFiles = existsSync(kaggleDir)
    ? readdirSync(kaggleDir)
        .filter((f) => f.endsWith('.jpg'))
        .sort()
        .slice(0, fileCount)
        .map((f) => join(kaggleDir, f))
    : [];
  if (await modes(arg('mode', 'throughput'), allFiles)) return;
  const dir = mkdtempSync(join(tmpdir(), 'gzh-bench-predict-'));
  const params = resolveParams({ mode: 'contour', size: SIZE, channels: 1 });
  const rows: Array<{ model: string; path: string; tta: string; imagesPerSecond: number }> = [];
  const kaggle = dataPaths().kaggleImages;
  const files = existsSync(kaggle)
    ? readdirSync(kaggle)
        .filter((f) => f.endsWith('.jpg'))
        .sort()
        .slice(0, fileCount)
        .map((f) => join(kaggle, f))
    : [];
  try {
    for (const kind of ['flat', 'hierarchical'] as const) {
      const model =
        kind === 'flat'
          ? buildFlatModel({ inputSize: SIZE, channels: 1 })
          : buildHierarchicalModel({ inputSize: SIZE, channels: 1 });
      const modelDir = join(dir, kind);
      await saveModel(model, modelDir, { manifest: createManifest(model, { kind, preprocessing: params }) });
      const x = tf.randomUniform([batch, SIZE, SIZE, 1], 0, 1, 'float32', 1);
      const plain = await rate(async () => {
        const y = model.predict(x, { batchSize: batch }) as tf.Tensor;
        await y.data();
        y.dispose();
        return batch;
      });
      x.dispose();
      model.dispose();
      rows.push({ model: kind, path: 'model.predict', tta: 'none', imagesPerSecond: plain });
      const pixels = new Uint8Array(batch * SIZE * SIZE).map((_, i) => (i * 2654435761) >>> 24);
      for (const tta of ['none', 'd4'] as const) {
        const predictor = await EnsemblePredictor.load(modelDir, {
          tta,
          predictBatchSize: tta === 'none' ? batch : batch * 8,
        });
        const views = predictor.views.length;
        const perStep = tta === 'none' ? batch : Math.max(1, Math.floor(batch / views) * 2);
        const stepPixels = pixels.subarray(0, perStep * SIZE * SIZE);
        const r = await rate(async () => {
          await predictor.predictPixels([stepPixels], perStep);
          return perStep;
        });
        rows.push({ model: kind, path: 'predictor', tta, imagesPerSecond: r });
        if (files.length > 0) {
          const start = performance.now();
          const out = await predictor.predictMany(files, { batchSize: tta === 'none' ? batch : 16 });
          const ok = out.filter((o) => o.ok).length;
          rows.push({
            model: kind,
            path: 'predictor+jpeg',
            tta,
            imagesPerSecond: ok / ((performance.now() - start) / 1000),
          });
        }
        predictor.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header =
    `predict throughput, ${SIZE}×${SIZE} gray, batch ${batch}, backend ${backend} (best of ${repeats} × ` +
    `${seconds}s${files.length ? `; JPEG rows: ${files.length} Kaggle files, contour crop` : ''})`;
  process.stdout.write(`${header}\n`);
  process.stdout.write(`${'model'.padEnd(13)} ${'path'.padEnd(15)} ${'tta'.padEnd(5)} img/s\n`);
  for (const r of rows)
    process.stdout.write(
      `${r.model.padEnd(13)} ${r.path.padEnd(15)} ${r.tta.padEnd(5)} ${r.imagesPerSecond.toFixed(1)}\n`,
    );
  for (const kind of ['flat', 'hierarchical']) {
    const none = rows.find((r) => r.model === kind && r.path === 'predictor' && r.tta === 'none')!;
    const d4 = rows.find((r) => r.model === kind && r.path === 'predictor' && r.tta === 'd4')!;
    process.stdout.write(
      `${kind}: D4 TTA costs ${(none.imagesPerSecond / d4.imagesPerSecond).toFixed(2)}× (8 views per image)\n`,
    );
  }
  process.stdout.write(`GZH_BENCH ${JSON.stringify({ backend, batch, rows })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
