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
  const wanted = process.env.BACKENDS?.split(',') ?? ['cpu', 'wasm', 'tensorflow'];
  const backends = wanted.filter((b) => b !== 'tensorflow');
  if (wanted.includes('tensorflow') && (await tryNative())) backends.push('tensorflow');
  const base: AugmentConfig = {
    outputSize: 40,
    d4: true,
    rotate: true,
    zoom: 1.3,
    translate: 2,
    mirror: true,
    brightness: 0.05,
    contrast: 0.1,
  };
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) continue;
    const images = tf.randomUniform([64, 80, 80, 3]) as tf.Tensor4D;
    // 'constant' fill takes the general gather path; 'nearest' (the default) the clamped fast path.
    const variants: Array<[string, AugmentConfig]> = [
      ['gather', { ...base, sampler: 'gather' }],
      ['gather/constant', { ...base, sampler: 'gather', fillMode: 'constant' }],
    ];
    if (transformKernelStatus() !== 'missing') variants.push(['kernel', { ...base, sampler: 'kernel' }]);
    for (const [sampler, cfg] of variants) {
      const aug = new Augmenter(cfg, 1);
      aug.apply(images, 0, 0).dispose(); // warm-up
      // Best of REPS: the shared machine is noisy, the minimum is the most repeatable figure.
      let ms = Infinity;
      for (let i = 0; i < REPS; i++) {
        const t0 = performance.now();
        const y = aug.apply(images, i + 1, 0);
        await y.data();
        y.dispose();
        ms = Math.min(ms, performance.now() - t0);
      }
      console.log(
        `${backend.padEnd(10)} ${sampler.padEnd(16)} ${ms.toFixed(1).padStart(8)} ms/batch (best of ${REPS})  ` +
          `${(64000 / ms).toFixed(0).padStart(6)} img/s`,
      );
    }
    images.dispose();
  }
}

await main();
