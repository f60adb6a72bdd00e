/**
 * The seed model: a flat CNN regressing the 37 Galaxy Zoo vote fractions, exactly the seed
 * Keras model (Conv32-Pool-Conv64-Pool-Conv128-Pool-Dropout-Flatten-Dense128-Dropout-Dense64-
 * Dense37 sigmoid, Adam + MSE). Self-contained on purpose: it is the baseline the hierarchical
 * models are compared against, and the model the backend benchmark trains.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d } from './conv2d.js';
import { dropout } from './dropout.js';
import { buildTrunk, type TrunkSpec } from './trunk.js';

/** Options of the flat seed CNN: only the input follows them, the architecture is fixed. */
export interface FlatModelOptions {
  /** Input height = width in pixels (default 106). */
  readonly inputSize?: number;
  /** Input channels: 1 gray, 3 RGB (default 1). */
  readonly channels?: number;
  /** Adam learning rate (default 1e-3). */
  readonly learningRate?: number;
  /** Number of outputs (default 37). */
  readonly outputs?: number;
  /**
   * Another feature extractor (e.g. an equivariant trunk) in place of the seed CNN's; the model is
   * then that trunk + Dense(outputs, sigmoid). Without it the model is exactly the seed's.
   */
  readonly trunk?: TrunkSpec;
}

/** The seed project's Keras CNN re-built exactly: 37 sigmoid outputs, cumulative convention. */
export function buildFlatModel(options: FlatModelOptions = {}): tf.LayersModel {
  const size = options.inputSize ?? 106;
  const channels = options.channels ?? 1;
  const learningRate = options.learningRate ?? 1e-3;
  const outputs = options.outputs ?? 37;
  if (!Number.isInteger(size) || size < (options.trunk ? 1 : 22))
    throw new Error(`inputSize must be an integer ≥ ${options.trunk ? 1 : 22}, got ${size}`);
  if (!Number.isInteger(channels) || channels < 1)
    throw new Error(`channels must be a positive integer, got ${channels}`);

  if (options.trunk) {
    const input = tf.input({ shape: [size, size, channels], name: 'image' });
    const features = buildTrunk(input, options.trunk);
    const output = tf.layers
      .dense({ units: outputs, activation: 'sigmoid', name: 'output' })
      .apply(features) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output, name: 'flat' });
    model.compile({ optimizer: tf.train.adam(learningRate), loss: 'meanSquaredError' });
    return model;
  }
  const model = tf.sequential({ name: 'flat' });
  model.add(conv2d({ inputShape: [size, size, channels], filters: 32, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(dropout({ rate: 0.2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  model.add(dropout({ rate: 0.2 }));
  model.add(tf.layers.dense({ units: 64, activation: 'relu' }));
  model.add(tf.layers.dense({ units: outputs, activation: 'sigmoid' }));
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'meanSquaredError' });
  return model;
}
