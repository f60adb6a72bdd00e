/**
 * Evaluation: streams a split through a model in inference mode and accumulates loss and
 * regression metrics; also the checks that a model and a split fit each other, which training
 * runs too before its first batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, BatchSource } from '../data/batch.js';
import { forward, imagesToTensor, modelView, type ModelView } from '../models/forward.js';
import { ANSWER_COUNT } from '../questions/index.js';
import type { PrepareHook } from './hooks.js';
import { computeLoss, lossNeedsCounts, type LossSpec, type LossTargets } from './losses.js';
import { MetricsAccumulator, type RegressionMetrics } from './metrics.js';

/** A batch's targets as tensors (vote counts only when `counts` and the batch has them). */
export function targetsOf(batch: Batch, counts: boolean): LossTargets {
  const shape: [number, number] = [batch.size, ANSWER_COUNT];
  return {
    cumulative: tf.tensor2d(batch.cumulative, shape),
    conditional: tf.tensor2d(batch.conditional, shape),
    ...(counts && batch.counts ? { counts: tf.tensor2d(batch.counts, shape) } : {}),
  };
}

/**
 * Plain errors for data a model cannot take: an empty split, a model without 37 outputs, images of
 * another size or channel count (smaller network inputs are fine when `cropped`: an augment or
 * prepare hook cuts them out of the source images).
 */
export function checkModelAndData(net: tf.LayersModel, source: BatchSource, cropped: boolean): void {
  if (source.length === 0) throw new RangeError(`the ${source.split} data is empty`);
  const out = net.outputs[0]?.shape;
  const width = out?.[out.length - 1];
  if (net.outputs.length !== 1 || width !== ANSWER_COUNT) {
    throw new RangeError(
      `the model must have one output of ${ANSWER_COUNT} values (the Galaxy Zoo answers), got [${out?.join(', ')}]`,
    );
  }
  const input = net.inputs[0]?.shape;
  const [h, w, c] = source.shape;
  if (!input || input.length !== 4) return;
  const [, ih, iw, ic] = input;
  const fits = ic === c && (cropped ? (ih ?? 0) <= h && (iw ?? 0) <= w : ih === h && iw === w);
  if (!fits) {
    const hint = cropped ? '' : ' (without an augment or prepare hook to crop them)';
    throw new RangeError(
      `the model takes ${ih}×${iw}×${ic} images but the ${source.split} data has ${h}×${w}×${c}${hint}`,
    );
  }
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Galaxies per forward pass (default 64). */
  readonly batchSize?: number;
  /** Applied to images before the forward pass (e.g. the augmenter's centre crop). */
  readonly prepare?: PrepareHook;
  /** Also compute this loss (mean over galaxies). */
  readonly loss?: LossSpec;
  /** Also compute metrics on the conditional outputs (tree models only). */
  readonly conditionalMetrics?: boolean;
}

/** What {@link evaluate} measured on a split. */
export interface EvaluationResult {
  /** Mean loss over the split, when a loss was asked for. */
  readonly loss?: number;
  /** Metrics on the cumulative outputs. */
  readonly metrics: RegressionMetrics;
  /** Metrics on the conditional outputs, when asked for. */
  readonly conditionalMetrics?: RegressionMetrics;
}

// a type alias, not an interface: tf.tidy's result must have an index signature
type BatchOutputs = { pred: tf.Tensor; cond?: tf.Tensor; loss?: tf.Tensor };

/** Streams a split through the model (inference mode) and accumulates loss and metrics. */
export async function evaluate(
  model: tf.LayersModel | ModelView,
  source: BatchSource,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const view = 'net' in model ? model : modelView(model);
  checkModelAndData(view.net, source, options.prepare !== undefined);
  const cumulative = new MetricsAccumulator();
  const conditional = options.conditionalMetrics && view.conditional ? new MetricsAccumulator() : null;
  const counts = options.loss ? lossNeedsCounts(options.loss) : false;
  let lossSum = 0;
  for await (const batch of source.batches({ batchSize: options.batchSize ?? 64, shuffle: false, seed: 0, epoch: 0 })) {
    const outputs = tf.tidy(() => {
      const raw = imagesToTensor(batch, source.shape);
      const out = forward(view, options.prepare ? options.prepare(raw) : raw, false);
      return {
        pred: out.cumulative,
        ...(conditional && out.conditional ? { cond: out.conditional } : {}),
        ...(options.loss ? { loss: computeLoss(options.loss, out, targetsOf(batch, counts)) } : {}),
      } as BatchOutputs;
    });
    cumulative.update(batch.cumulative, outputs.pred.dataSync(), batch.size);
    if (conditional && outputs.cond) conditional.update(batch.conditional, outputs.cond.dataSync(), batch.size);
    if (outputs.loss) lossSum += outputs.loss.dataSync()[0] * batch.size;
    tf.dispose(Object.values(outputs));
  }
  return {
    ...(options.loss ? { loss: lossSum / cumulative.count } : {}),
    metrics: cumulative.result(),
    ...(conditional ? { conditionalMetrics: conditional.result() } : {}),
  };
}

/** Cumulative predictions for every galaxy of a split, batch by batch, in split order. */
export async function* predictBatches(
  model: tf.LayersModel,
  source: BatchSource,
  options: { batchSize?: number; prepare?: PrepareHook } = {},
): AsyncGenerator<{
  /** GalaxyIDs of the batch. */
  ids: readonly string[];
  /** Their cumulative predictions, 37 per galaxy. */
  cumulative: Float32Array;
}> {
  const view = modelView(model);
  for await (const batch of source.batches({ batchSize: options.batchSize ?? 64, shuffle: false, seed: 0, epoch: 0 })) {
    const pred = tf.tidy(() => {
      const raw = imagesToTensor(batch, source.shape);
      return forward(view, options.prepare ? options.prepare(raw) : raw, false).cumulative;
    });
    const values = pred.dataSync() as Float32Array;
    pred.dispose();
    yield { ids: batch.ids, cumulative: values };
  }
}
