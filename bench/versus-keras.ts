/**
 * Native training and prediction against Keras on the same models, strictly interleaved: for each
 * model and size, epochs of --steps batches of 64 alternate native, Keras, native, Keras … (--repeats
 * each way), Keras running in a bench/keras-reference.py --serve child that waits while native
 * runs and vice versa, so both see the same machine load. Reports the best and the median img/s of
 * each side and their ratios, both models' parameter counts (like for like), and the load average.
 *
 * npm run bench:versus-keras -- [--models seed,deep,cyclic,views,gconv] [--sizes 64,106] [--steps 30]
 * [--repeats 3] [--python python3]
 *
 * Native trains on --steps distinct random batches per epoch (as Keras's model.fit does) and
 * predicts with batch size 64 (as Keras's model.predict here).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { BENCH_MODELS, benchModel } from './trunk-models.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

type Request = { op: 'train' | 'predict' | 'params' | 'drop'; model: string; size: number; steps: number };

/** The Keras side: one JSON request line in, one JSON answer line out. */
function kerasServer(python: string): { ask(q: Request): Promise<Record<string, number>>; close(): void } {
  const script = fileURLToPath(new URL('../../bench/keras-reference.py', import.meta.url));
  const child = spawn(python, [script, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number>> => {
    const line = await lines.next();
    if (line.done) throw new Error(`${python} ${script} --serve ended (is TensorFlow installed for it?)`);
    return JSON.parse(line.value) as Record<string, number>;
  };
  const ready = next();
  return {
    async ask(q) {
      await ready;
      child.stdin.write(`${JSON.stringify(q)}\n`);
      return next();
    },
    close: () => child.stdin.end(),
  };
}

interface NativeSide {
  train(): Promise<number>;
  predict(): Promise<number>;
  params: number;
  dispose(): void;
}

async function nativeSide(name: string, size: number, steps: number): Promise<NativeSide> {
  const model = benchModel(name, size);
  const xs = Array.from({ length: steps }, () => tf.randomUniform([64, size, size, 1]));
  const ys = Array.from({ length: steps }, () => tf.randomUniform([64, 37]));
  const predictOnce = async (x: tf.Tensor) => {
    const out = model.predict(x, { batchSize: 64 }) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  // Untimed: the first step and prediction build what later ones reuse.
  await model.trainOnBatch(xs[0]!, ys[0]!);
  await predictOnce(xs[0]!);
  return {
    params: model.countParams(),
    async train() {
      const start = performance.now();
      for (let s = 0; s < steps; s++) await model.trainOnBatch(xs[s]!, ys[s]!);
      return (steps * 64 * 1000) / (performance.now() - start);
    },
    async predict() {
      const start = performance.now();
      for (let s = 0; s < steps; s++) await predictOnce(xs[s]!);
      return (steps * 64 * 1000) / (performance.now() - start);
    },
    dispose() {
      tf.dispose([...xs, ...ys]);
      model.dispose();
    },
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f = (v: number): string => v.toFixed(1);

async function main(): Promise<void> {
  const models = arg('models', BENCH_MODELS.join(',')).split(',');
  const sizes = arg('sizes', '64,106').split(',').map(Number);
  const steps = Number(arg('steps', '30'));
  const repeats = Number(arg('repeats', '3'));
  for (const m of models)
    if (!BENCH_MODELS.includes(m)) throw new Error(`unknown model ${m}; known: ${BENCH_MODELS.join(', ')}`);
  const info = await initBackend('tensorflow');
  const keras = kerasServer(arg('python', 'python3'));
  process.stdout.write(
    `${info.version}, ${info.threads} threads; batch 64, ${repeats} alternated epochs of ${steps} steps each way\n\n`,
  );
  process.stdout.write(
    '| model | image | params (native / Keras) | phase | native best | Keras best | best ratio | native ' +
      'median | Keras median | median ratio | load |\n',
  );
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|\n');
  try {
    for (const model of models) {
      for (const size of sizes) {
        const q = { model, size, steps };
        const ours = await nativeSide(model, size, steps);
        const { params } = await keras.ask({ op: 'params', ...q });
        for (const phase of ['train', 'predict'] as const) {
          const runs = { native: [] as number[], keras: [] as number[] };
          const load = loadavg()[0]!;
          for (let r = 0; r < repeats; r++) {
            runs.native.push(await ours[phase]());
            runs.keras.push((await keras.ask({ op: phase, ...q })).imagesPerSecond!);
          }
          const [nb, kb, nm, km] = [
            Math.max(...runs.native),
            Math.max(...runs.keras),
            median(runs.native),
            median(runs.keras),
          ];
          const cells = [
            model,
            `${size}×${size}`,
            `${ours.params} / ${params}`,
            phase,
            f(nb),
            f(kb),
            `${(nb / kb).toFixed(2)}×`,
            f(nm),
            f(km),
            `${(nm / km).toFixed(2)}×`,
            load.toFixed(1),
          ];
          process.stdout.write(`| ${cells.join(' | ')} |\n`);
        }
        ours.dispose();
        await keras.ask({ op: 'drop', ...q });
      }
    }
  } finally {
    keras.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
