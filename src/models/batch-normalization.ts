import * as tf from '@tensorflow/tfjs';
import { onNativeBackend } from '../backend/node-binding.js';
import { fusedBatchNormTraining } from '../backend/native-batch-norm.js';
import { registerStockReplacement, stockLayerClass } from './stock-layer.js';

type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;

/** The fields of tfjs-layers' BatchNormalization this subclass reads (private in its typings). */
interface BatchNormInternals {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gamma: tf.LayerVariable;
  readonly beta: tf.LayerVariable;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;
}

const StockBatchNormalization = stockLayerClass<BatchNormArgs | undefined>('BatchNormalization');

/**
 * tfjs-layers' BatchNormalization with a fast training path on the native backend: for NHWC
 * input normalised over the channel axis it runs TensorFlow's fused batch-norm ops (see
 * src/backend/native-batch-norm.ts) instead of tf.moments + tf.batchNorm and their element-wise
 * gradient. Same weights, same moving-average update, same config; inference and every other
 * backend use the stock code.
 *
 * It registers under the stock class name, so saved models stay standard `BatchNormalization`
 * layers that plain TensorFlow.js loads, and models loaded here get the fast path.
 */
export class BatchNormalization extends StockBatchNormalization {
  /** Name under which the layer is serialised. */
  static readonly className = 'BatchNormalization';

  constructor(args: BatchNormArgs = {}) {
    super(args);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const training = (kwargs as { training?: boolean } | undefined)?.training ?? false;
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const self = this as unknown as BatchNormInternals;
    const channelAxis = self.axis < 0 ? self.axis + input.rank : self.axis;
    if (
      !training ||
      !onNativeBackend() ||
      input.rank !== 4 ||
      channelAxis !== 3 ||
      input.dtype !== 'float32' ||
      !self.center ||
      !self.scale
    ) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = fusedBatchNormTraining(
        input as tf.Tensor4D,
        self.gamma.read() as tf.Tensor1D,
        self.beta.read() as tf.Tensor1D,
        self.epsilon,
      );
      // The stock layer's update: moving ← moving − (moving − batch)·(1 − momentum).
      for (const [variable, value] of [
        [self.movingMean, mean],
        [self.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - self.momentum)));
        });
      }
      return y;
    });
  }
}
registerStockReplacement(BatchNormalization);

/** Drop-in for `tf.layers.batchNormalization` returning the fast-path layer. */
export function batchNormalization(args: BatchNormArgs = {}): tf.layers.Layer {
  return new BatchNormalization(args);
}
