/**
 * The wasm training kernels (src/backend/wasm/conv-grad.ts) against the reference `cpu` backend
 * on random shapes: strides 1–2, same/valid padding, 1–64 input channels, non-square inputs and
 * filters. Agreement is normwise: max |wasm − cpu| ≤ 1e-4 · max |cpu|.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { lcgValues } from '../helpers/lcg.js';
import { loadWasm } from '../../src/backend/wasm/index.js';
import { onBackend } from '../helpers/backend.js';

interface Case {
  n: number;
  h: number;
  w: number;
  c: number;
  oc: number;
  fh: number;
  fw: number;
  stride: number;
  pad: 'same' | 'valid';
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    fh: fc.integer({ min: 1, max: 3 }),
    fw: fc.integer({ min: 1, max: 3 }),
    extraH: fc.integer({ min: 0, max: 9 }),
    extraW: fc.integer({ min: 0, max: 9 }),
    c: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(8, 16, 32, 64), fc.integer({ min: 5, max: 64 })),
    oc: fc.integer({ min: 1, max: 16 }),
    stride: fc.integer({ min: 1, max: 2 }),
    pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map(({ extraH, extraW, ...r }) => ({ ...r, h: r.fh + extraH, w: r.fw + extraW }));

function outShape(k: Case): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo([k.n, k.h, k.w, k.c], [k.fh, k.fw, k.c, k.oc], k.stride, 1, k.pad);
  return [k.n, info.outHeight, info.outWidth, k.oc];
}

function expectClose(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
  }
  expect(err, `${label}: max error ${err} vs scale ${scale}`).toBeLessThanOrEqual(1e-4 * Math.max(scale, 1e-6));
}

function backpropFilter(k: Case): tf.Tensor {
  const x = tf.tensor4d(lcgValues(k.n * k.h * k.w * k.c, k.seed), [k.n, k.h, k.w, k.c]);
  const dyShape = outShape(k);
  const dy = tf.tensor4d(
    lcgValues(
      dyShape.reduce((a, b) => a * b, 1),
      k.seed + 7,
    ),
    dyShape,
  );
  const out = tf
    .engine()
    .runKernel(
      tf.Conv2DBackpropFilter,
      { x, dy },
      { strides: k.stride, pad: k.pad, dataFormat: 'NHWC', filterShape: [k.fh, k.fw, k.c, k.oc] },
    ) as tf.Tensor;
  x.dispose();
  dy.dispose();
  return out;
}

function backpropInput(k: Case): tf.Tensor {
  const dyShape = outShape(k);
  const dy = tf.tensor4d(
    lcgValues(
      dyShape.reduce((a, b) => a * b, 1),
      k.seed + 7,
    ),
    dyShape,
  );
  const filter = tf.tensor4d(lcgValues(k.fh * k.fw * k.c * k.oc, k.seed + 13), [k.fh, k.fw, k.c, k.oc]);
  const out = tf
    .engine()
    .runKernel(
      tf.Conv2DBackpropInput,
      { dy, filter },
      { strides: k.stride, pad: k.pad, dataFormat: 'NHWC', inputShape: [k.n, k.h, k.w, k.c] },
    ) as tf.Tensor;
  dy.dispose();
  filter.dispose();
  return out;
}

describe('wasm convolution gradients match the cpu backend', () => {
  beforeAll(async () => {
    await loadWasm();
  });

  it('registers Conv2DBackpropFilter on wasm', () => {
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeDefined();
  });

  it('Conv2DBackpropFilter (conv and im2col paths)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const expected = await onBackend('cpu', () => backpropFilter(k));
        const actual = await onBackend('wasm', () => backpropFilter(k));
        expectClose(actual, expected, `dW ${JSON.stringify(k)}`);
      }),
      { numRuns: 60 },
    );
  });

  it('Conv2DBackpropInput (stride-1 conv path and stock stride-2 path)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const expected = await onBackend('cpu', () => backpropInput(k));
        const actual = await onBackend('wasm', () => backpropInput(k));
        expectClose(actual, expected, `dX ${JSON.stringify(k)}`);
      }),
      { numRuns: 60 },
    );
  });

  it('gradients of a conv layer through tf.grads agree (fused conv + relu)', async () => {
    const k: Case = { n: 2, h: 11, w: 9, c: 1, oc: 8, fh: 3, fw: 3, stride: 1, pad: 'valid', seed: 5 };
    const grads = (which: 0 | 1) => () =>
      tf.tidy(() => {
        const x = tf.tensor4d(lcgValues(k.n * k.h * k.w * k.c, 1), [k.n, k.h, k.w, k.c]);
        const f = tf.tensor4d(lcgValues(k.fh * k.fw * k.c * k.oc, 2), [k.fh, k.fw, k.c, k.oc]);
        const b = tf.tensor1d(lcgValues(k.oc, 3));
        const g = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
          tf.fused
            .conv2d({
              x: xx as tf.Tensor4D,
              filter: ff as tf.Tensor4D,
              strides: 1,
              pad: 'valid',
              bias: b,
              activation: 'relu',
            })
            .square()
            .sum(),
        );
        return g([x, f])[which];
      });
    for (const which of [0, 1] as const) {
      expectClose(await onBackend('wasm', grads(which)), await onBackend('cpu', grads(which)), `tf.grads[${which}]`);
    }
  });
});
