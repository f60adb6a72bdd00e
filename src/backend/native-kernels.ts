/**
 * Kernels the project registers on tfjs-node's 'tensorflow' backend in place of tfjs-node 4.22's
 * own, where those are slow. Same results, different implementation.
 *
 * Step (the derivative of relu used by every fused conv/dense gradient): tfjs-node builds it
 * from `tf.ones(x.shape)` and `tf.fill(x.shape, alpha)`, which allocate and upload a
 * full-size JS array each call — 0.7 s per step for the first conv layer at 106×106, a third of
 * the training step. Here it is Sign(Relu(x)) — 1 where x > 0, 0 where x ≤ 0, NaN where x is NaN,
 * like the original — and with alpha ≠ 0 Select(IsNan(x), x, Cast(x > 0)·(1 − alpha) + alpha).
 *
 * Sum over every axis but the last (the bias gradient of every conv and dense layer): TensorFlow's
 * BiasAddGrad computes exactly that reduction, about 3× faster than the general Sum.
 *
 * MaxPoolGrad: TensorFlow's generic CPU kernel takes 43 ms for the seed CNN's first pool at
 * 106×106 (64×104×104×32), the largest single op of a training step. Where TensorFlow is built
 * with oneDNN (the Linux x86 builds), its oneDNN max-pool backward is called instead: the forward
 * is rerun to get the workspace (the argmax record) that op needs, and the two together take
 * about 17 ms. Same gradient, bit for bit. Elsewhere the stock kernel stays.
 *
 * Relu's gradient (every conv and dense layer with a relu): tfjs-core writes it as dy · Step(x),
 * two full-size passes plus Step's two; TensorFlow's ReluGrad is one, 2–3× faster (24 vs 11 ms
 * for the seed CNN's first layer at 64×64). Same values wherever x is finite; where x is NaN
 * ReluGrad gives 0 (Step gives NaN) — the forward relu(NaN) is NaN and already poisons the loss.
 * Off with GZH_FUSED_KERNELS=0 (src/backend/fusion.ts).
 *
 * FusedBatchNorm (batch norm at inference: prediction, validation): tfjs-node runs TensorFlow's
 * FusedBatchNorm op with is_training false, whose CPU kernel is an order of magnitude slower than
 * the same op in training mode — 137 ms for 32×64×64×32, two thirds of a deep-trunk prediction.
 * Here it is the affine map it stands for, x·k + (offset − mean·k) with k = scale / √(variance + ε):
 * two passes, 14 ms. Same values to float rounding (~1e-6). Off with GZH_FUSED_KERNELS=0.
 */
import * as tf from '@tensorflow/tfjs';
import { type NodeBackend, type OpAttr, nodeBackend, onNativeBackend, typeAttr } from './node-binding.js';
import { fusedKernelsEnabled } from './fusion.js';
import { registerNativeConv } from './native-conv.js';

function step(backend: NodeBackend, x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.tidy(() => {
    const dtype = x.dtype;
    const T = typeAttr(backend, 'T', dtype);
    if (alpha === 0) return backend.executeSingleOutput('Sign', [T], [backend.executeSingleOutput('Relu', [T], [x])]);
    const positive = backend.executeSingleOutput('Greater', [T], [x, tf.scalar(0, dtype)]);
    let s = backend.executeSingleOutput(
      'Cast',
      [
        { name: 'SrcT', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_BOOL },
        typeAttr(backend, 'DstT', dtype),
        { name: 'Truncate', type: backend.binding.TF_ATTR_BOOL, value: false },
      ],
      [positive],
    );
    s = tf.add(tf.mul(s, tf.scalar(1 - alpha, dtype)), tf.scalar(alpha, dtype));
    const nan = backend.executeSingleOutput('IsNan', [T], [x]);
    return backend.executeSingleOutput('Select', [T], [nan, x, s]);
  });
}

/** True when `axes` are exactly 0 … rank − 2 (every axis but the channel axis). */
function allButLast(axes: readonly number[], rank: number): boolean {
  if (rank < 2 || axes.length !== rank - 1) return false;
  return [...axes].sort((a, b) => a - b).every((a, i) => a === i);
}

/** Sum over every axis but the last as TensorFlow's BiasAddGrad (same reduction, faster kernel). */
function channelSum(backend: NodeBackend, x: tf.Tensor, keepDims: boolean): tf.Tensor {
  const out = backend.executeSingleOutput(
    'BiasAddGrad',
    [typeAttr(backend, 'T', x.dtype), { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' }],
    [x],
  );
  if (!keepDims) return out;
  return tf.tidy(() => tf.reshape(out, [...x.shape.slice(0, -1).map(() => 1), x.shape[x.rank - 1]!]));
}

/** oneDNN's max pool (forward with workspace, and backward), reached through the kernel label TensorFlow gives them. */
function oneDnnPoolAttrs(
  backend: NodeBackend,
  dtype: tf.DataType,
  ksize: number[],
  strides: number[],
  padding: string,
): OpAttr[] {
  return [
    typeAttr(backend, 'T', dtype),
    { name: 'ksize', type: backend.binding.TF_ATTR_INT, value: ksize },
    { name: 'strides', type: backend.binding.TF_ATTR_INT, value: strides },
    { name: 'padding', type: backend.binding.TF_ATTR_STRING, value: padding },
    { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'workspace_enabled', type: backend.binding.TF_ATTR_BOOL, value: true },
    { name: '_kernel', type: backend.binding.TF_ATTR_STRING, value: 'MklNameChangeOp' },
  ];
}

function oneDnnMaxPoolGrad(backend: NodeBackend, dy: tf.Tensor, input: tf.Tensor, attrs: OpAttr[]): tf.Tensor {
  const [output, workspace] = backend.executeMultipleOutputs('_MklNativeMaxPool', attrs, [input], 2) as [
    tf.Tensor,
    tf.Tensor,
  ];
  try {
    return backend.executeSingleOutput('_MklNativeMaxPoolGrad', attrs, [input, output, dy, workspace]);
  } finally {
    output.dispose();
    workspace.dispose();
  }
}

/** Whether this TensorFlow build has the oneDNN pooling kernels (tried on a 1×2×2×1 tensor). */
function hasOneDnnMaxPool(backend: NodeBackend): boolean {
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d([1, 4, 2, 3], [1, 2, 2, 1]);
      const dy = tf.tensor4d([5], [1, 1, 1, 1]);
      const dx = oneDnnMaxPoolGrad(
        backend,
        dy,
        x,
        oneDnnPoolAttrs(backend, 'float32', [1, 2, 2, 1], [1, 2, 2, 1], 'VALID'),
      );
      return Array.from(dx.dataSync()).join(',') === '0,5,0,0';
    });
  } catch {
    return false;
  }
}

let registered = false;
/** Set on the first MaxPoolGrad: whether this TensorFlow build has oneDNN's pooling kernels. */
let oneDnnPooling: boolean | undefined;

/** Whether MaxPoolGrad runs oneDNN's kernel (undefined until the first max-pool gradient). */
export function usesOneDnnMaxPoolGrad(): boolean | undefined {
  return oneDnnPooling;
}

/** tfjs-node's own kernel functions for the kernels replaced here (used outside the fast cases). */
const stock = new Map<string, tf.KernelFunc>();

function stockKernel(name: string): tf.KernelFunc {
  const kernel = stock.get(name);
  if (!kernel) throw new Error(`stock ${name} kernel unavailable`);
  return kernel;
}

/** Registers the replacement kernels once (replacing tfjs-node's registrations). */
export function registerNativeKernels(): void {
  if (registered) return;
  registered = true;
  replaceReluGradient();
  registerNativeConv();
  replaceKernel({
    kernelName: tf.Step,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.Tensor }).x;
      // Only float32 reaches Step during training; keep the stock path for anything else.
      if (x.dtype !== 'float32') return stockKernel(tf.Step)(args);
      const alpha = (args.attrs as { alpha?: number } | undefined)?.alpha ?? 0;
      return step(args.backend as unknown as NodeBackend, x, alpha);
    },
  });
  replaceKernel({
    kernelName: tf.MaxPoolGrad,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const backend = args.backend as unknown as NodeBackend;
      const { dy, input } = args.inputs as { dy: tf.Tensor4D; input: tf.Tensor4D };
      const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
        filterSize: number | [number, number];
        strides: number | [number, number];
        pad: 'valid' | 'same' | number;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      const info = tf.backend_util.computePool2DInfo(input.shape, filterSize, strides, 1, pad, dimRoundingMode);
      oneDnnPooling ??= hasOneDnnMaxPool(backend);
      if (
        !oneDnnPooling ||
        input.dtype !== 'float32' ||
        (info.padInfo.type !== 'VALID' && info.padInfo.type !== 'SAME')
      ) {
        return stockKernel(tf.MaxPoolGrad)(args);
      }
      const attrs = oneDnnPoolAttrs(
        backend,
        input.dtype,
        [1, info.filterHeight, info.filterWidth, 1],
        [1, info.strideHeight, info.strideWidth, 1],
        info.padInfo.type,
      );
      return oneDnnMaxPoolGrad(backend, dy, input, attrs);
    },
  });
  replaceKernel({
    kernelName: tf.FusedBatchNorm,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const inputs = args.inputs as unknown as BatchNormInputs;
      if (!affineCase(inputs)) return stockKernel(tf.FusedBatchNorm)(args);
      return affineBatchNorm(inputs, (args.attrs as { varianceEpsilon: number }).varianceEpsilon);
    },
  });
  replaceKernel({
    kernelName: tf.Sum,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.Tensor }).x;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      if (x.dtype !== 'float32' || !allButLast(tf.util.parseAxisParam(axis, x.shape), x.rank))
        return stockKernel(tf.Sum)(args);
      return channelSum(args.backend as unknown as NodeBackend, x, keepDims);
    },
  });
}

/** Inference batch norm over the last axis of a rank-4 tensor as x·k + c (k, c per channel). */
interface BatchNormInputs {
  readonly x: tf.Tensor;
  readonly mean: tf.Tensor;
  readonly variance: tf.Tensor;
  readonly scale?: tf.Tensor;
  readonly offset?: tf.Tensor;
}

/** Whether the affine path applies: a float32 NHWC input and per-channel (1-D) statistics. */
function affineCase({ x, mean, variance, scale, offset }: BatchNormInputs): boolean {
  const channels = x.shape[x.rank - 1];
  const perChannel = [mean, variance, scale, offset].every((t) => !t || (t.rank === 1 && t.size === channels));
  return x.rank === 4 && x.dtype === 'float32' && perChannel && fusedKernelsEnabled();
}

function affineBatchNorm(inputs: BatchNormInputs, epsilon: number): tf.Tensor {
  const { x, mean, variance, scale, offset } = inputs;
  return tf.tidy(() => {
    let k = tf.rsqrt(tf.add(variance, tf.scalar(epsilon)));
    if (scale) k = tf.mul(k, scale);
    const shift = offset ? tf.sub(offset, tf.mul(mean, k)) : tf.neg(tf.mul(mean, k));
    // Rows of W·C values with k and the shift tiled W times: TensorFlow broadcasts a long last axis
    // far faster than a short one (a group batch norm has 8 channels).
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const rows = tf.reshape(x, [n * h, w * c]);
    const y = tf.add(tf.mul(rows, tf.tile(k, [w])), tf.tile(shift, [w]));
    return tf.reshape(y, x.shape);
  });
}

/** Relu's registered gradient, replaced by one that runs TensorFlow's ReluGrad on the native backend. */
function replaceReluGradient(): void {
  const stockGrad = tf.getGradient(tf.Relu);
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const d = dy as tf.Tensor;
      const native = x.dtype === 'float32' && d.dtype === 'float32' && onNativeBackend() && fusedKernelsEnabled();
      if (!native) return stockGrad.gradFunc(dy, saved, attrs);
      return {
        x: () => {
          const backend = nodeBackend();
          return backend.executeSingleOutput('ReluGrad', [typeAttr(backend, 'T', 'float32')], [d, x]);
        },
      };
    },
  });
}

function replaceKernel(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing) {
    stock.set(config.kernelName, existing.kernelFunc);
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}
