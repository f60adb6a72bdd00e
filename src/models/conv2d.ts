import * as tf from '@tensorflow/tfjs';
import { fusedKernelsEnabled } from '../backend/fusion.js';
import { conv2dWithBias } from '../backend/native-conv.js';
import { onNativeBackend } from '../backend/node-binding.js';
import { registerStockReplacement, stockLayerClass } from './stock-layer.js';

type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];

/** The fields of tfjs-layers' Conv2D this subclass reads (protected in its typings). */
interface ConvInternals {
  readonly kernel: tf.LayerVariable;
  readonly bias: tf.LayerVariable | null;
  readonly strides: number[];
  readonly padding: string;
  readonly dataFormat: string;
  readonly dilationRate: number[];
  readonly activation: { apply(x: tf.Tensor): tf.Tensor };
}

const StockConv2D = stockLayerClass<Conv2DArgs>('Conv2D');

function nativeCase(self: ConvInternals, input: tf.Tensor): boolean {
  return (
    onNativeBackend() &&
    fusedKernelsEnabled() &&
    input.rank === 4 &&
    input.dtype === 'float32' &&
    self.dataFormat === 'channelsLast' &&
    (self.padding === 'same' || self.padding === 'valid') &&
    self.dilationRate.every((d) => d === 1)
  );
}

/**
 * tfjs-layers' Conv2D whose convolution and bias run as one native op on the `tensorflow` backend
 * (src/backend/native-conv.ts: oneDNN's conv-with-bias, gradients computed per input only when
 * needed), followed by the layer's activation (relu's gradient is TensorFlow's ReluGrad there).
 * Same weights, config and results; channels-first, dilated convolutions and other backends use
 * the stock code. Registered under the stock class name: saved models stay standard `Conv2D`
 * layers, and models loaded here get the native path.
 */
export class Conv2D extends StockConv2D {
  static readonly className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as ConvInternals;
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (!nativeCase(self, input)) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const bias = self.bias ? (self.bias.read() as tf.Tensor1D) : undefined;
      const geometry = {
        strides: [self.strides[0]!, self.strides[1]!] as [number, number],
        pad: self.padding as 'same' | 'valid',
      };
      return self.activation.apply(
        conv2dWithBias(input as tf.Tensor4D, self.kernel.read() as tf.Tensor4D, bias, geometry),
      );
    });
  }
}
registerStockReplacement(Conv2D);

/** Drop-in for `tf.layers.conv2d` returning the native-path layer. */
export function conv2d(args: Conv2DArgs): tf.layers.Layer {
  return new Conv2D(args);
}
