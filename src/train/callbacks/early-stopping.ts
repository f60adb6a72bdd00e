import * as tf from '@tensorflow/tfjs';
import {
  type Callback,
  type CallbackState,
  type EpochLogs,
  type MonitorMode,
  type TrainerContext,
  monitorDirection,
  monitored,
} from './types.js';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Logged value to watch (default `val_loss`: validation, never training loss). */
  readonly monitor?: string;
  /** Epochs without improvement before stopping (default 5). */
  readonly patience?: number;
  /** Smallest change in the better direction that counts as an improvement (default 0). */
  readonly minDelta?: number;
  /** Which way the value improves (default `auto`: up for R² monitors, down otherwise). */
  readonly mode?: MonitorMode;
  /** Put the best epoch's weights back when training ends (default true). */
  readonly restoreBestWeights?: boolean;
}

/** Stops when the monitored validation value has not improved for `patience` epochs. */
export class EarlyStopping implements Callback {
  readonly name = 'early_stopping';
  /** Logged value watched. */
  readonly monitor: string;
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** Smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Whether the best epoch's weights are put back at the end. */
  readonly restoreBestWeights: boolean;
  /** +1 when the monitored value improves upwards, −1 downwards. */
  readonly direction: 1 | -1;
  /** Best value so far. */
  best: number;
  /** Epoch of the best value (−1 before the first). */
  bestEpoch = -1;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epoch training was stopped after (−1 while running). */
  stoppedEpoch = -1;
  private bestWeights: tf.Tensor[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    this.patience = options.patience ?? 5;
    this.minDelta = options.minDelta ?? 0;
    this.restoreBestWeights = options.restoreBestWeights ?? true;
    this.direction = monitorDirection(this.monitor, options.mode);
    this.best = -this.direction * Number.POSITIVE_INFINITY;
  }

  /** A fresh run starts from scratch; a resumed one keeps the state its checkpoint restored. */
  onTrainBegin(ctx: TrainerContext): void {
    if (ctx.resumed) return;
    this.best = -this.direction * Number.POSITIVE_INFINITY;
    this.bestEpoch = -1;
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.disposeBest();
  }

  /** Compare the epoch's value with the best; stop after `patience` epochs without improvement. */
  onEpochEnd(epoch: number, logs: EpochLogs, ctx: TrainerContext): void {
    const value = monitored(logs, this.monitor, 'EarlyStopping');
    if (this.direction * (value - this.best) > this.minDelta) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        const copies = ctx.model.getWeights().map((w) => tf.clone(w));
        this.disposeBest();
        this.bestWeights = copies;
      }
    } else {
      this.wait++;
      if (this.wait >= this.patience) {
        this.stoppedEpoch = epoch;
        ctx.stopTraining = true;
      }
    }
  }

  /** Put the best epoch's weights back, when asked to. */
  onTrainEnd(ctx: TrainerContext): void {
    if (this.restoreBestWeights && this.bestWeights) ctx.model.setWeights(this.bestWeights);
    this.disposeBest();
  }

  /** The best value, its epoch and weights, saved in checkpoints. */
  getState(): CallbackState {
    const tensors: tf.NamedTensorMap = {};
    this.bestWeights?.forEach((w, i) => (tensors[`best_${i}`] = w));
    return {
      json: { best: this.best, bestEpoch: this.bestEpoch, wait: this.wait, weights: this.bestWeights?.length ?? 0 },
      tensors,
    };
  }

  setState(state: CallbackState): void {
    const json = state.json as { best: number | null; bestEpoch: number; wait: number; weights: number };
    this.best = json.best ?? -this.direction * Number.POSITIVE_INFINITY; // JSON turns ±Infinity into null
    this.bestEpoch = json.bestEpoch;
    this.wait = json.wait;
    this.disposeBest();
    if (json.weights > 0 && state.tensors) {
      this.bestWeights = Array.from({ length: json.weights }, (_, i) => {
        const t = state.tensors?.[`best_${i}`];
        if (!t) throw new Error(`early stopping state lacks best weight ${i}`);
        return t;
      });
    }
  }

  private disposeBest(): void {
    if (this.bestWeights) tf.dispose(this.bestWeights);
    this.bestWeights = null;
  }
}
