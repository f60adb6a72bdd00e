import * as tf from '@tensorflow/tfjs';
import { ANSWER_COUNT } from '../questions/index.js';
import { SEGMENT_SIZES } from './tree-ops.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

/** Softmax within each question's segment of 37 logits: N×37 logits → N×37 conditional distributions. */
export function questionSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const parts = tf.split(logits, SEGMENT_SIZES as number[], 1);
    return tf.concat(
      parts.map((p) => tf.softmax(p)),
      1,
    ) as tf.Tensor2D;
  });
}

/**
 * The 11 per-question softmax heads applied to one 37-unit logit layer. A Dense(37) followed by this
 * layer is exactly 11 Dense(k_q)+softmax heads side by side (each head owns its own columns of the
 * kernel and bias), computed as one matrix product. No weights; serializable.
 */
export class QuestionSoftmax extends tf.layers.Layer {
  /** Name under which the layer is serialised. */
  static readonly className = 'QuestionSoftmax';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 2 || (shape[1] !== null && shape[1] !== ANSWER_COUNT)) {
      throw new RangeError(`QuestionSoftmax expects input [batch, ${ANSWER_COUNT}], got [${shape.join(', ')}]`);
    }
    return [shape[0], ANSWER_COUNT];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
    return questionSoftmax(x);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}
tf.serialization.registerClass(QuestionSoftmax);
