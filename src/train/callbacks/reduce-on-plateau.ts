import {
  type Callback,
  type CallbackState,
  type EpochLogs,
  type MonitorMode,
  type TrainerContext,
  monitorDirection,
  monitored,
} from './types.js';

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceOnPlateauOptions {
  /** Default `val_loss`. */
  readonly monitor?: string;
  /** Multiply the learning rate by this (default 0.5). */
  readonly factor?: number;
  /** Epochs without improvement before reducing (default 3). */
  readonly patience?: number;
  /** Smallest change in the better direction that counts as an improvement (default 1e-4). */
  readonly minDelta?: number;
  /** Which way the value improves (default `auto`: up for R² monitors, down otherwise). */
  readonly mode?: MonitorMode;
  /** Epochs to wait after a reduction before counting again (default 0). */
  readonly cooldown?: number;
  /** Never go below this (default 0). */
  readonly minLearningRate?: number;
}

/** Reduces the learning rate when the monitored validation value stops improving. */
export class ReduceLROnPlateau implements Callback {
  readonly name = 'reduce_on_plateau';
  /** The options, defaults filled in. */
  readonly options: Required<ReduceOnPlateauOptions>;
  /** +1 when the monitored value improves upwards, −1 downwards. */
  readonly direction: 1 | -1;
  /** Best value so far. */
  best: number;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epochs left before the reductions may resume. */
  cooldownLeft = 0;

  constructor(options: ReduceOnPlateauOptions = {}) {
    this.options = {
      monitor: options.monitor ?? 'val_loss',
      factor: options.factor ?? 0.5,
      patience: options.patience ?? 3,
      minDelta: options.minDelta ?? 1e-4,
      cooldown: options.cooldown ?? 0,
      minLearningRate: options.minLearningRate ?? 0,
      mode: options.mode ?? 'auto',
    };
    if (!(this.options.factor > 0 && this.options.factor < 1)) throw new RangeError('factor must lie in (0, 1)');
    this.direction = monitorDirection(this.options.monitor, this.options.mode);
    this.best = -this.direction * Number.POSITIVE_INFINITY;
  }

  /** A fresh run starts from scratch; a resumed one keeps the state its checkpoint restored. */
  onTrainBegin(ctx: TrainerContext): void {
    if (ctx.resumed) return;
    this.best = -this.direction * Number.POSITIVE_INFINITY;
    this.wait = 0;
    this.cooldownLeft = 0;
  }

  /** Reduce the learning rate by `factor` after `patience` epochs without improvement. */
  onEpochEnd(_epoch: number, logs: EpochLogs, ctx: TrainerContext): void {
    const value = monitored(logs, this.options.monitor, 'ReduceLROnPlateau');
    if (this.cooldownLeft > 0) this.cooldownLeft--;
    if (this.direction * (value - this.best) > this.options.minDelta) {
      this.best = value;
      this.wait = 0;
      return;
    }
    if (this.cooldownLeft > 0) return;
    this.wait++;
    if (this.wait >= this.options.patience) {
      const lr = ctx.getLearningRate();
      const next = Math.max(this.options.minLearningRate, lr * this.options.factor);
      if (next < lr) ctx.setLearningRate(next);
      this.cooldownLeft = this.options.cooldown;
      this.wait = 0;
    }
  }

  /** The best value and counters, saved in checkpoints. */
  getState(): CallbackState {
    return { json: { best: this.best, wait: this.wait, cooldownLeft: this.cooldownLeft } };
  }

  setState(state: CallbackState): void {
    const json = state.json as { best: number | null; wait: number; cooldownLeft: number };
    this.best = json.best ?? -this.direction * Number.POSITIVE_INFINITY;
    this.wait = json.wait;
    this.cooldownLeft = json.cooldownLeft;
  }
}
