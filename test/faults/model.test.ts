/**
 * Corrupt model artifacts are refused on load with an error naming the file (never loaded into
 * believable predictions), a failed load leaves no tensor behind, and a non-finite prediction is
 * an error rather than a projected, valid-looking answer.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnsemblePredictor } from '../../src/ensemble/predictor.js';
import { CorruptArtifactError, NonFiniteError } from '../../src/errors.js';
import { loadModel } from '../../src/models/io.js';
import { saveTiny, tinyHierarchical, writeJpegs } from '../ensemble/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-model-'));
let good: string;
let images: string[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  const model = tinyHierarchical(3);
  good = await saveTiny(model, join(work, 'good'), 'hierarchical');
  model.dispose();
  images = await writeJpegs(join(work, 'images'), 2, 320);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the good model with `damage` applied to it. */
function damaged(name: string, damage: (dir: string) => void): string {
  const dir = join(work, name);
  cpSync(good, dir, { recursive: true });
  damage(dir);
  return dir;
}

const weights = (dir: string) => join(dir, 'weights.bin');

describe('corrupt models are refused, naming the file', () => {
  it('weights.bin overwritten with NaN bytes of the same size', async () => {
    const dir = damaged('nan', (d) => {
      const size = statSync(weights(d)).size;
      writeFileSync(weights(d), Buffer.from(new Float32Array(size / 4).fill(Number.NaN).buffer));
    });
    const error = await loadModel(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptArtifactError);
    expect((error as CorruptArtifactError).path).toBe(weights(dir));
    expect((error as Error).message).toMatch(/non-finite/);
    await expect(EnsemblePredictor.load(dir, { backend: 'cpu' })).rejects.toThrow(weights(dir));
  });

  it('weights.bin with extra bytes, or truncated', async () => {
    const extra = damaged('extra', (d) => appendFileSync(weights(d), Buffer.alloc(8)));
    await expect(loadModel(extra)).rejects.toThrow(/extra bytes/);
    const short = damaged('short', (d) => writeFileSync(weights(d), readFileSync(weights(d)).subarray(0, 100)));
    await expect(loadModel(short)).rejects.toThrow(
      new RegExp(`^${weights(short)}: holds 100 bytes .* \\(truncated\\)`),
    );
  });

  it("a manifest whose input shape is not the model's", async () => {
    const dir = damaged('shape', (d) => {
      const file = join(d, 'manifest.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify({ ...manifest, inputShape: [12, 12, 1] }));
    });
    await expect(loadModel(dir)).rejects.toThrow(/manifest says input 12×12×1 but model\.json's model takes 14×14×1/);
  });

  it('a failed EnsemblePredictor.load leaks no tensor', async () => {
    const dirs = [
      damaged('leak-short', (d) => writeFileSync(weights(d), readFileSync(weights(d)).subarray(0, 64))),
      damaged('leak-shape', (d) => {
        const file = join(d, 'manifest.json');
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), inputShape: [12, 12, 1] }));
      }),
      damaged('leak-specs', (d) => {
        // weights that fit in size but not the layers they are given to (tfjs finds out after building them)
        const file = join(d, 'model.json');
        const json = JSON.parse(readFileSync(file, 'utf8'));
        const specs = json.weightsManifest[0].weights;
        [specs[0].name, specs[specs.length - 1].name] = [specs[specs.length - 1].name, specs[0].name];
        writeFileSync(file, JSON.stringify(json));
      }),
    ];
    for (const dir of dirs) await EnsemblePredictor.load(dir, { backend: 'cpu' }).catch(() => undefined); // warm-up
    for (const dir of dirs) {
      const before = tf.memory().numTensors;
      for (let attempt = 0; attempt < 3; attempt++)
        await expect(EnsemblePredictor.load(dir, { backend: 'cpu' })).rejects.toThrow();
      expect({ dir, tensors: tf.memory().numTensors }).toEqual({ dir, tensors: before });
    }
  });

  it('a good model still loads and predicts', async () => {
    const predictor = await EnsemblePredictor.load(good, { backend: 'cpu' });
    const result = await predictor.predict(images[0]);
    expect(result.cumulative.every(Number.isFinite)).toBe(true);
    predictor.dispose();
  });
});

describe('non-finite predictions are errors', () => {
  it('a flat member whose output is NaN fails instead of being projected to uniform fractions', async () => {
    // finite weights whose sums overflow to +Infinity, then Infinity − Infinity = NaN (a diverged model, not a corrupt
    // file)
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [24, 24, 1] }),
        tf.layers.dense({
          units: 2,
          kernelInitializer: tf.initializers.constant({ value: 3e38 }),
          biasInitializer: 'zeros',
        }),
        tf.layers.dense({
          units: 37,
          activation: 'sigmoid',
          kernelInitializer: tf.initializers.constant({ value: 1 }),
        }),
      ],
    });
    tf.tidy(() => {
      const [k1, b1, , b2] = model.getWeights();
      model.setWeights([k1, b1, tf.tensor2d([[1], [-1]]).tile([1, 37]), b2]);
    });
    const dir = await saveTiny(model, join(work, 'diverged'), 'flat', {
      mode: 'center',
      size: 24,
      channels: 1,
      centerCrop: 300,
    });
    model.dispose();
    const predictor = await EnsemblePredictor.load(dir, { backend: 'cpu' });
    try {
      await expect(predictor.predictMany(images)).rejects.toThrow(/Class1\.1 is NaN/);
      await expect(predictor.predict(images[0])).rejects.toThrow(NonFiniteError);
    } finally {
      predictor.dispose();
    }
  });
});
