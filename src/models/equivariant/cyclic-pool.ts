import * as tf from '@tensorflow/tfjs';
import { firstInput, firstShape, foldedBatch, type Kwargs, type LayerArgs } from './layer-util.js';

/** `mean`/`rms`: invariant averages of the copies; `concat`: the copies' features side by side. */
export type PoolMode = 'mean' | 'rms' | 'concat';
export const POOL_MODES: readonly PoolMode[] = ['mean', 'rms', 'concat'];

/** Added under the root of the RMS pool, so its gradient stays finite where every copy is zero. */
export const RMS_EPSILON = 1e-7;

export interface CyclicPoolArgs extends LayerArgs {
  /** Number of stacked copies (4 or 8 after a CyclicSlice, 16 after KaggleViews). */
  readonly copies: number;
  /** Default `mean`. */
  readonly mode?: PoolMode;
}

/**
 * Cyclic pool (Dieleman et al. 2016): folds a copy-major stack of `copies`·N rows back into N.
 * `mean` and `rms` (√(mean x² + ε)) are invariant to any permutation of the copies; `concat`
 * (the Kaggle winner's merge of his 16 views; rank-2 input only) keeps each copy's features in
 * its own columns, copy-major.
 */
export class CyclicPool extends tf.layers.Layer {
  static readonly className = 'CyclicPool';
  readonly copies: number;
  readonly mode: PoolMode;

  constructor(args: CyclicPoolArgs) {
    super(args);
    if (!Number.isInteger(args.copies) || args.copies < 1)
      throw new RangeError(`CyclicPool copies must be a positive integer, got ${args.copies}`);
    this.copies = args.copies;
    this.mode = args.mode ?? 'mean';
    if (!POOL_MODES.includes(this.mode))
      throw new RangeError(`CyclicPool mode must be one of ${POOL_MODES.join(', ')}, got ${JSON.stringify(this.mode)}`);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    const batch = foldedBatch(shape[0] ?? null, this.copies);
    if (this.mode !== 'concat') return [batch, ...shape.slice(1)];
    if (shape.length !== 2)
      throw new RangeError(`CyclicPool concat expects [batch, features], got [${shape.join(', ')}]`);
    return [batch, shape[1] === null ? null : shape[1] * this.copies];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = firstInput(inputs);
    return tf.tidy(() => {
      const rows = x.shape[0]!;
      if (rows % this.copies !== 0)
        throw new RangeError(`${this.name}: a batch of ${rows} rows is not ${this.copies} stacked copies`);
      const n = rows / this.copies;
      const stacked = tf.reshape(x, [this.copies, n, ...x.shape.slice(1)]);
      if (this.mode === 'mean') return tf.mean(stacked, 0);
      if (this.mode === 'rms') return tf.sqrt(tf.add(tf.mean(tf.square(stacked), 0), RMS_EPSILON));
      return tf.reshape(tf.transpose(stacked, [1, 0, 2]), [n, this.copies * x.shape[1]!]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), copies: this.copies, mode: this.mode };
  }
}
tf.serialization.registerClass(CyclicPool);
