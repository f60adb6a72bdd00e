import * as tf from '@tensorflow/tfjs';
import { onNativeBackend } from '../backend/node-binding.js';
import { nativeDropout } from '../backend/native-dropout.js';
import { registerStockReplacement, stockLayerClass } from './stock-layer.js';

type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type DropoutArgs = Parameters<typeof tf.layers.dropout>[0];

interface DropoutInternals {
  readonly rate: number;
  readonly seed?: number;
  getNoiseShape(input: tf.Tensor): number[] | undefined;
  invokeCallHook(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): void;
}

const StockDropout = stockLayerClass<DropoutArgs>('Dropout');

/**
 * tfjs-layers' Dropout whose training-time noise comes from TensorFlow's RandomUniform op on the
 * native backend (src/backend/native-dropout.ts) rather than a JS generator. Same rate, scaling
 * and config. With an explicit `seed`, at inference, and on other backends it is the stock layer.
 * Registered under the stock class name: saved models stay standard `Dropout` layers.
 */
export class Dropout extends StockDropout {
  /** Name under which the layer is serialised. */
  static readonly className = 'Dropout';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as DropoutInternals;
    const training = (kwargs as { training?: boolean } | undefined)?.training ?? false;
    if (!training || self.seed != null || !(self.rate > 0 && self.rate < 1) || !onNativeBackend()) {
      return super.call(inputs, kwargs);
    }
    self.invokeCallHook(inputs, kwargs);
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    return nativeDropout(input, self.rate, self.getNoiseShape(input));
  }
}
registerStockReplacement(Dropout);

/** Drop-in for `tf.layers.dropout` returning the native-noise layer. */
export function dropout(args: DropoutArgs): tf.layers.Layer {
  return new Dropout(args);
}
