/**
 * A run's callbacks as one: each hook calls every callback in order (awaiting each), and their
 * states are gathered for and handed back from checkpoints, keyed by callback name. The trainer
 * talks to this list only, as Keras's `CallbackList` and tfjs-layers' `CallbackList` do.
 */
import * as tf from '@tensorflow/tfjs';
import type { Callback, CallbackState, EpochLogs, TrainerContext } from './types.js';

export class CallbackList {
  readonly callbacks: readonly Callback[];

  /** Throws when two callbacks share a name (names key their saved state). */
  constructor(callbacks: readonly Callback[] = []) {
    const names = new Set<string>();
    for (const cb of callbacks) {
      if (names.has(cb.name)) throw new Error(`two callbacks are named ${cb.name}; names key their saved state`);
      names.add(cb.name);
    }
    this.callbacks = callbacks;
  }

  async onTrainBegin(ctx: TrainerContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainBegin?.(ctx);
  }

  async onEpochBegin(epoch: number, ctx: TrainerContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochBegin?.(epoch, ctx);
  }

  async onEpochEnd(epoch: number, logs: EpochLogs, ctx: TrainerContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochEnd?.(epoch, logs, ctx);
  }

  async onTrainEnd(ctx: TrainerContext): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainEnd?.(ctx);
  }

  /** The states to checkpoint, by callback name (callbacks without state are left out). */
  getStates(): Record<string, CallbackState> {
    const states: Record<string, CallbackState> = {};
    for (const cb of this.callbacks) if (cb.getState) states[cb.name] = cb.getState();
    return states;
  }

  /**
   * Hands each callback its saved state; tensors of states no callback takes (a callback removed
   * since the checkpoint, or one without setState) are disposed.
   */
  setStates(saved: Readonly<Record<string, CallbackState>>): void {
    const taken = new Set<string>();
    for (const cb of this.callbacks) {
      const state = saved[cb.name];
      if (state === undefined || !cb.setState) continue;
      cb.setState(state);
      taken.add(cb.name);
    }
    for (const [name, state] of Object.entries(saved)) {
      if (!taken.has(name) && state.tensors) tf.dispose(Object.values(state.tensors));
    }
  }
}
