import * as tf from '@tensorflow/tfjs';

export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
export type Kwargs = Parameters<tf.layers.Layer['call']>[1];

/** The single input shape of a one-input layer. */
export function firstShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

/** The single input tensor of a one-input layer. */
export function firstInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** Splits a copy-major stacked batch (count·N rows) into its copies of N rows. */
export function splitCopies(x: tf.Tensor, count: number, layer: string): tf.Tensor[] {
  const rows = x.shape[0]!;
  if (rows % count !== 0) throw new RangeError(`${layer}: a batch of ${rows} rows is not ${count} stacked copies`);
  return count === 1 ? [x] : tf.split(x, count, 0);
}

/** Batch size after folding `count` stacked copies (null when unknown). */
export function foldedBatch(rows: number | null, count: number): number | null {
  return rows === null ? null : rows / count;
}
