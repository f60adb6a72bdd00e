/**
 * The predictor feeds the network exactly what training did: the training pipeline (ingest →
 * cached preprocessing) and the predictor, given the same file, produce byte-identical uint8
 * pixels, and the same model gives the same outputs through both paths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centerCrop } from '../../src/augment/index.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { type PreparedData, defaultDataPipeline } from '../../src/experiments/data.js';
import { createManifest } from '../../src/models/manifest.js';
import { saveModel } from '../../src/models/io.js';
import { ANSWER_COUNT } from '../../src/questions/index.js';
import { predictBatches } from '../../src/train/evaluate.js';
import { SilentProgress } from '../../src/util/progress.js';
import { EnsemblePredictor } from '../../src/ensemble/predictor.js';
import { tinyHierarchical } from './helpers.js';

let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-parity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function experiment(preprocess: Record<string, unknown>) {
  return parseExperimentConfig(
    {
      name: 'parity',
      seed: 5,
      data: { source: 'synthetic', synthetic: { count: 30, size: 64 }, split: { validation: 0.25, test: 0.25 } },
      preprocess: { ...preprocess, cacheDir: join(dir, 'cache') },
      model: { kind: 'hierarchical' },
      training: { epochs: 1, batchSize: 8 },
    },
    { outputDir: join(dir, 'runs') },
  );
}

async function allImages(data: PreparedData): Promise<Array<{ id: string; pixels: Uint8Array }>> {
  const out: Array<{ id: string; pixels: Uint8Array }> = [];
  const per = data.shape[0] * data.shape[1] * data.shape[2];
  for (const source of [data.train, data.validation, data.test]) {
    for await (const batch of source.batches({ batchSize: 64, shuffle: false, seed: 0, epoch: 0 })) {
      batch.ids.forEach((id, r) => out.push({ id, pixels: batch.images.slice(r * per, (r + 1) * per) }));
    }
  }
  return out;
}

describe.each([
  { name: 'center, RGB', preprocess: { method: 'center', size: 20, centerCrop: 300, channels: 3 }, inputSize: 16 },
  { name: 'contour (seed crop), gray', preprocess: { method: 'contour', size: 18, channels: 1 }, inputSize: 18 },
])('preprocessing parity: $name', { timeout: 180_000 }, ({ preprocess, inputSize }) => {
  it('predictor pixels equal the training cache byte for byte, and predictions match the trainer', async () => {
    const exp = experiment(preprocess);
    const pipeline = defaultDataPipeline();
    const ctx = { progress: new SilentProgress(), log: () => {} };
    const data = await pipeline.prepare(exp, await pipeline.ingest(exp, ctx), ctx);
    const channels = data.shape[2] as 1 | 3;
    // a model saved the way the runner saves it: manifest with the pipeline's preprocessing record
    const model = tinyHierarchical(21, inputSize, channels);
    const modelDir = join(dir, `model-${preprocess.method}`);
    await saveModel(model, modelDir, {
      manifest: createManifest(model, { kind: 'hierarchical', preprocessing: data.preprocessing }),
    });

    const predictor = await EnsemblePredictor.load(modelDir);
    try {
      const cached = await allImages(data);
      expect(cached.length).toBeGreaterThan(8);
      for (const { id, pixels } of cached) {
        const path = data.imagePath(id)!;
        const mine = await predictor.preprocess(path);
        expect(mine.length).toBe(pixels.length);
        expect(Buffer.compare(Buffer.from(mine), Buffer.from(pixels))).toBe(0);
      }
      // same outputs as the trainer's evaluation path (scale, centre crop, forward)
      const trained: Array<{ id: string; values: Float32Array }> = [];
      for await (const b of predictBatches(model, data.test, { prepare: (x) => centerCrop(x, inputSize) })) {
        b.ids.forEach((id, r) =>
          trained.push({ id, values: b.cumulative.slice(r * ANSWER_COUNT, (r + 1) * ANSWER_COUNT) }),
        );
      }
      const results = await predictor.predictMany(trained.map((t) => data.imagePath(t.id)!));
      results.forEach((r, i) => {
        if (!r.ok) throw r.error;
        for (let a = 0; a < ANSWER_COUNT; a++) expect(r.prediction.cumulative[a]).toBeCloseTo(trained[i].values[a], 6);
      });
    } finally {
      predictor.dispose();
      model.dispose();
    }
  });
});
