import * as tf from '@tensorflow/tfjs';
import { defaultPart, VIEW_COUNT, viewTables, type ViewGeometry, type ViewTables } from './view-geometry.js';
import { firstInput, firstShape, type Kwargs, type LayerArgs } from './layer-util.js';

export interface KaggleViewsArgs extends LayerArgs {
  /** Side of the centre region cut from the input, input pixels (default: the whole input). */
  readonly crop?: number;
  /** Side the crop is resampled to (default: `crop`, no resampling). */
  readonly cropSize?: number;
  /** Side of each corner part (default: 45/69 of `cropSize`, the winner's proportions). */
  readonly part?: number;
}

/**
 * The Kaggle winner's view slice (Dieleman, Willett & Dambre 2015) as one layer: from each
 * N×S×S×C image, two crops (upright and rotated 45°, bilinear), each also mirrored, each cut into 4
 * overlapping corner parts turned so the galaxy centre sits in the same corner: 16 views stacked
 * view-major along the batch axis (16·N rows) for one shared conv stack. A quarter turn or mirror
 * of the input permutes the views; {@link CyclicPool} merges them (`concat` as the winner did).
 */
export class KaggleViews extends tf.layers.Layer {
  static readonly className = 'KaggleViews';
  readonly crop: number | undefined;
  readonly cropSize: number | undefined;
  readonly part: number | undefined;
  private tables: { geometry: ViewGeometry; tables: ViewTables } | null = null;

  constructor(args: KaggleViewsArgs = {}) {
    super(args);
    this.crop = args.crop;
    this.cropSize = args.cropSize;
    this.part = args.part;
  }

  /** The geometry for an S-pixel input, checked. */
  geometry(size: number): ViewGeometry {
    const crop = this.crop ?? size;
    const cropSize = this.cropSize ?? crop;
    const part = this.part ?? defaultPart(cropSize);
    for (const [name, value] of [
      ['crop', crop],
      ['cropSize', cropSize],
      ['part', part],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`KaggleViews ${name} must be a positive integer, got ${value}`);
    }
    if (crop > size) throw new RangeError(`KaggleViews crop ${crop} is larger than the ${size}-pixel input`);
    if (part > cropSize) throw new RangeError(`KaggleViews part ${part} is larger than the ${cropSize}-pixel crop`);
    return { size, crop, cropSize, part };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    if (shape.length !== 4 || shape[1] === null || shape[1] !== shape[2]) {
      throw new RangeError(`KaggleViews expects square images [batch, S, S, channels], got [${shape.join(', ')}]`);
    }
    const { part } = this.geometry(shape[1]!);
    return [shape[0] === null ? null : shape[0]! * VIEW_COUNT, part, part, shape[3]!];
  }

  private tablesFor(size: number): ViewTables {
    if (this.tables?.geometry.size !== size) {
      const geometry = this.geometry(size);
      this.tables = { geometry, tables: viewTables(geometry) };
    }
    return this.tables.tables;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = firstInput(inputs) as tf.Tensor4D;
    const [n, size, , channels] = x.shape;
    const { part } = this.geometry(size);
    const { indices, weights } = this.tablesFor(size);
    return tf.tidy(() => {
      const flat = tf.reshape(x, [n, size * size, channels]);
      const sampled = indices
        .map((idx, k) =>
          tf.mul(tf.gather(flat, tf.tensor1d(idx, 'int32'), 1), tf.tensor3d(weights[k]!, [1, idx.length, 1])),
        )
        .reduce((a, b) => tf.add(a, b));
      const views = tf.reshape(sampled, [n, VIEW_COUNT, part, part, channels]);
      return tf.reshape(tf.transpose(views, [1, 0, 2, 3, 4]), [VIEW_COUNT * n, part, part, channels]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig() };
    if (this.crop !== undefined) config.crop = this.crop;
    if (this.cropSize !== undefined) config.cropSize = this.cropSize;
    if (this.part !== undefined) config.part = this.part;
    return config;
  }
}
tf.serialization.registerClass(KaggleViews);
