/**
 * Convolution plus bias as one native op on the `tensorflow` backend, with a gradient that
 * computes only the inputs' gradients the tape asks for.
 *
 * tfjs-layers' Conv2D runs, in training, Conv2D then a broadcasting Add for the bias: TensorFlow's
 * Add is a separate pass over the whole output (12 ms for the seed CNN's first layer at 64×64 on
 * two cores, where the convolution itself takes 5). oneDNN's convolution adds the bias in the same
 * pass: where TensorFlow is built with oneDNN (the Linux x86 builds) and `GZH_ONEDNN_CONV=1`, its
 * `_MklNativeConv2DWithBias` kernel is reached through the kernel label TensorFlow gives it;
 * otherwise Conv2D + BiasAdd run.
 *
 * Without a bias tfjs-layers calls tf.fused.conv2d, whose gradient always computes the input's
 * gradient too — a full Conv2DBackpropInput that the first layer of a model (its input is the
 * image) throws away: 32 ms of a 430 ms deep-trunk step at 64×64. The kernel registered here
 * declares its gradients per input, so the tape skips the ones nothing needs.
 */
import * as tf from '@tensorflow/tfjs';
import { type NodeBackend, type OpAttr, typeAttr } from './node-binding.js';

/** The kernel's name in the tfjs registry. */
const KERNEL = 'GzhConv2D';

/** Stride and padding of a 2-D convolution (dilation 1, NHWC). */
export interface ConvGeometry {
  readonly strides: readonly [number, number];
  readonly pad: 'same' | 'valid';
}

type ConvAttrs = ConvGeometry & tf.NamedAttrMap;

function convAttrs(backend: NodeBackend, { strides, pad }: ConvGeometry, oneDnn: boolean): OpAttr[] {
  const { TF_ATTR_INT, TF_ATTR_STRING, TF_ATTR_BOOL } = backend.binding;
  const attrs: OpAttr[] = [
    typeAttr(backend, 'T', 'float32'),
    { name: 'strides', type: TF_ATTR_INT, value: [1, strides[0], strides[1], 1] },
    { name: 'padding', type: TF_ATTR_STRING, value: pad.toUpperCase() },
    { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: TF_ATTR_INT, value: [1, 1, 1, 1] },
    { name: 'use_cudnn_on_gpu', type: TF_ATTR_BOOL, value: true },
  ];
  if (oneDnn) {
    attrs.push({ name: 'explicit_paddings', type: TF_ATTR_INT, value: [] });
    attrs.push({ name: 'is_filter_const', type: TF_ATTR_BOOL, value: false });
    attrs.push({ name: '_kernel', type: TF_ATTR_STRING, value: 'MklNameChangeOp' });
  }
  return attrs;
}

/** Conv2D + BiasAdd through TensorFlow's ops: oneDNN's fused kernel when `oneDnn`, else two ops. */
function convolve(
  backend: NodeBackend,
  x: tf.Tensor,
  filter: tf.Tensor,
  bias: tf.Tensor | undefined,
  g: ConvGeometry,
  oneDnn: boolean,
): tf.Tensor {
  if (bias && oneDnn)
    return backend.executeSingleOutput('_MklNativeConv2DWithBias', convAttrs(backend, g, true), [x, filter, bias]);
  const y = backend.executeSingleOutput('Conv2D', convAttrs(backend, g, false), [x, filter]);
  if (!bias) return y;
  try {
    const format = { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' };
    return backend.executeSingleOutput('BiasAdd', [typeAttr(backend, 'T', 'float32'), format], [y, bias]);
  } finally {
    y.dispose();
  }
}

/** Whether oneDNN's conv-with-bias kernel runs here and matches Conv2D + BiasAdd (tried on a tiny case). */
function probeOneDnn(backend: NodeBackend): boolean {
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      const w = tf.tensor4d([1, 0, -1, 2], [2, 2, 1, 1]);
      const b = tf.tensor1d([0.5]);
      const g: ConvGeometry = { strides: [1, 1], pad: 'valid' };
      const fused = convolve(backend, x, w, b, g, true).dataSync();
      const plain = convolve(backend, x, w, b, g, false).dataSync();
      return fused.length === plain.length && fused.every((v, i) => v === plain[i]);
    });
  } catch {
    return false;
  }
}

let oneDnnConv: boolean | undefined;

/**
 * oneDNN's internal `_MklNativeConv2DWithBias` is opt-in (`GZH_ONEDNN_CONV=1`): called eagerly it has
 * aborted a test process with heap corruption ("corrupted size vs. prev_size"), so by default the
 * convolution is TensorFlow's public Conv2D + BiasAdd ops.
 */
function oneDnnRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GZH_ONEDNN_CONV === '1';
}

/** Whether the conv-with-bias runs oneDNN's fused kernel (undefined until the first call). */
export function usesOneDnnConvWithBias(): boolean | undefined {
  return oneDnnConv;
}

function forward(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as NodeBackend;
  const { x, filter, bias } = args.inputs as { x: tf.Tensor; filter: tf.Tensor; bias?: tf.Tensor };
  oneDnnConv ??= oneDnnRequested() && probeOneDnn(backend);
  return convolve(backend, x, filter, bias, args.attrs as unknown as ConvGeometry, oneDnnConv);
}

function gradient(
  dy: tf.Tensor | tf.Tensor[],
  saved: tf.Tensor[],
  attrs: tf.NamedAttrMap,
): Record<string, () => tf.Tensor> {
  const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
  const d = dy as tf.Tensor4D;
  const { strides, pad } = attrs as unknown as ConvGeometry;
  const common = { strides: [...strides], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  return {
    x: () =>
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: d, filter }, {
        ...common,
        inputShape: x.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    filter: () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: d }, {
        ...common,
        filterShape: filter.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    bias: () => tf.sum(d, [0, 1, 2]),
  };
}

let registered = false;

/** Registers the kernel on the `tensorflow` backend and its gradient (once). */
export function registerNativeConv(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: KERNEL, backendName: 'tensorflow', kernelFunc: forward as tf.KernelFunc });
  tf.registerGradient({ kernelName: KERNEL, inputsToSave: ['x', 'filter'], gradFunc: gradient });
}

/**
 * conv2d(x, filter) + bias (NHWC, float32, dilation 1) as one native op where oneDNN has it.
 * Differentiable in x, filter and bias; only the gradients a caller needs are computed.
 * Requires the `tensorflow` backend with the native kernels registered (see loadNative).
 */
export function conv2dWithBias(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  geometry: ConvGeometry,
): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  const attrs: ConvAttrs = { strides: geometry.strides, pad: geometry.pad };
  return tf.engine().runKernel(KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
