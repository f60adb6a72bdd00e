/**
 * Custom training loop over a streaming BatchSource: one train step (forward, loss, gradients,
 * optimizer update) per batch, epoch-end validation metrics, callbacks, atomic checkpoints (also
 * inside epochs) and exact resume after the process is killed.
 */
import * as tf from '@tensorflow/tfjs';
import { seedDropoutNoise } from '../backend/native-dropout.js';
import type { Batch, BatchSource } from '../data/batch.js';
import { forward, imagesToTensor, modelView, type ModelView } from '../models/forward.js';
import { InterruptedError } from '../errors.js';
import { Random } from '../util/random.js';
import { CallbackList } from './callbacks/callback-list.js';
import {
  restoreCheckpoint,
  writeCheckpoint,
  type CheckpointOptions,
  type RunIdentity,
  type TrainingPosition,
} from './callbacks/checkpoint.js';
import type { Callback, EpochLogs, TrainerContext } from './callbacks/types.js';
import { checkModelAndData, evaluate, targetsOf } from './evaluate.js';
import type { AugmentHook, PrepareHook } from './hooks.js';
import { getLearningRate, setLearningRate } from './learning-rate.js';
import { computeLoss, lossNeedsConditional, lossNeedsCounts, type LossSpec } from './losses.js';
import { metricsToLogs } from './metrics.js';

/** What {@link TrainOptions.onProgress} is told after every training batch. */
export interface TrainProgress {
  /** 0-based epoch. */
  readonly epoch: number;
  /** Epochs requested. */
  readonly epochs: number;
  /** Batches of this epoch done. */
  readonly batch: number;
  /** Batches per epoch. */
  readonly batchesPerEpoch: number;
  /** Running mean training loss of this epoch. */
  readonly loss: number;
  /** Training throughput since this process started training. */
  readonly samplesPerSecond: number;
  /** Estimated seconds until the last epoch's training batches are done (validation not included). */
  readonly etaSeconds: number;
}

/** What {@link TrainOptions.onBatchEnd} is told after every training batch. */
export interface BatchInfo {
  /** 0-based epoch. */
  readonly epoch: number;
  /** 0-based batch within the epoch. */
  readonly batchIndex: number;
  /** GalaxyIDs of the batch. */
  readonly ids: readonly string[];
  /** The batch's training loss. */
  readonly loss: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Training split. */
  readonly train: BatchSource;
  /** Validation split: its loss (`val_loss`) and metrics are computed every epoch. */
  readonly validation?: BatchSource;
  /** Epochs to train. */
  readonly epochs: number;
  /** Galaxies per training step. */
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
  /** Keras-style callbacks (early stopping, schedules, CSV log, …). */
  readonly callbacks?: readonly Callback[];
  /** Where and how often checkpoints are written (none when absent). */
  readonly checkpoint?: CheckpointOptions;
  /** Called after every training batch with the epoch's progress. */
  readonly onProgress?: (progress: TrainProgress) => void;
  /**
   * Stops training (Ctrl-C): once aborted, no further batch is trained; the position reached is
   * checkpointed (when `checkpoint` is set, so a resume goes on from there, nothing lost) and
   * train() rejects with an InterruptedError.
   */
  readonly signal?: AbortSignal;
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

/** What {@link train} returns. */
export interface TrainResult {
  /** Logs of every epoch. */
  readonly history: readonly EpochLogs[];
  /** Epochs completed in total (including those before a resume). */
  readonly epochsCompleted: number;
  /** Whether training stopped before the last epoch. */
  readonly stoppedEarly: boolean;
  /** Why training ended. */
  readonly stopReason: StopReason;
  /** Seconds spent training (epochs and their validation), across resumes. */
  readonly seconds: number;
  /** Where the run started: non-zero after a resume. */
  readonly resumedFrom: TrainingPosition | null;
}

/** Option checks that need no data read: plain errors before anything is trained. */
function checkOptions(view: ModelView, options: TrainOptions, loss: LossSpec): void {
  const { epochs, learningRate } = options;
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new RangeError(`epochs must be a non-negative integer, got ${epochs}`);
  if (lossNeedsConditional(loss) && !view.conditional) {
    throw new Error(`the ${loss.kind} loss needs a model ending in a DecisionTreeLayer (per-question outputs)`);
  }
  for (const split of [options.train, options.validation]) {
    if (split && lossNeedsCounts(loss) && !split.hasCounts) {
      throw new Error(`the ${loss.kind} loss needs vote counts; the ${split.split} data has none`);
    }
  }
  checkModelAndData(view.net, options.train, options.augment !== undefined || options.prepare !== undefined);
  if (options.validation) checkModelAndData(view.net, options.validation, options.prepare !== undefined);
  if (learningRate !== undefined && !(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new RangeError(`learningRate must be a positive number, got ${learningRate}`);
  }
}

/** Trains `model` in place. See TrainOptions; returns the epoch history. */
export async function train(model: tf.LayersModel, options: TrainOptions): Promise<TrainResult> {
  const loss: LossSpec = options.loss ?? { kind: 'mse' };
  const view = modelView(model);
  checkOptions(view, options, loss);
  const optimizer = options.optimizer ?? tf.train.adam(options.learningRate ?? 1e-3);
  try {
    const loop = new TrainingLoop(model, view, optimizer, options, loss);
    await loop.resume();
    return await loop.run();
  } finally {
    // the caller never sees an optimizer made here: free it, also when training fails
    if (options.optimizer === undefined) optimizer.dispose();
  }
}

/** One call of {@link train}: the state checkpoints save, and the steps of the loop. */
class TrainingLoop {
  private readonly callbacks: CallbackList;
  private readonly ctx: TrainerContext;
  private readonly identity: RunIdentity;
  private readonly variables: tf.Variable[];
  private readonly batchesPerEpoch: number;
  // State that checkpoints save.
  private position: TrainingPosition = { epoch: 0, batch: 0 };
  private epochProgress = { lossSum: 0, samples: 0, seconds: 0 };
  private readonly history: EpochLogs[] = [];
  private stopped = false;
  private stopReason: StopReason = 'completed';
  /** Training seconds of earlier processes (from the checkpoint). */
  private secondsBefore = 0;
  private resumedFrom: TrainingPosition | null = null;
  // This process's clocks.
  private started = Date.now();
  private lastCheckpoint = Date.now();
  private samplesThisProcess = 0;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly view: ModelView,
    private readonly optimizer: tf.Optimizer,
    private readonly options: TrainOptions,
    private readonly loss: LossSpec,
  ) {
    this.callbacks = new CallbackList(options.callbacks);
    const { seed, batchSize, epochs } = options;
    this.identity = { seed, batchSize, epochs, loss: loss.kind };
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.batchesPerEpoch = Math.ceil(options.train.length / batchSize);
    this.ctx = {
      model,
      optimizer,
      epochs,
      baseLearningRate: getLearningRate(optimizer),
      resumed: false,
      getLearningRate: () => getLearningRate(optimizer),
      setLearningRate: (lr) => setLearningRate(optimizer, lr),
      stopTraining: false,
    };
  }

  /** Continues from the checkpoint in `options.checkpoint.dir`, when there is one and resuming is on. */
  async resume(): Promise<void> {
    const ckpt = this.options.checkpoint;
    if (!ckpt || !(ckpt.resume ?? true)) return;
    const state = await restoreCheckpoint(ckpt.dir, this.model, this.optimizer, this.callbacks, this.identity);
    if (!state) return;
    this.position = state.position;
    this.epochProgress = { ...state.epochProgress };
    this.history.push(...state.history);
    this.stopped = state.stopped;
    this.stopReason = state.stopReason ?? (this.stopped ? 'early-stopping' : 'completed');
    this.secondsBefore = state.seconds ?? 0;
    setLearningRate(this.optimizer, state.learningRate);
    this.resumedFrom = this.position;
    (this.ctx as { resumed: boolean }).resumed = true;
  }

  private elapsed(): number {
    return this.secondsBefore + (Date.now() - this.started) / 1000;
  }

  private timeUp(): boolean {
    return this.options.maxSeconds !== undefined && this.elapsed() >= this.options.maxSeconds;
  }

  async run(): Promise<TrainResult> {
    await this.callbacks.onTrainBegin(this.ctx);
    this.started = Date.now();
    this.lastCheckpoint = Date.now();
    while (!this.stopped && this.position.epoch < this.options.epochs) {
      if (!(await this.runEpoch())) break;
    }
    await this.callbacks.onTrainEnd(this.ctx);
    const { history, stopped, stopReason, resumedFrom } = this;
    return {
      history,
      epochsCompleted: history.length,
      stoppedEarly: stopped,
      stopReason,
      seconds: this.elapsed(),
      resumedFrom,
    };
  }

  /** Trains and validates one epoch; false when the time budget ended training before it trained anything. */
  private async runEpoch(): Promise<boolean> {
    const epoch = this.position.epoch;
    await this.callbacks.onEpochBegin(epoch, this.ctx);
    const epochStart = Date.now() - this.epochProgress.seconds * 1000;
    const outOfTime = await this.trainBatches(epoch, epochStart);
    if (outOfTime && this.epochProgress.samples === 0) {
      // the budget ran out before this epoch trained anything: no epoch to log
      this.stopReason = 'time-budget';
      this.stopped = true;
      await this.saveCheckpoint();
      return false;
    }
    const logs = await this.epochLogs(epoch, epochStart);
    await this.callbacks.onEpochEnd(epoch, logs, this.ctx);
    this.history.push(logs);
    this.position = { epoch: epoch + 1, batch: 0 };
    this.epochProgress = { lossSum: 0, samples: 0, seconds: 0 };
    if (this.ctx.stopTraining) this.stopReason = 'early-stopping';
    if (outOfTime || (this.timeUp() && epoch + 1 < this.options.epochs)) this.stopReason = 'time-budget';
    this.stopped = this.stopReason !== 'completed';
    await this.saveCheckpoint();
    return true;
  }

  /** The epoch's remaining batches; true when the time budget ran out inside the epoch. */
  private async trainBatches(epoch: number, epochStart: number): Promise<boolean> {
    const { train: source, batchSize, seed } = this.options;
    let batchIndex = this.position.batch;
    for await (const batch of source.batches({
      batchSize,
      shuffle: true,
      seed,
      epoch,
      skipBatches: this.position.batch,
    })) {
      await this.stopIfAborted();
      if (this.timeUp()) return true;
      const value = this.trainStep(batch, batchIndex, epoch);
      batchIndex++;
      this.samplesThisProcess += batch.size;
      this.epochProgress = {
        lossSum: this.epochProgress.lossSum + value * batch.size,
        samples: this.epochProgress.samples + batch.size,
        seconds: (Date.now() - epochStart) / 1000,
      };
      this.position = { epoch, batch: batchIndex };
      await this.options.onBatchEnd?.({ epoch, batchIndex: batchIndex - 1, ids: batch.ids, loss: value });
      this.reportProgress(epoch, batchIndex);
      await this.checkpointInsideEpoch(batchIndex);
    }
    return false;
  }

  /** One optimizer update; returns the batch's loss. A non-finite loss leaves the weights as they were. */
  private trainStep(batch: Batch, batchIndex: number, epoch: number): number {
    const { options, optimizer, variables } = this;
    // Dropout masks (native backend) follow the run seed, epoch and batch, like the augmentation;
    // the seed is dropped after the step so dropout drawn outside train() stays unseeded.
    seedDropoutNoise(Random.derive(options.seed, 'dropout', epoch, batchIndex).nextUint32());
    let value = Number.NaN;
    try {
      tf.tidy(() => {
        const raw = imagesToTensor(batch, options.train.shape);
        const x = options.augment
          ? options.augment(raw, batchIndex, epoch)
          : options.prepare
            ? options.prepare(raw)
            : raw;
        const targets = targetsOf(batch, lossNeedsCounts(this.loss));
        // minimize() in two steps, so that a non-finite loss leaves the weights as they were
        const f = () => computeLoss(this.loss, forward(this.view, x, true), targets);
        const { value: cost, grads } = optimizer.computeGradients(f, variables);
        value = cost.dataSync()[0];
        if (!Number.isFinite(value)) {
          throw new Error(
            `training loss is ${value} at epoch ${epoch}, batch ${batchIndex}; the weights were not updated ` +
              '(check the targets, the learning rate and the loss settings)',
          );
        }
        optimizer.applyGradients(variables.map((w) => ({ name: w.name, tensor: grads[w.name] })));
      });
    } finally {
      seedDropoutNoise(undefined);
    }
    return value;
  }

  private reportProgress(epoch: number, batch: number): void {
    const { onProgress, epochs, train: source } = this.options;
    if (!onProgress) return;
    const rate = this.samplesThisProcess / Math.max(1e-3, (Date.now() - this.started) / 1000);
    const remaining = (epochs - epoch - 1) * source.length + Math.max(0, source.length - this.epochProgress.samples);
    const loss = this.epochProgress.lossSum / this.epochProgress.samples;
    const { batchesPerEpoch } = this;
    onProgress({ epoch, epochs, batch, batchesPerEpoch, loss, samplesPerSecond: rate, etaSeconds: remaining / rate });
  }

  /** The epoch's training loss, validation loss and metrics, learning rate and duration. */
  private async epochLogs(epoch: number, epochStart: number): Promise<EpochLogs> {
    const { validation, evalBatchSize, batchSize, prepare, conditionalMetrics } = this.options;
    const { lossSum, samples } = this.epochProgress;
    const logs: EpochLogs = { epoch, loss: samples > 0 ? lossSum / samples : Number.NaN };
    if (validation) {
      const batch = evalBatchSize ?? batchSize;
      const result = await evaluate(this.view, validation, {
        batchSize: batch,
        prepare,
        loss: this.loss,
        conditionalMetrics,
      });
      logs.val_loss = result.loss ?? Number.NaN;
      Object.assign(logs, metricsToLogs(result.metrics, 'val_'));
      if (result.conditionalMetrics) Object.assign(logs, metricsToLogs(result.conditionalMetrics, 'val_cond_'));
    }
    logs.lr = getLearningRate(this.optimizer);
    logs.seconds = (Date.now() - epochStart) / 1000;
    return logs;
  }

  private async checkpointInsideEpoch(batchIndex: number): Promise<void> {
    const ckpt = this.options.checkpoint;
    if (!ckpt || batchIndex >= this.batchesPerEpoch) return;
    const byBatches = ckpt.everyBatches !== undefined && batchIndex % ckpt.everyBatches === 0;
    const bySeconds = ckpt.everySeconds !== undefined && (Date.now() - this.lastCheckpoint) / 1000 >= ckpt.everySeconds;
    if (byBatches || bySeconds) await this.saveCheckpoint();
  }

  /**
   * On an aborted signal: checkpoints the position reached (no batch is lost) and throws. A batch
   * read from the cache and its training step never wait on the event loop, so without a turn of it
   * a signal handler (Ctrl-C) that aborts would only run at the epoch's end; one per batch costs
   * microseconds.
   */
  private async stopIfAborted(): Promise<void> {
    const signal = this.options.signal;
    if (!signal) return;
    if (!signal.aborted) await new Promise<void>((resolve) => setImmediate(resolve));
    if (!signal.aborted) return;
    await this.saveCheckpoint();
    const { epoch, batch } = this.position;
    const resume = this.options.checkpoint ? '; the checkpoint resumes it' : '';
    throw new InterruptedError(`training stopped at batch ${batch} of epoch ${epoch + 1}${resume}`);
  }

  private async saveCheckpoint(): Promise<void> {
    const ckpt = this.options.checkpoint;
    if (!ckpt) return;
    const { position, epochProgress, stopped, stopReason, history } = this;
    const learningRate = getLearningRate(this.optimizer);
    const state = {
      run: this.identity,
      position,
      epochProgress,
      learningRate,
      stopped,
      stopReason,
      seconds: this.elapsed(),
      history,
    };
    await writeCheckpoint(ckpt.dir, this.model, this.optimizer, state, this.callbacks.getStates());
    this.lastCheckpoint = Date.now();
  }
}
