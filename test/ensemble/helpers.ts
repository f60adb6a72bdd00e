import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { resolveParams, type PreprocessParams } from '../../src/data/images/preprocess.js';
import { buildFlatModel } from '../../src/models/flat.js';
import { buildHierarchicalModel } from '../../src/models/hierarchical.js';
import { createManifest, type ModelManifest } from '../../src/models/manifest.js';
import { saveModel } from '../../src/models/io.js';
import { Random } from '../../src/util/random.js';

export const TINY_PREPROCESS: PreprocessParams = { mode: 'center', size: 16, channels: 1, centerCrop: 300 };

/** A tiny tree model (one conv block) taking `inputSize` px from the tiny preprocessing. */
export function tinyHierarchical(seed: number, inputSize = 14, channels: 1 | 3 = 1): tf.LayersModel {
  const model = buildHierarchicalModel({
    inputSize,
    channels,
    trunk: { kind: 'deep', filters: [4], dense: 8, batchNorm: false, pooling: 'gap', dropout: 0 },
  });
  // distinct deterministic weights per seed
  const rng = new Random(seed);
  tf.tidy(() =>
    model.setWeights(
      model.getWeights().map((w) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, () => (rng.next() - 0.5) * 0.8),
          w.shape,
        ),
      ),
    ),
  );
  return model;
}

/** Saves a model with a manifest recording `preprocess` (as the training pipeline records it). */
export async function saveTiny(
  model: tf.LayersModel,
  dir: string,
  kind: string,
  preprocess: PreprocessParams | null = TINY_PREPROCESS,
  patch: Partial<ModelManifest> = {},
): Promise<string> {
  const manifest = {
    ...createManifest(model, { kind, preprocessing: preprocess ? resolveParams(preprocess) : null }),
    ...patch,
  };
  await saveModel(model, dir, { manifest });
  return dir;
}

export function tinyFlat(seed: number, inputSize = 24): tf.LayersModel {
  const model = buildFlatModel({ inputSize, channels: 1 });
  const rng = new Random(seed);
  tf.tidy(() =>
    model.setWeights(
      model.getWeights().map((w) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, () => (rng.next() - 0.5) * 0.2),
          w.shape,
        ),
      ),
    ),
  );
  return model;
}

/** Writes `count` random-blob RGB JPEGs of `size` px into dir; returns their paths. */
export async function writeJpegs(dir: string, count: number, size = 48, seed = 1): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const rng = new Random(seed);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const pixels = new Uint8Array(size * size * 3);
    const cx = size / 2 + (rng.next() - 0.5) * 8;
    const cy = size / 2 + (rng.next() - 0.5) * 8;
    const r = 4 + rng.next() * 10;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const d = Math.hypot(x - cx, y - cy);
        const v = 255 * Math.exp(-(d * d) / (2 * r * r));
        const o = (y * size + x) * 3;
        pixels[o] = Math.min(255, v + rng.next() * 20);
        pixels[o + 1] = Math.min(255, v * 0.8 + rng.next() * 20);
        pixels[o + 2] = Math.min(255, v * 0.6 + rng.next() * 20);
      }
    }
    const path = join(dir, `${100 + i}.jpg`);
    await sharp(Buffer.from(pixels), { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(path);
    paths.push(path);
  }
  return paths;
}
