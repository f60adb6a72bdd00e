/**
 * The pipeline at survey size, phase by phase:
 *
 *   npm run bench:scale -- --count N [--format kaggle|gz2] [--rows N] [--data DIR] [--out DIR]
 *                          [--phases a,b,…] [--keep] [--fresh] [--labels-only] [--backend NAME]
 *                          [--workers N] [--batch-size N] [--seed N] [--json]
 *
 * ingest → preprocess (contour 106 gray, centre 64 RGB) → one training epoch of the deep
 * hierarchical model streamed from the centre cache → predict every cached galaxy → evaluate. Each
 * phase runs in its own process; for each the bench prints wall time, throughput (rows/s for
 * ingest, images/s otherwise), peak RSS of the phase process (getrusage maxRSS and sampled VmHWM:
 * worker threads share the process's memory, so this covers them) and of any child processes,
 * the main thread's peak V8 heap and ArrayBuffer memory, and the disk used by the catalogue, the
 * caches, the model and the predictions.
 *
 * `--data DIR` reads a Kaggle-layout folder (its first N rows when it holds more) or, with
 * `--format gz2`, a GZ2-layout one (gz2_hart16.csv.gz, gz2_filename_mapping.csv, images/);
 * without it a synthetic set of N galaxies (GZ2: `--rows` label rows, N of them with images) is
 * generated once under $TMPDIR/gzh-scale-data and reused. `--labels-only --phases ingest` ingests
 * the labels alone (a folder holding just the labels file will do). State lives in `--out` (default
 * $TMPDIR/gzh-scale/<format>-<N>): after Ctrl-C or SIGKILL the same command resumes at the
 * interrupted phase; `--fresh` starts over; without `--keep` the folder is removed at the end.
 */
import { rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError, InterruptedError } from '../src/errors.js';
import { type ScaleFormat } from './scale/input.js';
import { PHASES, type PhaseName, runPhase } from './scale/phases.js';
import {
  type BenchSettings,
  type MeasuredPhase,
  measurePhase,
  phaseProcess,
  readSettings,
  startOrResume,
} from './scale/run.js';

const USAGE =
  'usage: npm run bench:scale -- --count N [--format kaggle|gz2] [--rows N] [--data DIR] [--out DIR]\n' +
  '         [--phases a,b,…] [--keep] [--fresh] [--labels-only] [--backend NAME] [--workers N]\n' +
  '         [--batch-size N] [--seed N] [--checkpoint-seconds N] [--checkpoint-batches N] [--json]\n' +
  `phases: ${PHASES.join(', ')}\n`;

const VALUES = ['format', 'count', 'rows', 'data', 'out', 'phases', 'phase', 'backend', 'workers'] as const;
const NUMBERS = ['batch-size', 'seed', 'checkpoint-seconds', 'checkpoint-batches'] as const;
const SWITCHES = ['keep', 'fresh', 'labels-only', 'json', 'help'] as const;

/** The command line, strictly: an unknown option or one without its value is an input error. */
function parseCommandLine(): ReturnType<typeof parseArgs> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of [...VALUES, ...NUMBERS]) options[name] = { type: 'string' };
  for (const name of SWITCHES) options[name] = { type: 'boolean' };
  try {
    return parseArgs({ options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new InputError(`${(error as Error).message}\n${USAGE}`);
  }
}

let args: ReturnType<typeof parseArgs> = { values: {}, positionals: [] };

function flag(name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

function has(name: string): boolean {
  return args.values[name] === true;
}

function intFlag(name: string, fallback: number): number {
  const text = flag(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`--${name}: expected a non-negative integer, got ${text}`);
  return n;
}

function parsePhases(text: string | undefined): PhaseName[] {
  if (text === undefined) return [...PHASES];
  const names = text.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !(PHASES as readonly string[]).includes(n));
  if (bad.length > 0) throw new InputError(`--phases: unknown ${bad.join(', ')} (phases: ${PHASES.join(', ')})`);
  return PHASES.filter((p) => names.includes(p));
}

function settingsFromArgs(): BenchSettings {
  const format = (flag('format') ?? 'kaggle') as ScaleFormat;
  if (format !== 'kaggle' && format !== 'gz2') throw new InputError(`--format: expected kaggle or gz2, got ${format}`);
  const count = intFlag('count', 5408);
  const rows = flag('rows') === undefined ? undefined : intFlag('rows', count);
  const data = flag('data');
  const workers = flag('workers') === undefined ? undefined : intFlag('workers', 0);
  const checkpointBatches = intFlag('checkpoint-batches', 0);
  return {
    out: resolve(flag('out') ?? join(tmpdir(), 'gzh-scale', `${format}-${count}`)),
    format,
    count,
    ...(rows !== undefined ? { rows } : {}),
    ...(data !== undefined ? { data: resolve(data) } : {}),
    ...(has('labels-only') ? { labelsOnly: true } : {}),
    ...(flag('backend') !== undefined ? { backend: flag('backend') } : {}),
    ...(workers !== undefined ? { workers } : {}),
    seed: intFlag('seed', 1),
    batchSize: intFlag('batch-size', 64),
    checkpointSeconds: intFlag('checkpoint-seconds', 60),
    ...(checkpointBatches > 0 ? { checkpointBatches } : {}),
  };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function line(m: MeasuredPhase): string {
  const rate = `${m.perSecond.toFixed(m.perSecond < 100 ? 1 : 0)} ${m.unit}/s`;
  const disk = Object.entries(m.disk)
    .filter(([, b]) => b > 0)
    .map(([k, b]) => `${k} ${mib(b)}`)
    .join(', ');
  return (
    `${m.phase.padEnd(18)} ${m.seconds.toFixed(1).padStart(8)} s  ${String(m.items).padStart(7)} ` +
    `${m.unit.padEnd(6)} ${rate.padStart(14)}  ` +
    `RSS ${m.maxRssMiB.toFixed(0)} MiB (children ${m.childRssMiB.toFixed(0)}), heap ` +
    `${m.heapPeakMiB.toFixed(0)} MiB, buffers ${m.arrayBuffersPeakMiB.toFixed(0)} MiB` +
    `${m.earlier ? ' [earlier run]' : ''}\n${''.padEnd(20)}disk: ${disk}`
  );
}

async function orchestrate(): Promise<void> {
  const settings = settingsFromArgs();
  const phases = parsePhases(flag('phases'));
  const log = (text: string) => process.stderr.write(`${text}\n`);
  await startOrResume(settings, has('fresh'), log);
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const machine = `${availableParallelism()} cores (${cpus()[0]?.model}), load ${load}`;
  log(`bench:scale ${settings.format} N=${settings.count} in ${settings.out}; ${machine}`);
  const results: MeasuredPhase[] = [];
  for (const phase of phases) {
    const measured = await measurePhase(process.argv[1], settings.out, phase, process.execArgv);
    results.push(measured);
    log(line(measured));
  }
  if (has('json')) process.stdout.write(`${JSON.stringify({ settings, load: loadavg(), phases: results }, null, 2)}\n`);
  if (!has('keep')) rmSync(settings.out, { recursive: true, force: true });
}

async function main(): Promise<void> {
  args = parseCommandLine();
  if (has('help')) return void process.stdout.write(USAGE);
  const phase = flag('phase');
  if (phase === undefined) return orchestrate();
  const out = resolve(flag('out')!);
  const name = parsePhases(phase)[0];
  if (name === 'train' || name === 'predict') {
    const { initBackend } = await import('../src/backend/select.js');
    await initBackend(readSettings(out).settings.backend);
  }
  await phaseProcess(name, out, (ctx) => runPhase(name, ctx));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:scale: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof InterruptedError ? 130 : error instanceof InputError ? 2 : 1;
});
