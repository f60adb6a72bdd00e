/**
 * Convolution gradients for the wasm backend, built from wasm's own fast kernels (XNNPACK
 * Conv2D, BatchMatMul, Transpose, Pad, Slice, Concat).
 *
 * tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter (so it cannot train a CNN at all) and
 * its Conv2DBackpropInput is a scalar loop. Both are re-expressed as forward convolutions:
 *
 *  - dW[fh,fw,c,oc] = Σ_{n,oh,ow} x̂[n, oh·s+fh, ow·s+fw, c] · dy[n,oh,ow,oc], x̂ = x padded and
 *    cropped to (OH−1)·s+F rows/cols. That is Conv2D(input = x̂ᵀ[C,H,W,N], filter = dyᵀ[OH,OW,N,OC],
 *    dilation = s)[c,fh,fw,oc]. For 1–4 input channels that conv has a tiny batch and XNNPACK does
 *    poorly, so im2col + one matmul is used instead; the im2col patches come from a convolution
 *    with a one-hot filter (wasm's Slice/Concat on narrow tensors are far slower).
 *  - dX for stride 1 = Conv2D(dy padded by F−1−p_before / ·, filter reversed in (h,w) with its
 *    in/out channels swapped). Other strides keep the stock kernel.
 *
 * Only NHWC and dilation 1 (what tfjs-layers' Conv2D emits) are handled; anything else is
 * rejected (Conv2DBackpropFilter) or delegated to the stock kernel (Conv2DBackpropInput).
 */
import * as tf from '@tensorflow/tfjs';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** Input channel count at or below which dW uses im2col + matmul. */
export const IM2COL_MAX_CHANNELS = 4;

/** x padded per convInfo and cropped to exactly the rows/cols the convolution reads. */
function paddedInput(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { top, bottom, left, right } = info.padInfo;
  let xp = x;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    xp = tf.pad(x, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ]);
  }
  const needH = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  if (xp.shape[1] !== needH || xp.shape[2] !== needW) {
    xp = tf.slice(xp, [0, 0, 0, 0], [-1, needH, needW, -1]);
  }
  return xp;
}

/**
 * One-hot filter [FH, FW, C, FH·FW·C] whose convolution with x yields its im2col patches
 * (ordered fh, fw, c like a filter's rows); cached per shape.
 */
const patchFilters = new Map<string, tf.Tensor4D>();
function patchFilter(fh: number, fw: number, c: number): tf.Tensor4D {
  const key = `${fh}x${fw}x${c}`;
  let filter = patchFilters.get(key);
  if (!filter || filter.isDisposed) {
    const k = fh * fw * c;
    const values = new Float32Array(k * k);
    for (let i = 0; i < k; i++) values[i * k + i] = 1;
    filter = tf.keep(tf.tensor4d(values, [fh, fw, c, k]));
    patchFilters.set(key, filter);
  }
  return filter;
}

function backpropFilterIm2col(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: fh, filterWidth: fw, inChannels: c, outChannels: oc } = info;
  const k = fh * fw * c;
  // Patches by convolution with a one-hot filter: exact (each output is one input value).
  // Explicit padding (XNNPACK's own SAME padding differs from TensorFlow's for even filters).
  const { top, bottom, left, right } = info.padInfo;
  const explicit: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  const cols = tf.conv2d(x, patchFilter(fh, fw, c), [info.strideHeight, info.strideWidth], explicit, 'NHWC');
  const m = cols.shape[0] * cols.shape[1] * cols.shape[2];
  const dW = tf.matMul(tf.reshape(cols, [m, k]), tf.reshape(dy, [m, oc]), true, false);
  return tf.reshape(dW, [fh, fw, c, oc]);
}

function backpropFilterConv(xp: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const xt = tf.transpose(xp, [3, 1, 2, 0]); // [C, H, W, N]
  const dyt = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, OC]
  const r = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]); // [C, FH, FW, OC]
  return tf.transpose(r, [1, 2, 0, 3]);
}

export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`wasm Conv2DBackpropFilter supports NHWC only, got ${attrs.dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return tf.tidy(() =>
    info.inChannels <= IM2COL_MAX_CHANNELS
      ? backpropFilterIm2col(x, dy, info)
      : backpropFilterConv(paddedInput(x, info), dy, info),
  );
}

/** dX for stride 1 as a forward convolution; undefined where the stock kernel must be used. */
export function conv2dBackpropInputStride1(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: BackpropInputAttrs,
): tf.Tensor4D | undefined {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  const { filterHeight: fh, filterWidth: fw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  const bottom = h + fh - 1 - oh - top;
  const right = w + fw - 1 - ow - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return undefined;
  return tf.tidy(() => {
    // W'[i, j, oc, c] = W[F−1−i, F−1−j, c, oc]
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const dyp =
      top > 0 || bottom > 0 || left > 0 || right > 0
        ? tf.pad(dy, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ])
        : dy;
    return tf.conv2d(dyp, flipped, 1, 'valid', 'NHWC');
  });
}

let registered = false;

/** Registers Conv2DBackpropFilter and the stride-1 Conv2DBackpropInput on the 'wasm' backend. */
export function registerWasmConvGradients(): void {
  if (registered) return;
  registered = true;

  if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: tf.Conv2DBackpropFilter,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const { x, dy } = inputs as unknown as { x: tf.Tensor4D; dy: tf.Tensor4D };
        return conv2dBackpropFilter(x, dy, attrs as unknown as BackpropFilterAttrs);
      },
    });
  }

  const stock = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
  if (stock) tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    // The stock kernel binds its wasm function in setupFunc; keep that so the fallback works.
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
    ...(stock?.disposeFunc ? { disposeFunc: stock.disposeFunc } : {}),
    kernelFunc: (args) => {
      const { dy, filter } = args.inputs as unknown as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      const fast = conv2dBackpropInputStride1(dy, filter, args.attrs as unknown as BackpropInputAttrs);
      if (fast) return fast;
      if (!stock) throw new Error('wasm Conv2DBackpropInput: stock kernel missing for stride > 1');
      return stock.kernelFunc(args);
    },
  });
}
