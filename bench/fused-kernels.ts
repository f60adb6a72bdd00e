/**
 * What the fused native kernels (src/backend/native-conv.ts and the ReluGrad gradient, switched by
 * GZH_FUSED_KERNELS) gain: for each model and size, training epochs of --steps batches of 64 with
 * the fused kernels on and off, strictly alternated in one process (on, off, on, off …) so both see
 * the same machine load; the best and the median of --repeats epochs each, and their ratios.
 *
 *   npm run bench:fused -- [--models seed,deep,cyclic,views,gconv] [--sizes 64,106] [--steps 30] [--repeats 3]
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { BENCH_MODELS, benchModel } from './trunk-models.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function epoch(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number): Promise<number> {
  const start = performance.now();
  for (let s = 0; s < steps; s++) await model.trainOnBatch(x, y);
  return (steps * x.shape[0] * 1000) / (performance.now() - start);
}

/** The middle value (the mean of the two middle ones for an even count). */
const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const models = arg('models', BENCH_MODELS.join(',')).split(',');
  const sizes = arg('sizes', '64,106').split(',').map(Number);
  const steps = Number(arg('steps', '30'));
  const repeats = Number(arg('repeats', '3'));
  await initBackend('tensorflow');
  process.stdout.write(
    `train img/s, batch 64, ${repeats} alternated epochs of ${steps} steps each way; load average at start ` +
      `${loadavg()[0]!.toFixed(1)}\n\n`,
  );
  process.stdout.write(
    '| model | image | fused best | stock best | best ratio | fused median | stock median | median ratio ' +
      '|\n|---|---|---|---|---|---|---|---|\n',
  );
  for (const name of models) {
    for (const size of sizes) {
      const model = benchModel(name, size);
      const x = tf.randomUniform([64, size, size, 1]);
      const y = tf.randomUniform([64, 37]);
      const runs: Record<'fused' | 'stock', number[]> = { fused: [], stock: [] };
      for (const mode of ['fused', 'stock'] as const) {
        process.env.GZH_FUSED_KERNELS = mode === 'fused' ? '1' : '0';
        await model.trainOnBatch(x, y);
      }
      for (let r = 0; r < repeats; r++) {
        for (const mode of ['fused', 'stock'] as const) {
          process.env.GZH_FUSED_KERNELS = mode === 'fused' ? '1' : '0';
          runs[mode].push(await epoch(model, x, y, steps));
        }
      }
      const [fb, sb, fm, sm] = [
        Math.max(...runs.fused),
        Math.max(...runs.stock),
        median(runs.fused),
        median(runs.stock),
      ];
      process.stdout.write(
        `| ${name} | ${size}×${size} | ${fb.toFixed(1)} | ${sb.toFixed(1)} | ${(fb / sb).toFixed(2)}× | ` +
          `${fm.toFixed(1)} | ${sm.toFixed(1)} | ${(fm / sm).toFixed(2)}× |\n`,
      );
      tf.dispose([x, y]);
      model.dispose();
    }
  }
  process.stdout.write(`\nload average at end ${loadavg()[0]!.toFixed(1)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
