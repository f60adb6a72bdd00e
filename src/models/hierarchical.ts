import * as tf from '@tensorflow/tfjs';
import { ANSWER_COUNT, QUESTIONS, type Convention, type Q6Reach } from '../questions/index.js';
import { treeModel } from './decision-tree-layer.js';
import { QuestionSoftmax } from './question-softmax.js';
import { buildTrunk, type TrunkSpec } from './trunk.js';

/** Options of the hierarchical model: a shared trunk, one softmax head per question, combined through the tree. */
export interface HierarchicalOptions {
  /** Square input side in pixels (default 106). */
  readonly inputSize?: number;
  /** 1 = gray, 3 = RGB (default 1). */
  readonly channels?: number;
  /** Shared trunk (default the seed trunk). */
  readonly trunk?: TrunkSpec;
  /**
   * `fused` (default): one Dense(37) + QuestionSoftmax — the 11 heads as one matrix product;
   * `separate`: 11 Dense(k_q, softmax) layers named head_q1 … head_q11, concatenated.
   * Both are 11 independent linear+softmax heads over the same features.
   */
  readonly heads?: 'fused' | 'separate';
  /** Output convention of the DecisionTreeLayer (default `cumulative`). */
  readonly output?: Convention;
  /** Q6 reach for cumulative output (default `kaggle`). */
  readonly q6Reach?: Q6Reach;
  /** Adam learning rate used to compile the model (default 1e-3). */
  readonly learningRate?: number;
}

/** Heads over a feature vector: N×37 per-question conditional distributions. */
export function questionHeads(
  features: tf.SymbolicTensor,
  heads: 'fused' | 'separate',
  prefix = '',
): tf.SymbolicTensor {
  if (heads === 'separate') {
    const outs = QUESTIONS.map(
      (q) =>
        tf.layers
          .dense({ units: q.answers.length, activation: 'softmax', name: `${prefix}head_${q.key}` })
          .apply(features) as tf.SymbolicTensor,
    );
    return tf.layers.concatenate({ axis: -1, name: `${prefix}heads` }).apply(outs) as tf.SymbolicTensor;
  }
  const logits = tf.layers
    .dense({ units: ANSWER_COUNT, name: `${prefix}head_logits` })
    .apply(features) as tf.SymbolicTensor;
  return new QuestionSoftmax({ name: `${prefix}heads` }).apply(logits) as tf.SymbolicTensor;
}

/** Shared trunk → 11 per-question softmax heads → DecisionTreeLayer. Compiled with Adam + MSE. */
export function buildHierarchicalModel(options: HierarchicalOptions = {}): tf.LayersModel {
  const inputSize = options.inputSize ?? 106;
  const channels = options.channels ?? 1;
  const input = tf.input({ shape: [inputSize, inputSize, channels], name: 'image' });
  const features = buildTrunk(input, options.trunk ?? { kind: 'seed' });
  const conditional = questionHeads(features, options.heads ?? 'fused');
  return treeModel(input, conditional, 'hierarchical', options);
}
