import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CsvLogger,
  LearningRateScheduler,
  ReduceLROnPlateau,
  cosineDecay,
  stepDecay,
  type TrainerContext,
} from '../../src/train/callbacks/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gzh-callbacks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function context(lr = 0.01): TrainerContext {
  let current = lr;
  return {
    model: null as unknown as tf.LayersModel,
    optimizer: null as unknown as tf.Optimizer,
    epochs: 100,
    baseLearningRate: lr,
    resumed: false,
    getLearningRate: () => current,
    setLearningRate: (v) => void (current = v),
    stopTraining: false,
  };
}

describe('learning-rate schedules', () => {
  it("step decay is the seed's ×0.8 every 10 epochs", () => {
    const s = stepDecay();
    expect(s(0, 1)).toBe(1);
    expect(s(9, 1)).toBe(1);
    expect(s(10, 1)).toBeCloseTo(0.8, 12);
    expect(s(25, 1)).toBeCloseTo(0.64, 12);
  });

  it('cosine decays from the base to the minimum', () => {
    const s = cosineDecay({ epochs: 10, minLearningRate: 0.1 });
    expect(s(0, 1)).toBeCloseTo(1, 12);
    expect(s(5, 1)).toBeCloseTo(0.55, 12);
    expect(s(10, 1)).toBeCloseTo(0.1, 12);
    const warm = cosineDecay({ epochs: 10, warmupEpochs: 1 });
    expect(warm(0, 1)).toBeCloseTo(0.5, 12);
    expect(warm(1, 1)).toBeCloseTo(1, 12);
  });

  it('the scheduler sets the rate at each epoch start', () => {
    const ctx = context(1);
    new LearningRateScheduler(stepDecay({ factor: 0.5, every: 2 })).onEpochBegin(4, ctx);
    expect(ctx.getLearningRate()).toBeCloseTo(0.25, 12);
  });
});

describe('ReduceLROnPlateau', () => {
  it('reduces after patience epochs without improvement, respecting cooldown and the minimum', () => {
    const ctx = context(0.01);
    const cb = new ReduceLROnPlateau({ patience: 2, factor: 0.5, cooldown: 1, minLearningRate: 0.003 });
    const losses = [1, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
    const rates = losses.map((v, e) => {
      cb.onEpochEnd(e, { val_loss: v }, ctx);
      return ctx.getLearningRate();
    });
    expect(rates).toEqual([0.01, 0.01, 0.01, 0.005, 0.005, 0.003, 0.003, 0.003]); // as Keras: cooldown resets the wait
    const restored = new ReduceLROnPlateau({ patience: 2 });
    restored.setState(JSON.parse(JSON.stringify(cb.getState())));
    expect(restored.best).toBe(0.9);
    expect(() => cb.onEpochEnd(9, { loss: 1 }, ctx)).toThrow(/val_loss/);
  });
});

describe('CsvLogger', () => {
  it('starts fresh, and on resume keeps only the rows its checkpoint covers before appending', () => {
    const path = join(dir, 'sub', 'log.csv');
    const a = new CsvLogger(path);
    a.onTrainBegin();
    a.onEpochEnd(0, { epoch: 0, loss: 0.5, val_loss: 0.25 });
    const state = JSON.parse(JSON.stringify(a.getState()));
    a.onEpochEnd(1, { epoch: 1, loss: 0.4, val_loss: Number.NaN }); // written after the checkpoint: must go
    const b = new CsvLogger(path);
    b.setState(state);
    b.onTrainBegin();
    b.onEpochEnd(1, { epoch: 1, loss: 0.3, val_loss: 0.2 });
    expect(readFileSync(path, 'utf8')).toBe('epoch,loss,val_loss\n0,0.5,0.25\n1,0.3,0.2\n');
    writeFileSync(path, 'junk\n');
    const c = new CsvLogger(path);
    c.onTrainBegin();
    c.onEpochEnd(0, { epoch: 0 });
    expect(readFileSync(path, 'utf8')).toBe('epoch\n0\n');
  });
});
