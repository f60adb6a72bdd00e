import type { Callback, TrainerContext } from './types.js';

/** Learning rate for an epoch (0-based) given the run's base learning rate. */
export type Schedule = (epoch: number, baseLearningRate: number) => number;

/** The seed's schedule: multiply by `factor` every `every` epochs (default ×0.8 every 10). */
export function stepDecay(options: { factor?: number; every?: number } = {}): Schedule {
  const factor = options.factor ?? 0.8;
  const every = options.every ?? 10;
  return (epoch, base) => base * factor ** Math.floor(epoch / every);
}

/** Cosine decay from the base rate to `minLearningRate` over `epochs` epochs, after optional linear warm-up. */
export function cosineDecay(options: { epochs: number; minLearningRate?: number; warmupEpochs?: number }): Schedule {
  const min = options.minLearningRate ?? 0;
  const warmup = options.warmupEpochs ?? 0;
  return (epoch, base) => {
    if (epoch < warmup) return (base * (epoch + 1)) / (warmup + 1);
    const span = Math.max(1, options.epochs - warmup);
    const t = Math.min(1, (epoch - warmup) / span);
    return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
  };
}

/**
 * Sets the learning rate at the start of each epoch from a schedule. Stateless (a function of the
 * epoch), so a resumed run gets the same rates. Do not combine with ReduceLROnPlateau.
 */
export class LearningRateScheduler implements Callback {
  readonly name = 'lr_schedule';
  constructor(private readonly schedule: Schedule) {}

  /** Set the epoch's learning rate from the schedule. */
  onEpochBegin(epoch: number, ctx: TrainerContext): void {
    ctx.setLearningRate(this.schedule(epoch, ctx.baseLearningRate));
  }
}
