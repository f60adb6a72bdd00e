import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CallbackList } from '../../../src/train/callbacks/callback-list.js';
import type { Callback, CallbackState, TrainerContext } from '../../../src/train/callbacks/types.js';

const ctx = { stopTraining: false } as TrainerContext;

function recorder(name: string, calls: string[], withState = true): Callback {
  let restored: CallbackState | undefined;
  return {
    name,
    onTrainBegin: () => void calls.push(`${name}:trainBegin`),
    onEpochBegin: async (epoch) => {
      await new Promise((r) => setTimeout(r, 1));
      calls.push(`${name}:epochBegin${epoch}`);
    },
    onEpochEnd: (epoch, logs) => void calls.push(`${name}:epochEnd${epoch}:${logs.loss}`),
    onTrainEnd: () => void calls.push(`${name}:trainEnd`),
    ...(withState
      ? {
          getState: () => ({ json: { name, restored: restored?.json ?? null } }),
          setState: (state: CallbackState) => {
            restored = state;
            if (state.tensors) tf.dispose(Object.values(state.tensors));
          },
        }
      : {}),
  };
}

describe('CallbackList', () => {
  it('calls every callback in order, awaiting each, for every hook', async () => {
    const calls: string[] = [];
    const list = new CallbackList([recorder('a', calls), recorder('b', calls)]);
    await list.onTrainBegin(ctx);
    await list.onEpochBegin(3, ctx);
    await list.onEpochEnd(3, { loss: 0.5 }, ctx);
    await list.onTrainEnd(ctx);
    expect(calls).toEqual([
      'a:trainBegin',
      'b:trainBegin',
      'a:epochBegin3',
      'b:epochBegin3',
      'a:epochEnd3:0.5',
      'b:epochEnd3:0.5',
      'a:trainEnd',
      'b:trainEnd',
    ]);
  });

  it('rejects two callbacks with one name', () => {
    expect(() => new CallbackList([recorder('a', []), recorder('a', [])])).toThrow(/two callbacks are named a/);
  });

  it('gathers states by name and hands them back; tensors nobody takes are freed', () => {
    const list = new CallbackList([recorder('a', []), recorder('stateless', [], false)]);
    expect(list.getStates()).toEqual({ a: { json: { name: 'a', restored: null } } });
    const before = tf.memory().numTensors;
    list.setStates({
      a: { json: 7, tensors: { w: tf.scalar(1) } },
      stateless: { json: null, tensors: { w: tf.scalar(2) } },
      removed: { json: null, tensors: { w: tf.scalar(3) } },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(list.getStates().a?.json).toEqual({ name: 'a', restored: 7 });
  });
});
