/**
 * Faster wasm kernels for the other hot spots of a CNN training step, each re-expressed with
 * wasm's own fast kernels and delegating to the stock kernel outside the case it handles.
 * (MaxPoolGrad, the largest remaining cost, stays stock: wasm's MaxPoolWithArgmax starts from
 * FLT_MIN and breaks ties towards the last maximum, and broadcasting 6-D element-wise ops are
 * far slower than the stock loop, so neither gives a correct, faster replacement.)
 *
 *  - BatchMatMul with transposeA/transposeB (dense-layer gradients): the stock kernel is several
 *    times slower with a transposed operand than with an explicit Transpose first.
 *  - Sum over the leading axes (bias gradients, Σ over N·H·W): the stock kernel transposes the
 *    whole tensor first; here it is ones[1, M] · x[M, C], a matrix–vector product.
 */
import * as tf from '@tensorflow/tfjs';

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(t, perm);
}

const onesCache = new Map<number, tf.Tensor2D>();
function onesRow(m: number): tf.Tensor2D {
  let ones = onesCache.get(m);
  if (!ones || ones.isDisposed) {
    if (onesCache.size >= 16) {
      for (const t of onesCache.values()) t.dispose();
      onesCache.clear();
    }
    ones = tf.keep(tf.ones([1, m]) as tf.Tensor2D);
    onesCache.set(m, ones);
  }
  return ones;
}

/** Σ over leading axes [0, k) of a float32 tensor as ones · X; undefined if not that case. */
export function sumLeadingAxes(x: tf.Tensor, axis: number | number[], keepDims: boolean): tf.Tensor | undefined {
  if (x.dtype !== 'float32' || x.rank < 2) return undefined;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const k = axes.length;
  if (k === 0 || k >= x.rank || axes.some((a, i) => a !== i)) return undefined;
  const m = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(k);
  const c = rest.reduce((a, b) => a * b, 1);
  if (m < 256 || c === 0) return undefined; // small: the stock kernel is fine
  return tf.tidy(() => {
    const s = tf.matMul(onesRow(m), tf.reshape(x, [m, c]));
    return tf.reshape(s, keepDims ? [...axes.map(() => 1), ...rest] : rest);
  });
}

let registered = false;

function wrap(
  kernelName: string,
  fast: (args: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | tf.TensorInfo[] | undefined,
): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}),
    ...(stock.disposeFunc ? { disposeFunc: stock.disposeFunc } : {}),
    kernelFunc: (args) => fast(args) ?? stock.kernelFunc(args),
  });
}

/** Registers the wrapped kernels on the 'wasm' backend (once). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;

  const stockMatMul = tf.getKernel(tf.BatchMatMul, 'wasm');
  wrap(tf.BatchMatMul, (args) => {
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    if (!transposeA && !transposeB) return undefined;
    const { a, b } = args.inputs as unknown as { a: tf.Tensor; b: tf.Tensor };
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || !stockMatMul) return undefined;
    const a2 = transposeA ? swapLastTwo(a) : a;
    const b2 = transposeB ? swapLastTwo(b) : b;
    try {
      return stockMatMul.kernelFunc({
        ...args,
        inputs: { a: a2, b: b2 },
        attrs: { ...(args.attrs as object), transposeA: false, transposeB: false },
      });
    } finally {
      if (a2 !== a) a2.dispose();
      if (b2 !== b) b2.dispose();
    }
  });

  wrap(tf.Sum, ({ inputs, attrs }) => {
    const { x } = inputs as unknown as { x: tf.Tensor };
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    return sumLeadingAxes(x, axis, keepDims);
  });
}
