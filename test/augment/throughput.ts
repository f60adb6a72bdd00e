/**
 * Quick augmentation throughput check (not a test): a 64×80×80×3 batch through the Augmenter on
 * each available backend and sampler. Run: npx vite-node test/augment/throughput.ts
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Augmenter } from '../../src/augment/augmenter.js';
import { type AugmentConfig } from '../../src/augment/config.js';
import { transformKernelStatus } from '../../src/augment/affine.js';

const REPS = Number(process.env.REPS ?? 3);

async function tryNative(): Promise<boolean> {
  try {
    const spec = '@tensorflow/tfjs-node';
    await import(spec);
    return tf.findBackend('tensorflow') !== null;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const backends = ['cpu', 'wasm'];
  if (await tryNative()) backends.push('tensorflow');
  const base: AugmentConfig = { outputSize: 40, d4: true, rotate: true, zoom: 1.3, translate: 2, mirror: true, brightness: 0.05, contrast: 0.1 };
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) continue;
    const images = tf.randomUniform([64, 80, 80, 3]) as tf.Tensor4D;
    const samplers = transformKernelStatus() === 'missing' ? ['gather'] : ['gather', 'kernel'];
    for (const sampler of samplers) {
      const aug = new Augmenter({ ...base, sampler: sampler as 'gather' | 'kernel' }, 1);
      aug.apply(images, 0, 0).dispose(); // warm-up
      const t0 = performance.now();
      for (let i = 0; i < REPS; i++) {
        const y = aug.apply(images, i + 1, 0);
        await y.data();
        y.dispose();
      }
      const ms = (performance.now() - t0) / REPS;
      console.log(`${backend.padEnd(10)} ${sampler.padEnd(6)} ${ms.toFixed(1).padStart(8)} ms/batch  ${(64000 / ms).toFixed(0).padStart(6)} img/s`);
    }
    images.dispose();
  }
}

await main();
