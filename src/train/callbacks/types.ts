import type * as tf from '@tensorflow/tfjs';

/** Scalars logged at the end of each epoch (`epoch` is 0-based, as in Keras). */
export type EpochLogs = Record<string, number>;

/** What callbacks can see and change while training. */
export interface TrainerContext {
  /** The model being trained. */
  readonly model: tf.LayersModel;
  /** The optimiser updating it. */
  readonly optimizer: tf.Optimizer;
  /** Total epochs requested. */
  readonly epochs: number;
  /** The learning rate the run started with. */
  readonly baseLearningRate: number;
  /** True when this run resumed from a checkpoint (callback states were restored). */
  readonly resumed: boolean;
  /** The optimiser's current learning rate. */
  getLearningRate(): number;
  /** Change the optimiser's learning rate (takes effect from the next step). */
  setLearningRate(lr: number): void;
  /** Set by a callback to end training after the current epoch. */
  stopTraining: boolean;
}

/** Part of a callback's state that goes into checkpoints so a resumed run continues exactly. */
export interface CallbackState {
  /** JSON-serialisable state. */
  readonly json?: unknown;
  /** Tensors to save (read, not disposed, by the checkpoint writer). */
  readonly tensors?: tf.NamedTensorMap;
}

/** A training callback: hooks the trainer calls, and optional state saved in checkpoints. */
export interface Callback {
  /** Unique among a run's callbacks: keys the callback's saved state. */
  readonly name: string;
  /** Called once before the first epoch (also on resume). */
  onTrainBegin?(ctx: TrainerContext): void | Promise<void>;
  /** Called before each epoch (0-based). */
  onEpochBegin?(epoch: number, ctx: TrainerContext): void | Promise<void>;
  /** Called after each epoch's validation with its logs. */
  onEpochEnd?(epoch: number, logs: EpochLogs, ctx: TrainerContext): void | Promise<void>;
  /** Called once when training ends, however it ends. */
  onTrainEnd?(ctx: TrainerContext): void | Promise<void>;
  /** The state to save in checkpoints. */
  getState?(): CallbackState;
  /** Restores state saved by getState (tensors are owned by the callback afterwards). */
  setState?(state: CallbackState): void;
}

/** Reads a logged value, with an error naming the missing key. */
export function monitored(logs: EpochLogs, key: string, who: string): number {
  const value = logs[key];
  if (value === undefined) {
    throw new Error(
      `${who} monitors "${key}", which is not in the epoch logs (${Object.keys(logs).join(', ')}); is there a ` +
        'validation set?',
    );
  }
  return value;
}

/** Which way a monitored value improves: `auto` = up for R² (`…r2…`), down for losses and RMSE. */
export type MonitorMode = 'min' | 'max' | 'auto';

/** +1 when larger values of `monitor` are better, −1 when smaller ones are. */
export function monitorDirection(monitor: string, mode: MonitorMode = 'auto'): 1 | -1 {
  if (mode === 'max') return 1;
  if (mode === 'min') return -1;
  if (mode !== 'auto') throw new RangeError(`mode must be min, max or auto, got ${String(mode)}`);
  return /(^|_)r2(_|$)/.test(monitor) ? 1 : -1;
}
