/**
 * The same checks on the native 'tensorflow' backend (tfjs-node), which has no Transform kernel,
 * so 'auto' must fall back to the gather sampler. Skipped, with the reason, where tfjs-node is
 * not installed.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_GEOMETRY, applyGeometry, resolveSampler, transformKernelStatus } from '../../src/augment/affine.js';
import { Augmenter } from '../../src/augment/augmenter.js';
import { distinctImages, expectD4Composes, randomImages, useCpu } from './helpers.js';

async function loadNative(): Promise<string> {
  const warn = console.warn;
  console.warn = () => {}; // tfjs-node re-registers the cpu kernels noisily
  try {
    const spec = '@tensorflow/tfjs-node';
    await import(spec);
    return tf.findBackend('tensorflow') ? '' : 'tfjs-node loaded but registered no tensorflow backend';
  } catch (e) {
    return `tfjs-node not available (${(e as Error).message.split('\n')[0]})`;
  } finally {
    console.warn = warn;
  }
}

const skipReason = await loadNative();

describe.skipIf(skipReason !== '')(`native tensorflow backend${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  const FULL = {
    outputSize: 16,
    d4: true,
    rotate: true,
    zoom: 1.3,
    translate: 2,
    mirror: true,
    brightness: 0.1,
    contrast: 0.2,
  };
  let cpuAugmented: number[] = [];
  let cpuRotated: number[] = [];

  beforeAll(async () => {
    await useCpu();
    const x = randomImages(4, 36, 3, 1);
    const y = new Augmenter(FULL, 42).apply(x, 3, 1);
    cpuAugmented = Array.from(y.dataSync());
    const r = applyGeometry(x, Array(4).fill({ ...IDENTITY_GEOMETRY, angle: 0.7, zoom: 1.2, tx: 1.5 }), 20);
    cpuRotated = Array.from(r.dataSync());
    tf.dispose([x, y, r]);
    await tf.setBackend('tensorflow');
  });
  afterAll(useCpu);

  it('has no Transform kernel, so auto uses the gather sampler', () => {
    expect(tf.getBackend()).toBe('tensorflow');
    expect(transformKernelStatus()).toBe('missing');
    expect(resolveSampler('auto')).toBe('gather');
    expect(() => resolveSampler('kernel')).toThrow(/no Transform kernel/);
  });

  it('gather sampler agrees with the cpu Transform kernel', () => {
    const x = randomImages(4, 36, 3, 1);
    const r = applyGeometry(x, Array(4).fill({ ...IDENTITY_GEOMETRY, angle: 0.7, zoom: 1.2, tx: 1.5 }), 20);
    const got = r.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - cpuRotated[i]));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, r]);
  });

  it('the Augmenter gives the same batch as on cpu for the same seed', () => {
    const x = randomImages(4, 36, 3, 1);
    const y = new Augmenter(FULL, 42).apply(x, 3, 1);
    const got = y.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - cpuAugmented[i]));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, y]);
  });

  it('D4 is exact and composes as the group does', () => {
    expectD4Composes(distinctImages(2, 5, 5, 3));
  });

  it('leaks no tensors', () => {
    const x = randomImages(3, 36, 3, 2);
    const aug = new Augmenter(FULL, 1);
    aug.apply(x, 0, 0).dispose();
    const before = tf.memory().numTensors;
    for (let b = 0; b < 3; b++) aug.apply(x, b, 0).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
