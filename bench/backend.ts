/**
 * Backend benchmark (not a test): train and predict images/s of the seed CNN (batch 64, 1
 * channel, random data) at 64×64 and 106×106 on every available backend, printed as a table.
 *
 *   npm run bench:backend -- [--backends tensorflow,wasm,cpu] [--sizes 64,106] [--seconds 8] [--repeats 3]
 *   npm run bench:backend -- --models seed,deep,cyclic,views,gconv [--steps 30] [--repeats 3]
 *
 * With --models, each named model (bench/trunk-models.ts: the seed CNN, or a trunk + Dense(37)) is
 * timed over epochs of --steps batches (train, then predict), best of --repeats.
 *
 * Each backend runs in its own child process (no thread pools or kernel registrations shared
 * between measurements). The best of `--repeats` runs is reported: on a shared machine the best
 * run is the one least disturbed by other work. `cpu` (pure JS, ~0.1 img/s) is left out unless
 * named in --backends.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES, type BackendName, initBackend, isBackendName } from '../src/backend/select.js';
import { measurePredictThroughput, measureTrainThroughput } from '../src/backend/probe.js';
import { BENCH_MODELS, benchModel, timeModel } from './trunk-models.js';

interface Row {
  model?: string;
  backend: BackendName;
  version: string;
  threads: number;
  size: number;
  train: number;
  predict: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function child(
  backend: BackendName,
  sizes: number[],
  seconds: number,
  repeats: number,
  models: string[],
  steps: number,
): Promise<void> {
  const info = await initBackend(backend);
  for (const name of models) {
    for (const size of sizes) {
      const model = benchModel(name, size);
      let train = 0;
      let predict = 0;
      for (let r = 0; r < repeats; r++) {
        const t = await timeModel(model, size, steps);
        train = Math.max(train, t.train);
        predict = Math.max(predict, t.predict);
      }
      model.dispose();
      const row: Row = { model: name, backend, version: info.version, threads: info.threads, size, train, predict };
      process.stdout.write(`GZH_BENCH ${JSON.stringify(row)}\n`);
    }
  }
  if (models.length > 0) return;
  for (const size of sizes) {
    let train = 0;
    let predict = 0;
    for (let r = 0; r < repeats; r++) {
      train = Math.max(
        train,
        (await measureTrainThroughput({ inputSize: size, seconds, minSteps: 2 })).imagesPerSecond,
      );
      predict = Math.max(
        predict,
        (await measurePredictThroughput({ inputSize: size, seconds: seconds / 2, minSteps: 2 })).imagesPerSecond,
      );
    }
    const row: Row = { backend, version: info.version, threads: info.threads, size, train, predict };
    process.stdout.write(`GZH_BENCH ${JSON.stringify(row)}\n`);
  }
}

function main(): void {
  const childBackend = arg('child', '');
  const sizes = arg('sizes', '64,106').split(',').map(Number);
  const seconds = Number(arg('seconds', '8'));
  const repeats = Number(arg('repeats', '3'));
  const models = arg('models', '').split(',').filter(Boolean);
  const steps = Number(arg('steps', '30'));
  for (const m of models)
    if (!BENCH_MODELS.includes(m)) throw new Error(`unknown model ${m}; known: ${BENCH_MODELS.join(', ')}`);
  if (childBackend) {
    if (!isBackendName(childBackend)) throw new Error(`unknown backend ${childBackend}`);
    child(childBackend, sizes, seconds, repeats, models, steps).catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
    return;
  }
  const backends = arg('backends', 'tensorflow,wasm').split(',').filter(Boolean);
  const rows: Row[] = [];
  const notes: string[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const backend of backends) {
    if (!(BACKEND_NAMES as readonly string[]).includes(backend)) throw new Error(`unknown backend ${backend}`);
    process.stderr.write(`measuring ${backend} (sizes ${sizes.join(', ')}, best of ${repeats}) ...\n`);
    const result = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        self,
        '--child',
        backend,
        '--sizes',
        sizes.join(','),
        '--seconds',
        String(seconds),
        '--repeats',
        String(repeats),
        ...(models.length ? ['--models', models.join(','), '--steps', String(steps)] : []),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const found = result.stdout
      .split('\n')
      .filter((l) => l.startsWith('GZH_BENCH '))
      .map((l) => JSON.parse(l.slice('GZH_BENCH '.length)) as Row);
    if (found.length === 0)
      notes.push(`${backend}: unavailable (${result.stderr.trim().split('\n').pop() ?? `exit ${result.status}`})`);
    rows.push(...found);
  }
  const header = ['model', 'backend', 'version', 'threads', 'image', 'train img/s', 'predict img/s'];
  const table = rows.map((r) => [
    r.model ?? 'seed',
    r.backend,
    r.version,
    String(r.threads),
    `${r.size}×${r.size}`,
    r.train.toFixed(1),
    r.predict.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const method = models.length ? `epochs of ${steps} steps` : `${seconds} s`;
  process.stdout.write(`Batch 64, 1 channel; best of ${repeats} × ${method}\n\n`);
  process.stdout.write(`${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const t of table) process.stdout.write(`${line(t)}\n`);
  for (const n of notes) process.stdout.write(`\n${n}\n`);
}

main();
