import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHierarchicalModel } from '../../src/models/hierarchical.js';
import { buildPerQuestionModel } from '../../src/models/per-question.js';
import { buildFlatModel } from '../../src/models/flat.js';
import { MemoryBatchSource, splitMemory } from '../../src/train/memory-source.js';
import { evaluate } from '../../src/train/evaluate.js';
import { train } from '../../src/train/trainer.js';
import { CsvLogger, EarlyStopping, LearningRateScheduler, readCheckpoint } from '../../src/train/callbacks/index.js';
import { syntheticGalaxies } from './helpers/synthetic.js';
import { InterruptedError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gzh-trainer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = syntheticGalaxies(48, 16, 1, { votes: 30 });
const { train: trainSet, validation } = splitMemory(data, { validation: 0.25, test: 0, seed: 5 });

/** Small deterministic model (no dropout) so two runs can be compared bit for bit. */
const tiny = () =>
  buildHierarchicalModel({
    inputSize: 16,
    trunk: { kind: 'deep', filters: [4, 8], pooling: 'gap', dense: 8, dropout: 0 },
  });

describe('MemoryBatchSource', () => {
  it('shuffles as a function of (seed, epoch) and skips whole batches', async () => {
    const ids = async (epoch: number, skip = 0) => {
      const out: string[][] = [];
      for await (const b of trainSet.batches({ batchSize: 8, shuffle: true, seed: 3, epoch, skipBatches: skip }))
        out.push([...b.ids]);
      return out;
    };
    const a = await ids(0);
    expect(await ids(0)).toEqual(a);
    expect(await ids(1)).not.toEqual(a);
    expect(await ids(0, 2)).toEqual(a.slice(2));
    expect(a.flat().length).toBe(trainSet.length);
    expect(new Set(a.flat()).size).toBe(trainSet.length);
    expect(trainSet.hasCounts).toBe(true);
    expect(() => new MemoryBatchSource({ ...data, cumulative: new Float32Array(37) })).toThrow(/galaxies/);
  });
});

describe('train', () => {
  it('trains a tree model, logs validation metrics, and keeps tensor count constant across epochs', async () => {
    const model = tiny();
    const counts: number[] = [];
    const progress: number[] = [];
    const result = await train(model, {
      train: trainSet,
      validation,
      epochs: 4,
      batchSize: 8,
      seed: 1,
      conditionalMetrics: true,
      onProgress: (p) => progress.push(p.etaSeconds),
      callbacks: [{ name: 'memory', onEpochEnd: () => void counts.push(tf.memory().numTensors) }],
    });
    expect(result.history.length).toBe(4);
    const logs = result.history[3];
    for (const key of [
      'loss',
      'val_loss',
      'val_rmse',
      'val_r2',
      'val_r2_answers',
      'val_rmse_q1',
      'val_cond_rmse',
      'lr',
    ]) {
      expect(logs[key], key).toBeTypeOf('number');
    }
    expect(logs.val_loss).toBeCloseTo(logs.val_mse, 6);
    expect(progress.length).toBe(4 * Math.ceil(trainSet.length / 8));
    // Adam's moments are created during the first epoch; afterwards nothing may accumulate.
    expect(counts[1]).toBe(counts[2]);
    expect(counts[2]).toBe(counts[3]);
    model.dispose();
  });

  it('trains the per-question model with reach-weighted cross-entropy and a tree model with the DM loss', async () => {
    const pq = buildPerQuestionModel({ inputSize: 16, branch: { filters: [2], dense: 0, dropout: 0 } });
    const ce = await train(pq, {
      train: trainSet,
      validation,
      epochs: 1,
      batchSize: 12,
      seed: 2,
      loss: { kind: 'cross-entropy' },
    });
    expect(ce.history[0].val_loss).toBeGreaterThan(0);
    pq.dispose();
    const model = tiny();
    const dm = await train(model, {
      train: trainSet,
      validation,
      epochs: 1,
      batchSize: 12,
      seed: 2,
      loss: { kind: 'dirichlet-multinomial', concentration: 10 },
    });
    expect(Number.isFinite(dm.history[0].val_loss)).toBe(true);
    model.dispose();
  });

  it('refuses per-question losses for the flat model', async () => {
    const flat = buildFlatModel({ inputSize: 24 });
    const src = new MemoryBatchSource(syntheticGalaxies(4, 24, 2));
    await expect(
      train(flat, { train: src, epochs: 1, batchSize: 4, seed: 1, loss: { kind: 'cross-entropy' } }),
    ).rejects.toThrow(/DecisionTreeLayer/);
    const r = await train(flat, { train: src, epochs: 1, batchSize: 4, seed: 1 });
    expect(r.history.length).toBe(1);
    flat.dispose();
  });

  it('passes batch index and epoch to the augmentation hook; validation uses prepare', async () => {
    const model = tiny();
    const seen: string[] = [];
    let prepared = 0;
    await train(model, {
      train: trainSet,
      validation,
      epochs: 2,
      batchSize: 16,
      seed: 1,
      augment: (x, b, e) => {
        seen.push(`${e}:${b}`);
        return tf.reverse(x, 2);
      },
      prepare: (x) => {
        prepared++;
        return x;
      },
    });
    expect(seen).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2']);
    expect(prepared).toBe(2 * Math.ceil(validation.length / 16));
    model.dispose();
  });

  it('stops when the time budget is spent, finishing the epoch with validation', async () => {
    const model = tiny();
    let batches = 0;
    const result = await train(model, {
      train: trainSet,
      validation,
      epochs: 3,
      batchSize: 4,
      seed: 1,
      maxSeconds: 0.5,
      onBatchEnd: async () => {
        batches++;
        await new Promise((r) => setTimeout(r, 200));
      },
    });
    expect(result.stopReason).toBe('time-budget');
    expect(result.history.length).toBe(1);
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(Math.ceil(trainSet.length / 4));
    expect(result.history[0].val_loss).toBeGreaterThan(0);
    expect(result.seconds).toBeGreaterThanOrEqual(0.5);
    model.dispose();
  });

  it('early stopping watches validation loss and restores the best weights', async () => {
    const model = tiny();
    const es = new EarlyStopping({ patience: 1 });
    // A validation loss that rises after epoch 1 (faked through a callback before early stopping).
    const fake = [0.5, 0.3, 0.4, 0.45, 0.5];
    let bestWeights: number[] = [];
    const result = await train(model, {
      train: trainSet,
      validation,
      epochs: 5,
      batchSize: 16,
      seed: 1,
      callbacks: [
        {
          name: 'fake',
          onEpochEnd: (epoch, logs, ctx) => {
            logs.val_loss = fake[epoch];
            if (epoch === 1) bestWeights = Array.from(ctx.model.getWeights()[0].dataSync());
          },
        },
        es,
      ],
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.stopReason).toBe('early-stopping');
    expect(result.history.length).toBe(3);
    expect(es.bestEpoch).toBe(1);
    expect(Array.from(model.getWeights()[0].dataSync())).toEqual(bestWeights);
    model.dispose();
  });

  it('resumes from a mid-epoch checkpoint exactly as an uninterrupted run', async () => {
    const options = { train: trainSet, validation, epochs: 3, batchSize: 8, seed: 4 } as const;
    const reference = tiny();
    const initial = reference.getWeights().map((w) => tf.clone(w));
    const full = await train(reference, { ...options, checkpoint: { dir: join(dir, 'ref') } });

    const ckptDir = join(dir, 'interrupted');
    const csv = join(dir, 'interrupted.csv');
    const first = tiny();
    first.setWeights(initial); // the same start as the reference run
    tf.dispose(initial);
    await expect(
      train(first, {
        ...options,
        checkpoint: { dir: ckptDir, everyBatches: 2 },
        callbacks: [new CsvLogger(csv), new EarlyStopping({ patience: 10 })],
        onBatchEnd: ({ epoch, batchIndex }) => {
          if (epoch === 1 && batchIndex === 2) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    first.dispose();
    const saved = await readCheckpoint(ckptDir);
    expect(saved?.state.position).toEqual({ epoch: 1, batch: 2 });
    if (saved) tf.dispose([...saved.modelWeights, ...saved.optimizerWeights.map((w) => w.tensor)]);

    const resumedModel = tiny(); // fresh random weights: all state comes from the checkpoint
    const batches: string[] = [];
    const resumed = await train(resumedModel, {
      ...options,
      checkpoint: { dir: ckptDir, everyBatches: 2 },
      callbacks: [new CsvLogger(csv), new EarlyStopping({ patience: 10 })],
      onBatchEnd: ({ epoch, batchIndex }) => void batches.push(`${epoch}:${batchIndex}`),
    });
    expect(resumed.resumedFrom).toEqual({ epoch: 1, batch: 2 });
    expect(batches[0]).toBe('1:2');
    expect(resumed.history.length).toBe(3);
    const a = reference.getWeights().map((w) => Array.from(w.dataSync()));
    const b = resumedModel.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    resumed.history.forEach((h, i) => {
      expect(h.loss).toBeCloseTo(full.history[i].loss, 6);
      expect(h.val_loss).toBeCloseTo(full.history[i].val_loss, 6);
    });
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines.length).toBe(1 + 3);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['0', '1', '2']);
    const evalAgain = await evaluate(resumedModel, validation, { loss: { kind: 'mse' } });
    expect(evalAgain.loss).toBeCloseTo(resumed.history[2].val_loss, 6);
    reference.dispose();
    resumedModel.dispose();
  });
});

describe('train: stopped by a signal', () => {
  it(
    'checkpoints the batch reached and rejects with InterruptedError; ' + 'the resume equals an uninterrupted run',
    async () => {
      const options = { train: trainSet, epochs: 2, batchSize: 8, seed: 6 } as const;
      const reference = tiny();
      const initial = reference.getWeights().map((w) => tf.clone(w));
      await train(reference, options);
      const first = tiny();
      first.setWeights(initial);
      tf.dispose(initial);
      const stop = new AbortController();
      const ckptDir = join(dir, 'signal');
      await expect(
        train(first, {
          ...options,
          checkpoint: { dir: ckptDir, everySeconds: 3600 },
          signal: stop.signal,
          onBatchEnd: ({ epoch, batchIndex }) => {
            if (epoch === 0 && batchIndex === 1) stop.abort();
          },
        }),
      ).rejects.toThrow(InterruptedError);
      first.dispose();
      const saved = await readCheckpoint(ckptDir);
      expect(saved?.state.position).toEqual({ epoch: 0, batch: 2 });
      if (saved) tf.dispose([...saved.modelWeights, ...saved.optimizerWeights.map((w) => w.tensor)]);
      const resumed = tiny();
      const result = await train(resumed, { ...options, checkpoint: { dir: ckptDir } });
      expect(result.resumedFrom).toEqual({ epoch: 0, batch: 2 });
      expect(resumed.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(
        reference.getWeights().map((w) => Array.from(w.dataSync())),
      );
      reference.dispose();
      resumed.dispose();
    },
  );

  it('a stop requested from the event loop (a signal handler) is seen at the next batch', async () => {
    const stop = new AbortController();
    const model = tiny();
    const ckptDir = join(dir, 'signal-handler');
    await expect(
      train(model, {
        train: trainSet,
        epochs: 2,
        batchSize: 8,
        seed: 6,
        checkpoint: { dir: ckptDir, everySeconds: 3600 },
        signal: stop.signal,
        // as a process.on('SIGINT') handler does: it runs when the event loop gets a turn
        onBatchEnd: ({ epoch, batchIndex }) =>
          void (epoch === 0 && batchIndex === 0 && setImmediate(() => stop.abort())),
      }),
    ).rejects.toThrow(/training stopped at batch 1 of epoch 1/);
    model.dispose();
    const saved = await readCheckpoint(ckptDir);
    expect(saved?.state.position).toEqual({ epoch: 0, batch: 1 });
    if (saved) tf.dispose([...saved.modelWeights, ...saved.optimizerWeights.map((w) => w.tensor)]);
  });
});

describe('per-question training', () => {
  it('only the branches of questions the votes reached learn (reach-weighted loss)', async () => {
    // Stars: all votes on "star or artifact"; only Q1 and (Kaggle quirk) Q6 are reached.
    const n = 4;
    const cumulative = new Float32Array(n * 37);
    for (let r = 0; r < n; r++) {
      cumulative[r * 37 + 2] = 1; // Class1.3
      cumulative[r * 37 + 14] = 1; // Class6.2 ("nothing odd"): Q6 sums to 1 in the Kaggle data
    }
    const source = new MemoryBatchSource({
      images: syntheticGalaxies(n, 16, 3).images,
      shape: [16, 16, 1],
      cumulative,
    });
    for (const kind of ['cross-entropy', 'conditional-mse'] as const) {
      const model = buildPerQuestionModel({ inputSize: 16, branch: { filters: [2], dense: 4, dropout: 0 } });
      const before = new Map(model.trainableWeights.map((w) => [w.name, Array.from(w.read().dataSync())]));
      await train(model, {
        train: source,
        epochs: 1,
        batchSize: n,
        seed: 1,
        loss: { kind },
        optimizer: tf.train.sgd(0.5),
      });
      const changed = new Set<string>();
      for (const w of model.trainableWeights) {
        const after = Array.from(w.read().dataSync());
        if (after.some((v, i) => v !== before.get(w.name)?.[i])) changed.add(w.name.split('_')[0]);
      }
      expect([...changed].sort(), kind).toEqual(['q1', 'q6']);
      model.dispose();
    }
  });
});

describe('train: optimizers, monitors and bad input', () => {
  // trainable weights only: BatchNorm's moving statistics move with every training-mode forward pass
  const weightsOf = (model: tf.LayersModel) => model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
  const maxChange = (a: number[][], b: number[][]) =>
    Math.max(...a.map((w, i) => Math.max(...w.map((v, k) => Math.abs(v - b[i][k])))));

  it('applies learning-rate changes to SGD and momentum optimizers too', async () => {
    for (const make of [() => tf.train.sgd(0.5), () => tf.train.momentum(0.5, 0.9)]) {
      const model = tiny();
      const before = weightsOf(model);
      const optimizer = make();
      const result = await train(model, {
        train: trainSet,
        epochs: 1,
        batchSize: 8,
        seed: 1,
        optimizer,
        callbacks: [new LearningRateScheduler(() => 1e-9)],
      });
      expect(result.history[0].lr).toBe(1e-9);
      expect(maxChange(weightsOf(model), before)).toBeLessThan(1e-6);
      optimizer.dispose();
      model.dispose();
    }
  });

  it('watches R² monitors upwards, and a reused callback starts afresh in each train()', async () => {
    const stopping = new EarlyStopping({ monitor: 'val_r2', patience: 1, restoreBestWeights: false });
    expect(stopping.direction).toBe(1);
    expect(new EarlyStopping({ monitor: 'val_r2', mode: 'min' }).direction).toBe(-1);
    expect(new EarlyStopping({ monitor: 'val_rmse' }).direction).toBe(-1);
    for (let run = 0; run < 2; run++) {
      const model = tiny();
      const result = await train(model, {
        train: trainSet,
        validation,
        epochs: 3,
        batchSize: 8,
        seed: 2 + run,
        callbacks: [stopping],
      });
      const r2 = result.history.map((h) => h.val_r2 as number);
      expect(stopping.best).toBe(Math.max(...r2.slice(0, stopping.bestEpoch + 1)));
      expect(stopping.bestEpoch).toBe(r2.indexOf(stopping.best));
      model.dispose();
    }
  });

  it('refuses empty data, images of another size and models without 37 outputs, before training', async () => {
    const empty = new MemoryBatchSource({
      images: new Uint8Array(0),
      shape: [16, 16, 1],
      cumulative: new Float32Array(0),
    });
    await expect(train(tiny(), { train: empty, epochs: 1, batchSize: 8, seed: 1 })).rejects.toThrow(
      /the train data is empty/,
    );
    await expect(
      train(tiny(), { train: trainSet, validation: empty, epochs: 1, batchSize: 8, seed: 1 }),
    ).rejects.toThrow(/the train data is empty/);
    const big = buildHierarchicalModel({
      inputSize: 20,
      trunk: { kind: 'deep', filters: [4], pooling: 'gap', dense: 8, dropout: 0 },
    });
    await expect(train(big, { train: trainSet, epochs: 1, batchSize: 8, seed: 1 })).rejects.toThrow(
      /the model takes 20×20×1 images but the train data has 16×16×1/,
    );
    const ten = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [16, 16, 1] }), tf.layers.dense({ units: 10 })],
    });
    await expect(train(ten, { train: trainSet, epochs: 1, batchSize: 8, seed: 1 })).rejects.toThrow(
      /one output of 37 values/,
    );
    await expect(
      train(tiny(), { train: trainSet, epochs: 1, batchSize: 8, seed: 1, learningRate: -1 }),
    ).rejects.toThrow(/learningRate must be a positive number, got -1/);
    const nan = Float32Array.from(data.cumulative);
    nan[5] = Number.NaN;
    expect(() => new MemoryBatchSource({ ...data, cumulative: nan })).toThrow(
      /cumulative target 5 of galaxy .* is NaN: targets are vote fractions in \[0, 1\]/,
    );
  });

  it('a non-finite loss leaves the weights as they were, and a failed train() frees its optimizer', async () => {
    const model = tiny();
    const before = weightsOf(model);
    const tensors = tf.memory().numTensors;
    await expect(
      train(model, {
        train: trainSet,
        epochs: 1,
        batchSize: 8,
        seed: 1,
        loss: { kind: 'dirichlet-multinomial', concentration: -5 },
      }),
    ).rejects.toThrow(/training loss is NaN at epoch 0, batch 0; the weights were not updated/);
    expect(maxChange(weightsOf(model), before)).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  it('logs no epoch when the time budget is already spent', async () => {
    const model = tiny();
    const result = await train(model, { train: trainSet, validation, epochs: 3, batchSize: 8, seed: 1, maxSeconds: 0 });
    expect(result.epochsCompleted).toBe(0);
    expect(result.stopReason).toBe('time-budget');
    model.dispose();
  });
});
