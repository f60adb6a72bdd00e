/**
 * Running a model on images, shared by training, evaluation and inference: uint8 pixels to a
 * float tensor, and a forward pass that yields cumulative (Kaggle) predictions plus, for models
 * ending in a DecisionTreeLayer, the per-question conditional ones from the same pass.
 */
import * as tf from '@tensorflow/tfjs';
import type { Q6Reach } from '../questions/index.js';
import { findTreeLayer } from './decision-tree-layer.js';
import { cumulativeFromConditional } from './tree-ops.js';

/** How a model is run during training, evaluation and inference. */
export interface ModelView {
  /** The model whose output is trained on: the model itself, or its sub-model up to the tree layer. */
  readonly net: tf.LayersModel;
  /** Whether `net` returns per-question conditional distributions (tree models). */
  readonly conditional: boolean;
  /** How Q6 is reached in the model's tree (recorded in its manifest). */
  readonly q6Reach: Q6Reach;
}

/** What one forward pass yields. */
export interface ModelOutputs {
  /** N×37 cumulative predictions. */
  readonly cumulative: tf.Tensor2D;
  /** N×37 per-question conditional predictions (tree models only). */
  readonly conditional?: tf.Tensor2D;
}

/**
 * For a model ending in a DecisionTreeLayer, a view of the same layers (same weights) that outputs
 * the per-question conditional distributions; cumulative outputs are then derived with the same
 * tree arithmetic, so one forward pass feeds both MSE and the per-question losses. Other models
 * (the flat seed model) are used as they are, with cumulative outputs only.
 */
export function modelView(model: tf.LayersModel): ModelView {
  const tree = findTreeLayer(model);
  if (!tree) return { net: model, conditional: false, q6Reach: 'kaggle' };
  const input = tree.input;
  if (Array.isArray(input)) throw new Error('DecisionTreeLayer must have exactly one input');
  return { net: tf.model({ inputs: model.inputs, outputs: input }), conditional: true, q6Reach: tree.q6Reach };
}

/** Runs the view: cumulative predictions, plus conditional ones for tree models. */
export function forward(view: ModelView, images: tf.Tensor4D, training: boolean): ModelOutputs {
  const out = view.net.apply(images, { training }) as tf.Tensor2D;
  if (!view.conditional) return { cumulative: out };
  return { conditional: out, cumulative: cumulativeFromConditional(out, view.q6Reach) };
}

/** uint8 NHWC pixels → float32 [0, 1] tensor. */
export function imagesToTensor(
  batch: { readonly images: Uint8Array; readonly size: number },
  shape: readonly [number, number, number],
): tf.Tensor4D {
  const pixels = batch.images;
  const scaled = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) scaled[i] = pixels[i] * (1 / 255);
  return tf.tensor4d(scaled, [batch.size, shape[0], shape[1], shape[2]]);
}
