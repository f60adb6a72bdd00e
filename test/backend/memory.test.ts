/**
 * No tensor leaks: `tf.memory().numTensors` is the same after 100 training steps as after the
 * first, on every available backend (native skipped, with the reason, where it does not load).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/backend/native.js';
import { initBackend, type BackendName } from '../../src/backend/select.js';

/**
 * The seed model's layer types (fused conv+relu, max-pool, dropout, dense, sigmoid, Adam + MSE)
 * at a size the pure-JS cpu backend trains 100 steps of quickly.
 */
function smallModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.dropout({ rate: 0.2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 16, activation: 'relu' }));
  model.add(tf.layers.dropout({ rate: 0.2 }));
  model.add(tf.layers.dense({ units: 37, activation: 'sigmoid' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  return model;
}

const nativeError = await loadNative().then(
  () => '',
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);

async function stepsKeepTensorCount(name: BackendName): Promise<void> {
  await initBackend(name);
  const model = smallModel();
  const x = tf.randomUniform([4, 12, 12, 1]);
  const y = tf.randomUniform([4, 37]);
  await model.trainOnBatch(x, y); // first step creates the optimizer's slots
  const after1 = tf.memory().numTensors;
  const losses: number[] = [];
  for (let i = 0; i < 99; i++) {
    const loss = (await model.trainOnBatch(x, y)) as number;
    losses.push(loss);
  }
  expect(tf.memory().numTensors).toBe(after1);
  expect(losses.every(Number.isFinite)).toBe(true);
  model.dispose();
  x.dispose();
  y.dispose();
}

describe('tf.memory().numTensors is constant across 100 training steps', () => {
  it.skipIf(nativeError !== '')(`tensorflow (native)${nativeError ? ` — skipped: ${nativeError}` : ''}`, async () => {
    await stepsKeepTensorCount('tensorflow');
  });
  it('wasm', async () => {
    await stepsKeepTensorCount('wasm');
  });
  it('cpu', async () => {
    await stepsKeepTensorCount('cpu');
  });
});

describe('seed model', () => {
  it('is the seed Keras architecture', async () => {
    await initBackend('cpu');
    const { buildFlatModel } = await import('../../src/models/flat.js');
    const model = buildFlatModel({ inputSize: 106 });
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D',
      'MaxPooling2D',
      'Conv2D',
      'MaxPooling2D',
      'Conv2D',
      'MaxPooling2D',
      'Dropout',
      'Flatten',
      'Dense',
      'Dropout',
      'Dense',
      'Dense',
    ]);
    expect(model.outputs[0].shape).toEqual([null, 37]);
    // 320 + 18496 + 73856 + (11·11·128·128 + 128) + 8256 + 2405
    expect(model.countParams()).toBe(320 + 18496 + 73856 + 1982592 + 8256 + 2405);
    model.dispose();
  });
});
