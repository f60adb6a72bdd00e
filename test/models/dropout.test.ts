/**
 * Dropout with native noise: the rate and the 1/(1 − rate) scaling of tf.dropout, a gradient that
 * is the same mask, broadcasting over noiseShape, identity at inference, the stock layer with a
 * seed, standard serialization, and no tensor growth across steps.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/backend/native.js';
import { initBackend } from '../../src/backend/select.js';
import { Dropout } from '../../src/models/dropout.js';
import { seedDropoutNoise } from '../../src/backend/native-dropout.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { buildHierarchicalModel } from '../../src/models/hierarchical.js';
import { MemoryBatchSource } from '../../src/train/memory-source.js';
import { train } from '../../src/train/trainer.js';
import { syntheticGalaxies } from '../train/helpers/synthetic.js';

const nativeError = await loadNative().then(
  () => '',
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);

describe.skipIf(nativeError !== '')(
  `Dropout with native noise${nativeError ? ` — skipped: ${nativeError}` : ''}`,
  () => {
    it(
      'drops about `rate` of the values and scales the rest by 1/(1 − rate); the gradient is ' + 'the same mask',
      async () => {
        await initBackend('tensorflow');
        for (const rate of [0.2, 0.5, 0.9]) {
          const layer = new Dropout({ rate });
          const x = tf.add(tf.randomUniform([50, 40, 50], 0, 1, 'float32', 1), 1); // all values > 0
          const y = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
          const xs = x.dataSync();
          let dropped = 0;
          for (let i = 0; i < y.length; i++) {
            if (y[i] === 0) dropped++;
            else expect(Math.abs(y[i]! - xs[i]! / (1 - rate))).toBeLessThan(1e-5 * (1 + y[i]!));
          }
          const fraction = dropped / y.length;
          // 100,000 Bernoulli draws: 4 standard deviations.
          expect(Math.abs(fraction - rate)).toBeLessThan(4 * Math.sqrt((rate * (1 - rate)) / y.length));
          x.dispose();
        }
        // Gradient = mask / keep: differentiate y = dropout(x) with respect to x directly.
        const layer = new Dropout({ rate: 0.3 });
        const x = tf.variable(tf.add(tf.randomUniform([200, 30], 0, 1, 'float32', 2), 1));
        let output: Float32Array | undefined;
        const { grads, value } = tf.variableGrads(() => {
          const y = layer.apply(x, { training: true }) as tf.Tensor;
          output = y.dataSync() as Float32Array;
          return tf.sum(y) as tf.Scalar;
        }, [x]);
        const g = grads[x.name]!.dataSync();
        const xs = x.dataSync();
        for (let i = 0; i < g.length; i++) expect(g[i]).toBeCloseTo(output![i]! / xs[i]!, 4);
        tf.dispose([x, value, ...Object.values(grads)]);
      },
    );

    it('draws new noise every call, broadcasts over noiseShape, and is the identity at inference', async () => {
      await initBackend('tensorflow');
      const x = tf.ones([4, 6, 8]);
      const layer = new Dropout({ rate: 0.5, noiseShape: [4, 1, 8] });
      const a = (layer.apply(x, { training: true }) as tf.Tensor).arraySync() as number[][][];
      for (const sample of a) for (const row of sample) expect(row).toEqual(sample[0]); // same mask along axis 1
      const b = (layer.apply(x, { training: true }) as tf.Tensor).arraySync();
      expect(b).not.toEqual(a);
      expect((layer.apply(x, { training: false }) as tf.Tensor).arraySync()).toEqual(x.arraySync());
    });

    it('seedDropoutNoise makes the sequence of masks reproducible; another seed gives other masks', async () => {
      await initBackend('tensorflow');
      const x = tf.ones([20, 30]);
      const layer = new Dropout({ rate: 0.5 });
      const masks = (seed: number | undefined) => {
        seedDropoutNoise(seed);
        return [0, 1].map(() => Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync()));
      };
      const [a1, a2] = masks(5);
      const [b1, b2] = masks(5);
      expect(b1).toEqual(a1);
      expect(b2).toEqual(a2);
      expect(a2).not.toEqual(a1); // successive draws differ
      expect(masks(6)[0]).not.toEqual(a1);
      const [u1] = masks(undefined);
      const [v1] = masks(undefined);
      expect(u1).not.toEqual(v1);
      x.dispose();
    });

    it('train() leaves the dropout drawn after it unseeded', async () => {
      await initBackend('tensorflow');
      const data = new MemoryBatchSource(syntheticGalaxies(16, 16, 1, { votes: 30 }));
      const x = tf.ones([20, 30]);
      const layer = new Dropout({ rate: 0.5 });
      // Two identical training runs: a seed left behind by the last step would make the next masks equal.
      const maskAfterTraining = async () => {
        const model = buildHierarchicalModel({
          inputSize: 16,
          trunk: { kind: 'deep', filters: [4], pooling: 'gap', dense: 8, dropout: 0.5 },
        });
        await train(model, { train: data, epochs: 1, batchSize: 8, seed: 3 });
        model.dispose();
        return Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync());
      };
      expect(await maskAfterTraining()).not.toEqual(await maskAfterTraining());
      x.dispose();
    });

    it('with a seed it is the stock layer: the same output as tf.dropout with that seed', async () => {
      await initBackend('tensorflow');
      const x = tf.randomUniform([10, 20], 0, 1, 'float32', 3);
      const ours = (new Dropout({ rate: 0.4, seed: 7 }).apply(x, { training: true }) as tf.Tensor).dataSync();
      const stock = (tf.layers.dropout({ rate: 0.4, seed: 7 }).apply(x, { training: true }) as tf.Tensor).dataSync();
      expect(Array.from(ours)).toEqual(Array.from(stock));
    });

    it('keeps tf.memory().numTensors constant across training steps, saves as a standard Dropout layer', async () => {
      await initBackend('tensorflow');
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [5], units: 16, activation: 'relu' }),
          new Dropout({ rate: 0.25 }),
          tf.layers.dense({ units: 2 }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(1e-2), loss: 'meanSquaredError' });
      const x = tf.randomNormal([32, 5], 0, 1, 'float32', 4);
      const y = tf.randomNormal([32, 2], 0, 1, 'float32', 5);
      await model.trainOnBatch(x, y);
      const after1 = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) await model.trainOnBatch(x, y);
      expect(tf.memory().numTensors).toBe(after1);
      const dir = await mkdtemp(join(tmpdir(), 'gzh-dropout-'));
      try {
        await saveModel(model, dir);
        const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
          modelTopology: { config: { layers: { class_name: string; config: { rate: number } }[] } };
        };
        expect(json.modelTopology.config.layers[1]).toMatchObject({ class_name: 'Dropout', config: { rate: 0.25 } });
        const { model: loaded } = await loadModel(dir);
        expect(loaded.layers[1]).toBeInstanceOf(Dropout);
        loaded.dispose();
      } finally {
        await rm(dir, { recursive: true, force: true });
        tf.dispose([x, y]);
        model.dispose();
      }
    });
  },
);
