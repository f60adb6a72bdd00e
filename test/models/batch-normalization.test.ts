/**
 * The fast BatchNormalization (native fused ops in training) against tfjs-layers' own layer:
 * same output, same gradients for input, gamma and beta, same moving statistics; stock behaviour on
 * other backends; saved models stay standard and load back; no tensor growth across steps.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/backend/native.js';
import { initBackend } from '../../src/backend/select.js';
import { BatchNormalization } from '../../src/models/batch-normalization.js';
import { loadModel, saveModel } from '../../src/models/io.js';

const nativeError = await loadNative().then(
  () => '',
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);

interface Case {
  readonly shape: [number, number, number, number];
  readonly momentum: number;
  readonly epsilon: number;
  readonly seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    n: fc.integer({ min: 1, max: 5 }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    c: fc.integer({ min: 1, max: 9 }),
    momentum: fc.constantFrom(0, 0.5, 0.9, 0.99),
    epsilon: fc.constantFrom(1e-3, 1e-5, 0.1),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .filter((r) => r.n * r.h * r.w > 1)
  .map((r) => ({ shape: [r.n, r.h, r.w, r.c], momentum: r.momentum, epsilon: r.epsilon, seed: r.seed }));

interface Outcome {
  readonly y: Float32Array;
  readonly dx: Float32Array;
  readonly dGamma: Float32Array;
  readonly dBeta: Float32Array;
  readonly movingMean: Float32Array;
  readonly movingVariance: Float32Array;
}

/** One training-mode call of `layer` under a random linear loss, with gradients and updated statistics. */
async function trainingCall(layer: tf.layers.Layer, c: Case): Promise<Outcome> {
  const [n, h, w, ch] = c.shape;
  const x = tf.variable(tf.randomNormal(c.shape, 0.7, 2, 'float32', c.seed));
  const upstream = tf.randomNormal(c.shape, 0, 1, 'float32', c.seed + 1);
  layer.build([n, h, w, ch]);
  layer.setWeights([
    tf.randomUniform([ch], 0.5, 1.5, 'float32', c.seed + 2),
    tf.randomNormal([ch], 0, 0.3, 'float32', c.seed + 3),
    tf.randomNormal([ch], 0, 1, 'float32', c.seed + 4),
    tf.randomUniform([ch], 0.5, 2, 'float32', c.seed + 5),
  ]);
  let y: Float32Array | undefined;
  const gamma = layer.trainableWeights[0]!.read() as tf.Variable;
  const beta = layer.trainableWeights[1]!.read() as tf.Variable;
  const { grads, value } = tf.variableGrads(() => {
    const out = layer.apply(x, { training: true }) as tf.Tensor;
    y = out.dataSync() as Float32Array;
    return tf.sum(tf.mul(out, upstream)) as tf.Scalar;
  }, [x, gamma, beta]);
  const outcome: Outcome = {
    y: y!,
    dx: grads[x.name]!.dataSync() as Float32Array,
    dGamma: grads[gamma.name]!.dataSync() as Float32Array,
    dBeta: grads[beta.name]!.dataSync() as Float32Array,
    movingMean: layer.getWeights()[2]!.dataSync() as Float32Array,
    movingVariance: layer.getWeights()[3]!.dataSync() as Float32Array,
  };
  tf.dispose([x, upstream, value, ...Object.values(grads)]);
  for (const weight of layer.weights) weight.dispose();
  return outcome;
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const tolerance = 2e-4 * Math.max(1, Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance)) {
      throw new Error(`${what}[${i}]: ${actual[i]} vs stock ${expected[i]}`);
    }
  }
}

async function compareWithStock(c: Case): Promise<void> {
  const args = { momentum: c.momentum, epsilon: c.epsilon };
  const fast = await trainingCall(new BatchNormalization(args), c);
  const stock = await trainingCall(tf.layers.batchNormalization(args), c);
  for (const key of ['y', 'dx', 'dGamma', 'dBeta', 'movingMean', 'movingVariance'] as const) {
    expectClose(fast[key], stock[key], key);
  }
}

describe('BatchNormalization (fused native training path)', () => {
  it.skipIf(nativeError !== '')(
    `equals tfjs-layers' layer: output, gradients and moving statistics, on the native ` +
      `backend${nativeError ? ` — skipped: ${nativeError}` : ''}`,
    async () => {
      await initBackend('tensorflow');
      await fc.assert(fc.asyncProperty(caseArb, compareWithStock), { numRuns: 40 });
    },
  );

  it('equals the stock layer on the cpu backend (the stock code runs there)', async () => {
    await initBackend('cpu');
    await fc.assert(fc.asyncProperty(caseArb, compareWithStock), { numRuns: 10 });
  });

  it.skipIf(nativeError !== '')('keeps tf.memory().numTensors constant across training steps', async () => {
    await initBackend('tensorflow');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same' }),
        new BatchNormalization({ momentum: 0.9 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(1e-2), loss: 'meanSquaredError' });
    const x = tf.randomNormal([6, 8, 8, 2], 0, 1, 'float32', 1);
    const y = tf.randomNormal([6, 3], 0, 1, 'float32', 2);
    const first = (await model.trainOnBatch(x, y)) as number;
    const after1 = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 30; i++) last = (await model.trainOnBatch(x, y)) as number;
    expect(tf.memory().numTensors).toBe(after1);
    expect(last).toBeLessThan(first); // it trains
    tf.dispose([x, y]);
    model.dispose();
  });

  it('saves as a standard BatchNormalization layer and loads back with the same weights', async () => {
    await initBackend('cpu');
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4 }),
        new BatchNormalization({ momentum: 0.8, epsilon: 0.01 }),
      ],
    });
    const dir = await mkdtemp(join(tmpdir(), 'gzh-bn-'));
    try {
      await saveModel(model, dir);
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
        modelTopology: { config: { layers: { class_name: string; config: { momentum: number; epsilon: number } }[] } };
      };
      const bn = json.modelTopology.config.layers[1]!;
      expect(bn.class_name).toBe('BatchNormalization');
      expect(bn.config).toMatchObject({ momentum: 0.8, epsilon: 0.01 });
      const { model: loaded } = await loadModel(dir);
      expect(loaded.layers[1]).toBeInstanceOf(BatchNormalization);
      const x = tf.randomNormal([5, 3], 0, 1, 'float32', 3);
      const a = model.predict(x) as tf.Tensor;
      const b = loaded.predict(x) as tf.Tensor;
      expectClose(b.dataSync() as Float32Array, a.dataSync() as Float32Array, 'prediction');
      tf.dispose([x, a, b]);
      loaded.dispose();
    } finally {
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
