/**
 * Kernels the project registers on tfjs-node's 'tensorflow' backend in place of tfjs-node 4.22's
 * own, where those are slow. Same results, different implementation.
 *
 * Step (the derivative of relu used by every fused conv/dense gradient): tfjs-node builds it
 * from `tf.ones(x.shape)` and `tf.fill(x.shape, alpha)`, which allocate and upload a
 * full-size JS array each call — 0.7 s per step for the first conv layer at 106×106, a third of
 * the training step. Here it is four native TF ops: Select(IsNan(x), x, Cast(x > 0)) (with
 * alpha ≠ 0: Cast(x > 0)·(1 − alpha) + alpha), which keeps NaN → NaN like the original.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-node's NodeJSKernelBackend used here. */
interface NodeBackend {
  readonly binding: { readonly TF_ATTR_TYPE: number; readonly TF_ATTR_BOOL: number; readonly TF_BOOL: number };
  getDTypeInteger(dtype: tf.DataType): number;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
}

interface OpAttr {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
}

function typeAttr(backend: NodeBackend, name: string, dtype: tf.DataType): OpAttr {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.getDTypeInteger(dtype) };
}

function step(backend: NodeBackend, x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.tidy(() => {
    const dtype = x.dtype;
    const T = typeAttr(backend, 'T', dtype);
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
    if (alpha !== 0) s = tf.add(tf.mul(s, tf.scalar(1 - alpha, dtype)), tf.scalar(alpha, dtype));
    const nan = backend.executeSingleOutput('IsNan', [T], [x]);
    return backend.executeSingleOutput('Select', [T], [nan, x, s]);
  });
}

let registered = false;

/** Registers the replacement kernels once (replacing tfjs-node's registrations). */
export function registerNativeKernels(): void {
  if (registered) return;
  registered = true;
  replaceKernel({
    kernelName: tf.Step,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = (inputs as { x: tf.Tensor }).x;
      if (x.dtype !== 'float32') {
        // Only float32 reaches Step during training; keep the stock path for anything else.
        return stockStep({ inputs, backend, attrs });
      }
      const alpha = (attrs as { alpha?: number } | undefined)?.alpha ?? 0;
      return step(backend as unknown as NodeBackend, x, alpha);
    },
  });
}

let stockStep: tf.KernelFunc = () => {
  throw new Error('stock Step kernel unavailable');
};

function replaceKernel(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing) {
    if (config.kernelName === tf.Step) stockStep = existing.kernelFunc;
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}
