/**
 * Runs the phases of `bench:scale` one process each, measures them, and resumes: a bench run keeps
 * its state in `--out` (`bench.json`: the parameters; `phases/<name>.json`: each finished phase's
 * figures, written atomically when it ends), so a rerun after Ctrl-C or SIGKILL skips the phases
 * that finished and runs the interrupted one again (training continues from its checkpoint).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDirFor } from '../../src/data/cache.js';
import { InputError, InterruptedError } from '../../src/errors.js';
import { cleanStaleTemps, writeFileAtomic } from '../../src/util/atomic.js';
import { type ScaleInput, prepareInput } from './input.js';
import { diskBytes, watchRss } from './monitor.js';
import { CENTRE, CONTOUR, PHASES, type PhaseContext, type PhaseName, type PhaseOutcome, paths } from './phases.js';

/** The parameters of a bench run (`<out>/bench.json`); the phase processes read them from there. */
export interface BenchSettings extends Omit<PhaseContext, 'input'> {
  readonly format: ScaleInput['format'];
  readonly count: number;
  readonly rows?: number;
  readonly data?: string;
  readonly labelsOnly?: boolean;
  readonly backend?: string;
}

/** What a phase process reports about itself (`<out>/phases/<name>.json`). */
export interface PhaseReport extends PhaseOutcome {
  readonly phase: PhaseName;
  readonly seconds: number;
  readonly perSecond: number;
  /** getrusage maxRSS of the phase process (covers its worker threads), MiB. */
  readonly maxRssMiB: number;
  /** Largest V8 heap in use (main thread) seen, MiB. */
  readonly heapPeakMiB: number;
  /** Largest ArrayBuffer memory (typed arrays, Buffers; main thread) seen, MiB. */
  readonly arrayBuffersPeakMiB: number;
}

/** A phase report with what the bench measured around it. */
export interface MeasuredPhase extends PhaseReport {
  /** Peak RSS of the phase's child processes (0 when it starts none), MiB. */
  readonly childRssMiB: number;
  /** Bytes on disk after the phase: catalogue, each cache, model + checkpoint, predictions. */
  readonly disk: Record<string, number>;
  readonly load: readonly number[];
  /** True when the figures come from an earlier bench run that this one resumed. */
  readonly earlier: boolean;
}

const reportPath = (out: string, phase: PhaseName) => join(out, 'phases', `${phase}.json`);

/** Reads `<out>/bench.json` and the input it names (for a phase process). */
export function readSettings(out: string): { settings: BenchSettings; input: ScaleInput } {
  const settings = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as BenchSettings;
  const input = JSON.parse(readFileSync(join(out, 'input.json'), 'utf8')) as ScaleInput;
  return { settings, input };
}

/** Writes the settings, or checks that `out` holds a run with the same ones (to resume it). */
export async function startOrResume(
  settings: BenchSettings,
  fresh: boolean,
  log: (line: string) => void,
): Promise<void> {
  const file = join(settings.out, 'bench.json');
  if (fresh) rmSync(settings.out, { recursive: true, force: true });
  if (existsSync(file)) {
    const before = readFileSync(file, 'utf8');
    if (before.trim() !== JSON.stringify(settings)) {
      throw new InputError(
        `${settings.out} holds a bench run with other parameters (${file}); give --fresh to start over or ` +
          `another --out`,
      );
    }
    log(`resuming the bench run in ${settings.out}`);
  } else {
    mkdirSync(join(settings.out, 'phases'), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(settings)}\n`);
  }
  await cleanStale(settings.out);
  if (existsSync(join(settings.out, 'input.json'))) return;
  const input = await prepareInput({
    format: settings.format,
    count: settings.count,
    ...(settings.rows !== undefined ? { rows: settings.rows } : {}),
    ...(settings.data !== undefined ? { data: settings.data } : {}),
    ...(settings.labelsOnly ? { labelsOnly: true } : {}),
    generatedDir: join(tmpdir(), 'gzh-scale-data'),
    subsetDir: join(settings.out, 'input'),
    seed: settings.seed,
    onProgress: (done, total) => {
      if (done % Math.max(1, Math.floor(total / 20)) === 0) log(`generating synthetic data: ${done}/${total}`);
    },
  });
  await writeFileAtomic(join(settings.out, 'input.json'), `${JSON.stringify(input)}\n`);
}

/** Removes what writers killed in an earlier run left of the bench's own files. */
async function cleanStale(out: string): Promise<void> {
  const p = paths(out);
  const files = [
    join(out, 'bench.json'),
    join(out, 'input.json'),
    p.predictions,
    p.evaluation,
    ...PHASES.map((phase) => reportPath(out, phase)),
  ];
  for (const file of files) await cleanStaleTemps(file);
}

function diskUsage(out: string): Record<string, number> {
  const p = paths(out);
  return {
    catalogue: diskBytes(p.catalogue),
    cacheContour: diskBytes(cacheDirFor(p.cache, CONTOUR)),
    cacheCentre: diskBytes(cacheDirFor(p.cache, CENTRE)),
    model: diskBytes(p.model) + diskBytes(join(out, 'train')),
    predictions: diskBytes(p.predictions),
  };
}

/** Runs `phase` in a child process of `script` (unless an earlier run finished it) and measures it. */
export async function measurePhase(
  script: string,
  out: string,
  phase: PhaseName,
  execArgv: readonly string[] = [],
): Promise<MeasuredPhase> {
  const file = reportPath(out, phase);
  if (existsSync(file)) {
    const report = JSON.parse(readFileSync(file, 'utf8')) as PhaseReport & { childRssMiB?: number };
    return { childRssMiB: 0, ...report, disk: diskUsage(out), load: loadavg(), earlier: true };
  }
  const child = spawn(process.execPath, [...execArgv, script, '--phase', phase, '--out', out], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { TF_CPP_MIN_LOG_LEVEL: '2', ...process.env },
  });
  const watch = watchRss(child.pid!);
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  const peaks = watch.stop();
  if (exit.signal === 'SIGINT' || exit.signal === 'SIGTERM' || exit.code === 130) {
    throw new InterruptedError(
      `${phase} interrupted (${exit.signal ?? 'exit 130'}); run the same command again to resume`,
    );
  }
  if (exit.code !== 0 || !existsSync(file))
    throw new Error(`phase ${phase} failed (${exit.signal ?? `exit ${exit.code}`})`);
  const report = JSON.parse(readFileSync(file, 'utf8')) as PhaseReport;
  const measured = { ...report, maxRssMiB: Math.max(report.maxRssMiB, peaks.mainMiB), childRssMiB: peaks.childrenMiB };
  await writeFileAtomic(file, `${JSON.stringify(measured)}\n`);
  return { ...measured, disk: diskUsage(out), load: loadavg(), earlier: false };
}

/** Runs one phase in this process (the child side) and writes its report. */
export async function phaseProcess(
  phase: PhaseName,
  out: string,
  run: (ctx: PhaseContext) => Promise<PhaseOutcome>,
): Promise<void> {
  const { settings, input } = readSettings(out);
  let heapPeak = 0;
  let arrayBuffersPeak = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heapPeak = Math.max(heapPeak, m.heapUsed);
    arrayBuffersPeak = Math.max(arrayBuffersPeak, m.arrayBuffers);
  };
  const timer = setInterval(sample, 200);
  process.stderr.write(`${phase}: started\n`);
  const started = performance.now();
  let outcome: PhaseOutcome;
  try {
    outcome = await run({ ...settings, input });
  } finally {
    clearInterval(timer); // also when the phase fails: a live timer would keep the process from exiting
  }
  const seconds = (performance.now() - started) / 1000;
  sample();
  const report: PhaseReport = {
    phase,
    ...outcome,
    seconds,
    perSecond: outcome.items / seconds,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    heapPeakMiB: heapPeak / 2 ** 20,
    arrayBuffersPeakMiB: arrayBuffersPeak / 2 ** 20,
  };
  await writeFileAtomic(reportPath(out, phase), `${JSON.stringify(report)}\n`);
}
