import * as tf from '@tensorflow/tfjs';
import { conv2d } from './conv2d.js';
import { dropout as dropoutLayer } from './dropout.js';
import { QUESTIONS, type Convention, type Q6Reach } from '../questions/index.js';
import { treeModel } from './decision-tree-layer.js';
import { QuestionSoftmax } from './question-softmax.js';
import { buildTrunk, type TrunkSpec } from './trunk.js';

/** One small CNN per question: Conv-ReLU-MaxPool blocks, global average pooling, Dense, logits. */
export interface BranchSpec {
  /** Filters per Conv(3×3, same)-ReLU-MaxPool block (default [16, 32, 64]). */
  readonly filters?: readonly number[];
  /** Hidden dense width (default 32; 0 for none). */
  readonly dense?: number;
  /** Dropout before the logits (default 0.2). */
  readonly dropout?: number;
}

/** Options of the per-question model: 11 independent CNNs combined through the decision tree. */
export interface PerQuestionOptions {
  /** Side of the square input images, pixels. */
  readonly inputSize?: number;
  /** Input channels (1 gray, 3 RGB). */
  readonly channels?: number;
  /** Each branch's CNN (filters, dense width, dropout). */
  readonly branch?: BranchSpec;
  /**
   * Each branch's CNN as a trunk (e.g. an equivariant one) instead of `branch`; its layers are prefixed `q1_` …
   * `q11_`.
   */
  readonly trunk?: TrunkSpec;
  /** Convention of the model's output (default cumulative). */
  readonly output?: Convention;
  /** How Q6 is reached (default `kaggle`). */
  readonly q6Reach?: Q6Reach;
  /** Learning rate of the compiled model's Adam optimiser. */
  readonly learningRate?: number;
}

/**
 * 11 independent CNNs, one per question (no shared weights), side by side in one LayersModel:
 * branch q sees the image and produces question q's logits; QuestionSoftmax turns them into
 * per-question distributions and the DecisionTreeLayer combines them at prediction time.
 *
 * Because the branches share no weights and the reach-weighted cross-entropy is a sum of
 * per-question terms, training this model with `reachWeightedCrossEntropy` updates each branch
 * exactly as training that CNN alone on its question with sample weights = the share of the vote
 * that reached it (Adam's updates are per parameter), while reading each batch once.
 */
export function buildPerQuestionModel(options: PerQuestionOptions = {}): tf.LayersModel {
  const inputSize = options.inputSize ?? 106;
  const channels = options.channels ?? 1;
  const filters = options.branch?.filters ?? [16, 32, 64];
  const dense = options.branch?.dense ?? 32;
  const dropout = options.branch?.dropout ?? 0.2;
  const input = tf.input({ shape: [inputSize, inputSize, channels], name: 'image' });
  const logits = QUESTIONS.map((q) => {
    if (options.trunk) {
      const features = buildTrunk(input, options.trunk, `${q.key}_`);
      return tf.layers.dense({ units: q.answers.length, name: `${q.key}_logits` }).apply(features) as tf.SymbolicTensor;
    }
    let x: tf.SymbolicTensor = input;
    filters.forEach((f, b) => {
      const conv = conv2d({
        filters: f,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: `${q.key}_conv${b + 1}`,
      });
      x = conv.apply(x) as tf.SymbolicTensor;
      x = tf.layers.maxPooling2d({ poolSize: 2, name: `${q.key}_pool${b + 1}` }).apply(x) as tf.SymbolicTensor;
    });
    x = tf.layers.globalAveragePooling2d({ name: `${q.key}_gap` }).apply(x) as tf.SymbolicTensor;
    if (dense > 0) {
      x = tf.layers.dense({ units: dense, activation: 'relu', name: `${q.key}_dense` }).apply(x) as tf.SymbolicTensor;
    }
    if (dropout > 0) x = dropoutLayer({ rate: dropout, name: `${q.key}_dropout` }).apply(x) as tf.SymbolicTensor;
    return tf.layers.dense({ units: q.answers.length, name: `${q.key}_logits` }).apply(x) as tf.SymbolicTensor;
  });
  const joined = tf.layers.concatenate({ axis: -1, name: 'question_logits' }).apply(logits) as tf.SymbolicTensor;
  const conditional = new QuestionSoftmax({ name: 'heads' }).apply(joined) as tf.SymbolicTensor;
  return treeModel(input, conditional, 'per_question', options);
}
