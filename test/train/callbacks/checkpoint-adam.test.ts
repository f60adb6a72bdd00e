import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackList } from '../../../src/train/callbacks/callback-list.js';
import { restoreCheckpoint, writeCheckpoint } from '../../../src/train/callbacks/checkpoint.js';

const run = { seed: 1, batchSize: 4, epochs: 1, loss: 'mse' };

function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [3] });
  const output = tf.layers
    .dense({ units: 2, kernelInitializer: 'ones', biasInitializer: 'zeros' })
    .apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** `steps` Adam updates of the model towards fixed targets. */
function train(model: tf.LayersModel, optimizer: tf.AdamOptimizer, steps: number): void {
  const x = tf.tensor2d([
    [1, 2, 3],
    [0.5, -1, 2],
  ]);
  const y = tf.tensor2d([
    [1, 0],
    [0, 1],
  ]);
  for (let i = 0; i < steps; i++)
    optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar);
  tf.dispose([x, y]);
}

const powers = (o: tf.AdamOptimizer) => {
  const f = o as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  return [f.accBeta1.dataSync()[0], f.accBeta2.dataSync()[0]];
};

describe('checkpoint: Adam resumes bit for bit', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'gzh-ckpt-adam-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("restores Adam's running β powers, so training on gives the uninterrupted weights exactly", async () => {
    const steps = 150;
    const reference = tinyModel();
    const refOptimizer = tf.train.adam(0.01);
    train(reference, refOptimizer, 2 * steps);

    const first = tinyModel();
    const optimizer = tf.train.adam(0.01);
    train(first, optimizer, steps);
    const state = {
      run,
      position: { epoch: 0, batch: steps },
      epochProgress: { lossSum: 0, samples: 0, seconds: 0 },
      learningRate: 0.01,
      stopped: false,
      history: [],
    };
    await writeCheckpoint(dir, first, optimizer, state, {});
    const saved = powers(optimizer);

    const resumed = tinyModel();
    const resumedOptimizer = tf.train.adam(0.01);
    await restoreCheckpoint(dir, resumed, resumedOptimizer, new CallbackList(), run);
    expect(powers(resumedOptimizer)).toEqual(saved);
    train(resumed, resumedOptimizer, steps);
    const a = reference.getWeights().map((w) => Array.from(w.dataSync()));
    const b = resumed.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    for (const m of [reference, first, resumed]) m.dispose();
    for (const o of [refOptimizer, optimizer, resumedOptimizer]) o.dispose();
  });
});
