import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ANSWER_COUNT } from '../../src/questions/index.js';
import { buildHierarchicalModel } from '../../src/models/hierarchical.js';
import { splitMemory } from '../../src/train/memory-source.js';
import { evaluate } from '../../src/train/evaluate.js';
import { train } from '../../src/train/trainer.js';
import { computeMetrics } from '../../src/train/metrics.js';
import { EarlyStopping } from '../../src/train/callbacks/index.js';
import { syntheticGalaxies } from './helpers/synthetic.js';

describe('integration: a tiny hierarchical model learns synthetic galaxies', () => {
  it('ends with validation loss below the mean-prediction baseline', async () => {
    const data = syntheticGalaxies(300, 16, 42);
    const { train: trainSet, validation } = splitMemory(data, { validation: 0.2, test: 0, seed: 42 });

    // Baseline: predict the training mean of every answer.
    const mean = new Float64Array(ANSWER_COUNT);
    for await (const b of trainSet.batches({ batchSize: 64, shuffle: false, seed: 0, epoch: 0 })) {
      for (let i = 0; i < b.cumulative.length; i++) mean[i % ANSWER_COUNT] += b.cumulative[i] / trainSet.length;
    }
    const targets: number[] = [];
    for await (const b of validation.batches({ batchSize: 64, shuffle: false, seed: 0, epoch: 0 }))
      targets.push(...b.cumulative);
    const baseline = computeMetrics(
      targets,
      targets.map((_, i) => mean[i % ANSWER_COUNT]),
    );

    const model = buildHierarchicalModel({
      inputSize: 16,
      // No BatchNorm: in a run this short its moving statistics would not settle.
      trunk: { kind: 'deep', filters: [8, 16], pooling: 'flatten', dense: 32, dropout: 0, batchNorm: false },
    });
    const result = await train(model, {
      train: trainSet,
      validation,
      epochs: 3,
      batchSize: 16,
      seed: 7,
      learningRate: 3e-3,
      callbacks: [new EarlyStopping({ patience: 2 })],
    });
    const final = await evaluate(model, validation, { loss: { kind: 'mse' } });
    const best = Math.min(...result.history.map((h) => h.val_loss));
    expect(final.loss).toBeCloseTo(best, 6); // best weights restored
    expect(final.metrics.mse).toBeLessThan(baseline.mse * 0.9);
    expect(final.metrics.r2).toBeGreaterThan(baseline.r2);
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(50);
  }, 240_000);
});
