/**
 * Custom training loop over a streaming BatchSource: one train step function (forward, loss,
 * gradients, optimizer update) per batch, epoch-end validation metrics, callbacks, atomic
 * checkpoints (also inside epochs) and exact resume after the process is killed.
 */
import * as tf from '@tensorflow/tfjs';
import { seedDropoutNoise } from '../backend/native-dropout.js';
import { Random } from '../util/random.js';
import type { Batch, BatchSource } from '../data/batch.js';
import { ANSWER_COUNT, type Q6Reach } from '../questions/index.js';
import { findTreeLayer } from '../models/decision-tree-layer.js';
import { cumulativeFromConditional } from '../models/tree-ops.js';
import {
  computeLoss,
  lossNeedsConditional,
  lossNeedsCounts,
  type LossPredictions,
  type LossSpec,
  type LossTargets,
} from './losses.js';
import { imagesToTensor } from './images.js';
import { MetricsAccumulator, metricsToLogs, type RegressionMetrics } from './metrics.js';
import { readCheckpoint, writeCheckpoint, type CheckpointOptions, type TrainingPosition } from './callbacks/checkpoint.js';
import type { Callback, CallbackState, EpochLogs, TrainerContext } from './callbacks/types.js';

/** Training-time image transform (e.g. `Augmenter.apply`): float [0, 1] NHWC in, NHWC out. */
export type AugmentHook = (images: tf.Tensor4D, batchIndex: number, epoch: number) => tf.Tensor4D;
/** Deterministic evaluation-time transform (e.g. a centre crop): float [0, 1] NHWC in, NHWC out. */
export type PrepareHook = (images: tf.Tensor4D) => tf.Tensor4D;

export interface TrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** Batches of this epoch done. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  /** Running mean training loss of this epoch. */
  readonly loss: number;
  /** Training throughput since this process started training. */
  readonly samplesPerSecond: number;
  /** Estimated seconds until the last epoch's training batches are done (validation not included). */
  readonly etaSeconds: number;
}

export interface BatchInfo {
  readonly epoch: number;
  readonly batchIndex: number;
  readonly ids: readonly string[];
  readonly loss: number;
}

export interface TrainOptions {
  readonly train: BatchSource;
  /** Validation split: its loss (`val_loss`) and metrics are computed every epoch. */
  readonly validation?: BatchSource;
  readonly epochs: number;
  readonly batchSize: number;
  /** Seeds batch order (and augmentation, through the hook's batchIndex/epoch). */
  readonly seed: number;
  /** Default: `{ kind: 'mse' }` on the cumulative outputs. */
  readonly loss?: LossSpec;
  /** Adam learning rate when no optimizer is given (default 1e-3). */
  readonly learningRate?: number;
  /** Default: a fresh `tf.train.adam(learningRate)` (restored from the checkpoint on resume). */
  readonly optimizer?: tf.Optimizer;
  /** Applied to training images (falls back to `prepare` when absent). */
  readonly augment?: AugmentHook;
  /** Applied to validation images (and training images when there is no `augment`). */
  readonly prepare?: PrepareHook;
  readonly callbacks?: readonly Callback[];
  readonly checkpoint?: CheckpointOptions;
  readonly onProgress?: (progress: TrainProgress) => void;
  /** Called after every training batch (after its update, before any checkpoint of it). */
  readonly onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  /** Also log metrics on the conditional outputs (`val_cond_*`), for models with a tree layer. */
  readonly conditionalMetrics?: boolean;
  /** Batch size for validation (default: batchSize). */
  readonly evalBatchSize?: number;
  /**
   * Training-time budget in seconds, counted across resumes: once spent, the current epoch ends
   * early (its validation still runs) and training stops. For same-time model comparisons.
   */
  readonly maxSeconds?: number;
}

/** Why training ended. */
export type StopReason = 'completed' | 'early-stopping' | 'time-budget';

export interface TrainResult {
  readonly history: readonly EpochLogs[];
  /** Epochs completed in total (including those before a resume). */
  readonly epochsCompleted: number;
  readonly stoppedEarly: boolean;
  readonly stopReason: StopReason;
  /** Seconds spent training (epochs and their validation), across resumes. */
  readonly seconds: number;
  /** Where the run started: non-zero after a resume. */
  readonly resumedFrom: TrainingPosition | null;
}

/** How a model is run during training and evaluation. */
export interface ModelView {
  /** The model whose output is trained on: the model itself, or its sub-model up to the tree layer. */
  readonly net: tf.LayersModel;
  /** Whether `net` returns per-question conditional distributions (tree models). */
  readonly conditional: boolean;
  readonly q6Reach: Q6Reach;
}

/**
 * For a model ending in a DecisionTreeLayer, a view of the same layers (same weights) that outputs
 * the per-question conditional distributions; cumulative outputs are then derived with the same
 * tree arithmetic, so one forward pass feeds both MSE and the per-question losses. Other models
 * (the flat seed model) are used as they are, with cumulative outputs only.
 */
export function modelView(model: tf.LayersModel): ModelView {
  const tree = findTreeLayer(model);
  if (!tree) return { net: model, conditional: false, q6Reach: 'kaggle' };
  const input = tree.input;
  if (Array.isArray(input)) throw new Error('DecisionTreeLayer must have exactly one input');
  return { net: tf.model({ inputs: model.inputs, outputs: input }), conditional: true, q6Reach: tree.q6Reach };
}

/** Runs the view: cumulative predictions, plus conditional ones for tree models. */
export function forward(view: ModelView, images: tf.Tensor4D, training: boolean): LossPredictions {
  const out = view.net.apply(images, { training }) as tf.Tensor2D;
  return view.conditional ? { conditional: out, cumulative: cumulativeFromConditional(out, view.q6Reach) } : { cumulative: out };
}

export { imagesToTensor } from './images.js';

function targetsOf(batch: Batch, counts: boolean): LossTargets {
  const shape: [number, number] = [batch.size, ANSWER_COUNT];
  return {
    cumulative: tf.tensor2d(batch.cumulative, shape),
    conditional: tf.tensor2d(batch.conditional, shape),
    ...(counts && batch.counts ? { counts: tf.tensor2d(batch.counts, shape) } : {}),
  };
}

/**
 * Plain errors for data a model cannot take: an empty split, a model without 37 outputs, images of
 * another size or channel count (smaller network inputs are fine when `cropped`: an augment or
 * prepare hook cuts them out of the source images).
 */
export function checkModelAndData(net: tf.LayersModel, source: BatchSource, cropped: boolean): void {
  if (source.length === 0) throw new RangeError(`the ${source.split} data is empty`);
  const out = net.outputs[0]?.shape;
  const width = out?.[out.length - 1];
  if (net.outputs.length !== 1 || width !== ANSWER_COUNT) {
    throw new RangeError(`the model must have one output of ${ANSWER_COUNT} values (the Galaxy Zoo answers), got [${out?.join(', ')}]`);
  }
  const input = net.inputs[0]?.shape;
  const [h, w, c] = source.shape;
  if (input && input.length === 4) {
    const [, ih, iw, ic] = input;
    const fits = ic === c && (cropped ? (ih ?? 0) <= h && (iw ?? 0) <= w : ih === h && iw === w);
    if (!fits) {
      throw new RangeError(
        `the model takes ${ih}×${iw}×${ic} images but the ${source.split} data has ${h}×${w}×${c}${cropped ? '' : ' (without an augment or prepare hook to crop them)'}`,
      );
    }
  }
}

export interface EvaluateOptions {
  readonly batchSize?: number;
  readonly prepare?: PrepareHook;
  /** Also compute this loss (mean over galaxies). */
  readonly loss?: LossSpec;
  /** Also compute metrics on the conditional outputs (tree models only). */
  readonly conditionalMetrics?: boolean;
}

export interface EvaluationResult {
  readonly loss?: number;
  /** Metrics on the cumulative outputs. */
  readonly metrics: RegressionMetrics;
  readonly conditionalMetrics?: RegressionMetrics;
}

/** Streams a split through the model (inference mode) and accumulates loss and metrics. */
export async function evaluate(
  model: tf.LayersModel | ModelView,
  source: BatchSource,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const view = 'net' in model ? model : modelView(model);
  checkModelAndData(view.net, source, options.prepare !== undefined);
  const cumulative = new MetricsAccumulator();
  const conditional = options.conditionalMetrics && view.conditional ? new MetricsAccumulator() : null;
  const counts = options.loss ? lossNeedsCounts(options.loss) : false;
  let lossSum = 0;
  for await (const batch of source.batches({ batchSize: options.batchSize ?? 64, shuffle: false, seed: 0, epoch: 0 })) {
    const outputs = tf.tidy(() => {
      const raw = imagesToTensor(batch, source.shape);
      const x = options.prepare ? options.prepare(raw) : raw;
      const out = forward(view, x, false);
      return {
        pred: out.cumulative,
        ...(conditional && out.conditional ? { cond: out.conditional } : {}),
        ...(options.loss ? { loss: computeLoss(options.loss, out, targetsOf(batch, counts)) } : {}),
      } as { pred: tf.Tensor; cond?: tf.Tensor; loss?: tf.Tensor };
    });
    cumulative.update(batch.cumulative, outputs.pred.dataSync(), batch.size);
    if (conditional && outputs.cond) conditional.update(batch.conditional, outputs.cond.dataSync(), batch.size);
    if (outputs.loss) lossSum += outputs.loss.dataSync()[0] * batch.size;
    tf.dispose(Object.values(outputs));
  }
  return {
    ...(options.loss ? { loss: lossSum / cumulative.count } : {}),
    metrics: cumulative.result(),
    ...(conditional ? { conditionalMetrics: conditional.result() } : {}),
  };
}

/** Cumulative predictions for every galaxy of a split, batch by batch, in split order. */
export async function* predictBatches(
  model: tf.LayersModel,
  source: BatchSource,
  options: { batchSize?: number; prepare?: PrepareHook } = {},
): AsyncGenerator<{ ids: readonly string[]; cumulative: Float32Array }> {
  const view = modelView(model);
  for await (const batch of source.batches({ batchSize: options.batchSize ?? 64, shuffle: false, seed: 0, epoch: 0 })) {
    const pred = tf.tidy(() => {
      const raw = imagesToTensor(batch, source.shape);
      return forward(view, options.prepare ? options.prepare(raw) : raw, false).cumulative;
    });
    const values = pred.dataSync() as Float32Array;
    pred.dispose();
    yield { ids: batch.ids, cumulative: values };
  }
}

/**
 * Training and evaluation hooks from an augmenter with `apply(images, batchIndex, epoch)` (random,
 * seeded by batch and epoch) and `evaluate(images)` (its deterministic centre crop).
 */
export function augmenterHooks(augmenter: {
  apply(images: tf.Tensor4D, batchIndex: number, epoch: number): tf.Tensor4D;
  evaluate(images: tf.Tensor4D): tf.Tensor4D;
}): { augment: AugmentHook; prepare: PrepareHook } {
  return {
    augment: (images, batchIndex, epoch) => augmenter.apply(images, batchIndex, epoch),
    prepare: (images) => augmenter.evaluate(images),
  };
}

function getLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof lr !== 'number') throw new Error(`${optimizer.getClassName()} has no numeric learningRate`);
  return lr;
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  if (!(lr > 0) || !Number.isFinite(lr)) throw new RangeError(`learning rate must be a positive number, got ${lr}`);
  getLearningRate(optimizer); // validates the optimizer has one
  // SGD and Momentum apply a cached scalar that only their own setLearningRate replaces.
  const own = (optimizer as unknown as { setLearningRate?: (lr: number) => void }).setLearningRate;
  if (typeof own === 'function') own.call(optimizer, lr);
  else (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/** Trains `model` in place. See TrainOptions; returns the epoch history. */
export async function train(model: tf.LayersModel, options: TrainOptions): Promise<TrainResult> {
  const { train: source, epochs, batchSize, seed } = options;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`epochs must be a non-negative integer, got ${epochs}`);
  const loss: LossSpec = options.loss ?? { kind: 'mse' };
  const view = modelView(model);
  if (lossNeedsConditional(loss) && !view.conditional) {
    throw new Error(`the ${loss.kind} loss needs a model ending in a DecisionTreeLayer (per-question outputs)`);
  }
  for (const split of [source, options.validation]) {
    if (split && lossNeedsCounts(loss) && !split.hasCounts) {
      throw new Error(`the ${loss.kind} loss needs vote counts; the ${split.split} data has none`);
    }
  }
  const needsCounts = lossNeedsCounts(loss);
  checkModelAndData(view.net, source, options.augment !== undefined || options.prepare !== undefined);
  if (options.validation) checkModelAndData(view.net, options.validation, options.prepare !== undefined);
  if (options.learningRate !== undefined && !(options.learningRate > 0 && Number.isFinite(options.learningRate))) {
    throw new RangeError(`learningRate must be a positive number, got ${options.learningRate}`);
  }
  const optimizer = options.optimizer ?? tf.train.adam(options.learningRate ?? 1e-3);
  const ownsOptimizer = options.optimizer === undefined;
  const callbacks = options.callbacks ?? [];
  const names = new Set<string>();
  for (const cb of callbacks) {
    if (names.has(cb.name)) throw new Error(`two callbacks are named ${cb.name}; names key their saved state`);
    names.add(cb.name);
  }
  const batchesPerEpoch = Math.ceil(source.length / batchSize);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const runIdentity = { seed, batchSize, epochs, loss: loss.kind };

  // State that checkpoints save.
  let position: TrainingPosition = { epoch: 0, batch: 0 };
  let epochProgress = { lossSum: 0, samples: 0, seconds: 0 };
  const history: EpochLogs[] = [];
  let stopped = false;
  let stopReason: StopReason = 'completed';
  let secondsBefore = 0; // training seconds of earlier processes (from the checkpoint)
  let resumedFrom: TrainingPosition | null = null;

  const ctx: TrainerContext = {
    model,
    optimizer,
    epochs,
    baseLearningRate: getLearningRate(optimizer),
    resumed: false,
    getLearningRate: () => getLearningRate(optimizer),
    setLearningRate: (lr) => setLearningRate(optimizer, lr),
    stopTraining: false,
  };

  const ckpt = options.checkpoint;
  if (ckpt && (ckpt.resume ?? true)) {
    const loaded = await readCheckpoint(ckpt.dir);
    if (loaded) {
      const { state } = loaded;
      for (const key of ['seed', 'batchSize', 'loss'] as const) {
        if (state.run[key] !== runIdentity[key]) {
          tf.dispose([...loaded.modelWeights, ...loaded.optimizerWeights.map((w) => w.tensor)]);
          throw new Error(`${loaded.path}: checkpoint has ${key} ${JSON.stringify(state.run[key])}, this run ${JSON.stringify(runIdentity[key])}; use another checkpoint directory or resume: false`);
        }
      }
      if (loaded.modelWeights.length !== model.weights.length) {
        throw new Error(`${loaded.path}: checkpoint has ${loaded.modelWeights.length} weights, the model ${model.weights.length}`);
      }
      model.setWeights(loaded.modelWeights);
      tf.dispose(loaded.modelWeights);
      if (loaded.optimizerWeights.length > 0) {
        await optimizer.setWeights(loaded.optimizerWeights);
        tf.dispose(loaded.optimizerWeights.map((w) => w.tensor));
      }
      for (const cb of callbacks) {
        const saved = loaded.callbacks[cb.name];
        if (saved !== undefined && cb.setState) cb.setState(saved);
        else if (saved?.tensors) tf.dispose(Object.values(saved.tensors));
      }
      position = state.position;
      epochProgress = { ...state.epochProgress };
      history.push(...state.history);
      stopped = state.stopped;
      stopReason = state.stopReason ?? (stopped ? 'early-stopping' : 'completed');
      secondsBefore = state.seconds ?? 0;
      setLearningRate(optimizer, state.learningRate);
      resumedFrom = position;
      (ctx as { resumed: boolean }).resumed = true;
    }
  }

  const saveCheckpoint = async () => {
    if (!ckpt) return;
    const states: Record<string, CallbackState> = {};
    for (const cb of callbacks) if (cb.getState) states[cb.name] = cb.getState();
    await writeCheckpoint(
      ckpt.dir,
      model,
      optimizer,
      {
        run: runIdentity,
        position,
        epochProgress,
        learningRate: getLearningRate(optimizer),
        stopped,
        stopReason,
        seconds: elapsed(),
        history,
      },
      states,
    );
  };

  const trainStep = (batch: Batch, batchIndex: number, epoch: number): number => {
    // Dropout masks (native backend) follow the run seed, epoch and batch, like the augmentation;
    // the seed is dropped after the step so dropout drawn outside train() stays unseeded.
    seedDropoutNoise(Random.derive(seed, 'dropout', epoch, batchIndex).nextUint32());
    let value = Number.NaN;
    try {
      tf.tidy(() => {
        const raw = imagesToTensor(batch, source.shape);
        const x = options.augment ? options.augment(raw, batchIndex, epoch) : options.prepare ? options.prepare(raw) : raw;
        const targets = targetsOf(batch, needsCounts);
        // minimize() in two steps, so that a non-finite loss leaves the weights as they were
        const { value: cost, grads } = optimizer.computeGradients(() => computeLoss(loss, forward(view, x, true), targets), variables);
        value = cost.dataSync()[0];
        if (!Number.isFinite(value)) {
          throw new Error(`training loss is ${value} at epoch ${epoch}, batch ${batchIndex}; the weights were not updated (check the targets, the learning rate and the loss settings)`);
        }
        optimizer.applyGradients(variables.map((w) => ({ name: w.name, tensor: grads[w.name] })));
      });
    } finally {
      seedDropoutNoise(undefined);
    }
    return value;
  };

  let started = Date.now();
  const elapsed = () => secondsBefore + (Date.now() - started) / 1000;
  try {
    return await trainLoop();
  } finally {
    // the caller never sees an optimizer made here: free it, also when training fails
    if (ownsOptimizer) optimizer.dispose();
  }

  async function trainLoop(): Promise<TrainResult> {
    for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
    started = Date.now();
    const timeUp = () => options.maxSeconds !== undefined && elapsed() >= options.maxSeconds;
    let samplesThisProcess = 0;
    let lastCheckpoint = Date.now();

    while (!stopped && position.epoch < epochs) {
      const epoch = position.epoch;
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, ctx);
      const epochStart = Date.now() - epochProgress.seconds * 1000;
      let batchIndex = position.batch;
      let outOfTime = false;
      for await (const batch of source.batches({ batchSize, shuffle: true, seed, epoch, skipBatches: position.batch })) {
        if (timeUp()) {
          outOfTime = true;
          break;
        }
        const value = trainStep(batch, batchIndex, epoch);
        batchIndex++;
        samplesThisProcess += batch.size;
        epochProgress = {
          lossSum: epochProgress.lossSum + value * batch.size,
          samples: epochProgress.samples + batch.size,
          seconds: (Date.now() - epochStart) / 1000,
        };
        position = { epoch, batch: batchIndex };
        await options.onBatchEnd?.({ epoch, batchIndex: batchIndex - 1, ids: batch.ids, loss: value });
        if (options.onProgress) {
          const rate = samplesThisProcess / Math.max(1e-3, (Date.now() - started) / 1000);
          const remaining = (epochs - epoch - 1) * source.length + Math.max(0, source.length - epochProgress.samples);
          options.onProgress({
            epoch,
            epochs,
            batch: batchIndex,
            batchesPerEpoch,
            loss: epochProgress.lossSum / epochProgress.samples,
            samplesPerSecond: rate,
            etaSeconds: remaining / rate,
          });
        }
        if (ckpt && batchIndex < batchesPerEpoch) {
          const byBatches = ckpt.everyBatches !== undefined && batchIndex % ckpt.everyBatches === 0;
          const bySeconds = ckpt.everySeconds !== undefined && (Date.now() - lastCheckpoint) / 1000 >= ckpt.everySeconds;
          if (byBatches || bySeconds) {
            await saveCheckpoint();
            lastCheckpoint = Date.now();
          }
        }
      }

      if (outOfTime && epochProgress.samples === 0) {
        // the budget ran out before this epoch trained anything: no epoch to log
        stopReason = 'time-budget';
        stopped = true;
        await saveCheckpoint();
        break;
      }
      const logs: EpochLogs = {
        epoch,
        loss: epochProgress.samples > 0 ? epochProgress.lossSum / epochProgress.samples : Number.NaN,
      };
      if (options.validation) {
        const result = await evaluate(view, options.validation, {
          batchSize: options.evalBatchSize ?? batchSize,
          prepare: options.prepare,
          loss,
          conditionalMetrics: options.conditionalMetrics,
        });
        logs.val_loss = result.loss ?? Number.NaN;
        Object.assign(logs, metricsToLogs(result.metrics, 'val_'));
        if (result.conditionalMetrics) Object.assign(logs, metricsToLogs(result.conditionalMetrics, 'val_cond_'));
      }
      logs.lr = getLearningRate(optimizer);
      logs.seconds = (Date.now() - epochStart) / 1000;
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs, ctx);
      history.push(logs);
      position = { epoch: epoch + 1, batch: 0 };
      epochProgress = { lossSum: 0, samples: 0, seconds: 0 };
      if (ctx.stopTraining) stopReason = 'early-stopping';
      if (outOfTime || (timeUp() && epoch + 1 < epochs)) stopReason = 'time-budget';
      stopped = stopReason !== 'completed';
      await saveCheckpoint();
      lastCheckpoint = Date.now();
    }

    for (const cb of callbacks) await cb.onTrainEnd?.(ctx);
    return { history, epochsCompleted: history.length, stoppedEarly: stopped, stopReason, seconds: elapsed(), resumedFrom };
  }
}
