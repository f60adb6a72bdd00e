/**
 * The three ways `gzh predict` runs: every input in this process (`predictAll`), one shard into
 * its part file (`--shard i/N`), and a whole sharded prediction gathered into one CSV (`--shards N`).
 */
import { existsSync } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { initBackend } from '../../backend/select.js';
import { readEnsembleDir } from '../../ensemble/ensemble-dir.js';
import { collidingGalaxyIds, galaxyId, kaggleCsvHeader, kaggleCsvRow } from '../../ensemble/kaggle.js';
import { EnsemblePredictor } from '../../ensemble/predictor.js';
import { InterruptedError } from '../../errors.js';
import { defaultUnitCommand } from '../../exec/cli-command.js';
import { type SlurmFlags, createShardExecutor, slurmSettings } from '../../predict/executor.js';
import { type ShardPlan, gatherParts, missingShards, partPath, removeParts } from '../../predict/gather.js';
import {
  type InputScan,
  type InputSource,
  inputEntries,
  resolveInputSource,
  scanInputs,
} from '../../predict/input-list.js';
import { predictionKey } from '../../predict/model-key.js';
import { predictStream } from '../../predict/pipeline.js';
import { predictShard, runShardTasks, writeInputList } from '../../predict/sharded.js';
import { AtomicFileWriter, cleanStaleTemps } from '../../util/atomic.js';
import { createProgress } from '../../util/progress.js';
import { EXIT, UsageError } from '../exit.js';
import type { PredictOutcome } from '../../ensemble/predictor.js';
import type { TtaSpec } from '../../ensemble/tta.js';
import type { Executor, ExecutorName } from '../../exec/types.js';
import type { ShardSpec } from '../../predict/shard.js';
import { KAGGLE_COLUMNS } from '../../questions/index.js';

export interface PredictFlags extends SlurmFlags {
  model: string;
  tta?: TtaSpec;
  csv?: string;
  convention: 'cumulative' | 'conditional';
  batchSize: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
  list?: string;
  shard?: ShardSpec;
  shards?: number;
  parts?: string;
  executor: ExecutorName;
  jobs: number;
  keepParts?: boolean;
  decodeWorkers?: number;
}

/** `--tta` text that `parseTta` reads back as `spec` (for the command lines of shard tasks). */
export function formatTta(spec: TtaSpec): string {
  if (typeof spec === 'string') return spec;
  const parts: string[] = [];
  if (spec.rotations) parts.push(`rot=${spec.rotations.join(',')}`);
  if (spec.flips !== undefined) parts.push(`flip=${spec.flips}`);
  if (spec.zooms) parts.push(`zoom=${spec.zooms.join(',')}`);
  return parts.join(';');
}

export function jsonResult(o: PredictOutcome, convention: 'cumulative' | 'conditional') {
  if (!o.ok) return { source: o.source, error: o.error.reason, kind: o.error.kind };
  const p = o.prediction;
  const round = (xs: Float32Array) => Array.from(xs, (x) => Number(x.toFixed(6)));
  return {
    source: p.source,
    galaxyId: galaxyId(p.source),
    convention,
    answers: p.answers,
    cumulative: Object.fromEntries(KAGGLE_COLUMNS.map((c, i) => [c, Number(p.cumulative[i].toFixed(6))])),
    conditional: round(p.conditional),
    uncertainty: round(p.uncertainty),
    views: p.views,
  };
}

const say = (flags: PredictFlags, text: string) => {
  if (!flags.quiet) process.stderr.write(`gzh predict: ${text}\n`);
};

/** Turns Ctrl-C / SIGTERM into an InterruptedError at the next input, so writers can abort cleanly. */
function interruptible(): { check(): void; release(): void } {
  let stopped: string | null = null;
  const on = (signal: string) => () => (stopped = signal);
  const int = on('SIGINT');
  const term = on('SIGTERM');
  process.once('SIGINT', int);
  process.once('SIGTERM', term);
  return {
    check() {
      if (stopped) throw new InterruptedError(`predict interrupted (${stopped}); nothing was written to the output`);
    },
    release() {
      process.off('SIGINT', int);
      process.off('SIGTERM', term);
    },
  };
}

/** Inputs resolved, GalaxyIDs checked, collisions refused (for named files), counted. */
async function prepareInputs(images: string[], flags: PredictFlags): Promise<{ source: InputSource; scan: InputScan }> {
  const source = await resolveInputSource(images, flags.list).catch((error: Error) => {
    throw new UsageError(error.message);
  });
  if (source.kind === 'paths' && !flags.json) {
    const collisions = collidingGalaxyIds(source.paths);
    if (collisions.length > 0) {
      const { id, paths: same } = collisions[0];
      throw new UsageError(
        `${collisions.length} GalaxyID(s) would appear more than once in the CSV, e.g. ${id} from ` +
          `${same.join(' and ')} (rename the files, predict the folders separately, or use --json)`,
      );
    }
  }
  const scan = await scanInputs(source, { checkIds: !flags.json }).catch((error: Error) => {
    throw new UsageError(error.message);
  });
  if (scan.count === 0)
    throw new UsageError(
      source.kind === 'list' ? `${source.path}: the list holds no paths` : `no *.jpg images in ${images.join(', ')}`,
    );
  return { source, scan };
}

async function loadPredictor(
  flags: PredictFlags,
): Promise<{ predictor: EnsemblePredictor; key: string; backend: string }> {
  const backend = (await initBackend(flags.backend)).name;
  const description = await readEnsembleDir(flags.model);
  const predictor = await EnsemblePredictor.fromDescription(description, {
    convention: flags.convention,
    ...(flags.tta ? { tta: flags.tta } : {}),
  });
  return { predictor, key: predictionKey(description, flags.tta), backend };
}

function pipelineOptions(flags: PredictFlags) {
  return { batchSize: flags.batchSize, ...(flags.decodeWorkers !== undefined ? { workers: flags.decodeWorkers } : {}) };
}

/** Writes text to the CSV file (atomically) or stdout. */
interface Sink {
  write(text: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);

/**
 * A device or pipe given as --csv (`/dev/stdout`, a FIFO) is written in place: only a regular file can be replaced
 * atomically.
 */
async function openInPlace(csv: string): Promise<Sink> {
  const handle = await open(csv, 'w');
  const failed = (error: unknown) => new Error(`${csv}: write failed: ${code(error)}`);
  return {
    write: (text) => handle.writeFile(text).catch((error: unknown) => Promise.reject(failed(error))),
    commit: () => handle.close().catch((error: unknown) => Promise.reject(failed(error))),
    abort: () => handle.close().catch(() => undefined),
  };
}

/**
 * stdout, or the --csv file: a regular file is written to a hidden temporary sibling and renamed
 * over the target only by `commit`. Fails at once (exit 1) when the file cannot be created.
 */
async function openSink(csv: string | undefined): Promise<Sink> {
  if (csv === undefined) {
    return {
      async write(text) {
        if (!process.stdout.write(text)) await once(process.stdout, 'drain');
      },
      async commit() {},
      async abort() {},
    };
  }
  try {
    const info = await stat(csv).catch(() => null);
    if (info && !info.isFile()) return await openInPlace(csv);
    await access(dirname(resolve(csv)));
    const file = await AtomicFileWriter.open(csv);
    const failed = (error: unknown) => new Error(`${csv}: write failed: ${code(error)}`);
    return {
      write: (text) => file.write(text).catch((error: unknown) => Promise.reject(failed(error))),
      commit: () => file.commit().catch((error: unknown) => Promise.reject(failed(error))),
      abort: () => file.abort(),
    };
  } catch (error) {
    throw new Error(`${csv}: cannot write: ${code(error)}`, { cause: error });
  }
}

/** Every input in this process, streamed, to --csv (replaced only when complete), stdout or JSON. */
export async function predictAll(images: string[], flags: PredictFlags): Promise<void> {
  if (flags.csv !== undefined && flags.json)
    throw new UsageError('--csv writes a CSV file and --json prints JSON: choose one');
  if (flags.parts !== undefined) throw new UsageError('--parts goes with --shard i/N or --shards N');
  const { source, scan } = await prepareInputs(images, flags);
  const { predictor, backend } = await loadPredictor(flags);
  const sink = await openSink(flags.csv).catch((error: unknown) => {
    predictor.dispose();
    throw error;
  });
  const progress = createProgress({ quiet: flags.quiet, json: flags.json });
  say(
    flags,
    `${scan.count} image(s), ${predictor.members.length} member(s) × ${predictor.views.length} view(s) on ${backend}`,
  );
  const stop = interruptible();
  let failed = 0;
  const started = performance.now();
  try {
    let text = flags.json ? '[' : `${kaggleCsvHeader()}\n`;
    let first = true;
    progress.start(scan.count, 'predict');
    for await (const o of predictStream(predictor, inputEntries(source), pipelineOptions(flags))) {
      stop.check();
      progress.tick(1);
      if (!o.ok) {
        failed++;
        process.stderr.write(`gzh: ${o.error.message}\n`);
        if (!flags.json) continue;
      }
      if (flags.json) {
        text += `${first ? '\n' : ',\n'}${JSON.stringify(jsonResult(o, flags.convention))}`;
        first = false;
      } else if (o.ok) {
        text += `${kaggleCsvRow(galaxyId(o.source), o.prediction.cumulative)}\n`;
      }
      if (text.length >= 1 << 16) {
        await sink.write(text);
        text = '';
      }
    }
    await sink.write(flags.json ? `${text}\n]\n` : text);
    await sink.commit();
  } catch (error) {
    await sink.abort();
    throw error;
  } finally {
    stop.release();
    progress.stop();
    predictor.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  const done = scan.count - failed;
  say(
    flags,
    `${done} predicted${failed ? `, ${failed} failed` : ''} in ${seconds.toFixed(1)} s ` +
      `(${(done / seconds).toFixed(1)} img/s)${flags.csv && !flags.json ? ` → ${flags.csv}` : ''}`,
  );
  if (failed > 0) process.exitCode = EXIT.failed;
}

function refuseWithShards(flags: PredictFlags): void {
  if (flags.json)
    throw new UsageError('sharded prediction writes Kaggle CSV parts; --json is not available with --shard / --shards');
  if (flags.shard && flags.shards !== undefined)
    throw new UsageError('--shard i/N predicts one shard and --shards N all of them: choose one');
}

/**
 * `--shard i/N`: one shard's inputs into its part file; exit 0 once the part is written (its failures are gathered
 * later).
 */
export async function predictOneShard(images: string[], flags: PredictFlags): Promise<void> {
  refuseWithShards(flags);
  if (flags.parts === undefined) throw new UsageError('--shard i/N needs --parts <dir>, the folder of the part files');
  const shard = flags.shard!;
  const { source, scan } = await prepareInputs(images, flags);
  const { predictor, key, backend } = await loadPredictor(flags);
  const plan: ShardPlan = { scan, shards: shard.count, model: key, partsDir: resolve(flags.parts) };
  const stop = interruptible();
  const started = performance.now();
  try {
    say(flags, `shard ${shard.index}/${shard.count} of ${scan.count} input(s) on ${backend}`);
    const counts = await predictShard(predictor, source, plan, shard.index, {
      ...pipelineOptions(flags),
      onOutcome: () => stop.check(),
    });
    const seconds = (performance.now() - started) / 1000;
    say(
      flags,
      `shard ${shard.index}/${shard.count}: ${counts.rows} predicted, ${counts.failed} unreadable in ` +
        `${seconds.toFixed(1)} s (${(counts.rows / seconds).toFixed(1)} img/s)`,
    );
  } finally {
    stop.release();
    predictor.dispose();
  }
}

/**
 * The command that runs `gzh` in shard tasks (node and the entry script): env GZH_CLI_ENTRY, else
 * the one that runs `gzh run`'s units (this process's own CLI entry, or the built one). Tasks of
 * a cluster run it by this absolute path, so it must be on a file system the nodes share.
 */
export function cliCommand(): string[] {
  const entry = process.env.GZH_CLI_ENTRY;
  if (entry === undefined) return defaultUnitCommand();
  if (!existsSync(entry))
    throw new UsageError(`${entry}: the gzh CLI entry for shard tasks (GZH_CLI_ENTRY) is missing`);
  return [process.execPath, resolve(entry)];
}

function shardArgv(flags: PredictFlags, list: string, plan: ShardPlan): (index: number) => string[] {
  const command = cliCommand();
  const globals = [...(flags.backend ? ['--backend', flags.backend] : []), '--quiet'];
  const common = [
    '--list',
    list,
    '--model',
    resolve(flags.model),
    '--parts',
    plan.partsDir,
    '--batch-size',
    String(flags.batchSize),
  ];
  if (flags.tta) common.push('--tta', formatTta(flags.tta));
  if (flags.decodeWorkers !== undefined) common.push('--decode-workers', String(flags.decodeWorkers));
  return (index) => [...command, ...globals, 'predict', ...common, '--shard', `${index}/${plan.shards}`];
}

const SLURM_FLAGS = ['partition', 'account', 'time', 'cpusPerTask', 'mem', 'sbatch'] as const;

/** Slurm settings without `--executor slurm` would be silently ignored: refuse them. */
function refuseSlurmOptions(flags: PredictFlags): void {
  if (flags.executor === 'slurm') return;
  const given = SLURM_FLAGS.filter((k) => flags[k] !== undefined);
  if (given.length > 0) {
    const names = given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new UsageError(
      `${names.join(', ')} ${given.length > 1 ? 'are' : 'is'} for --executor slurm (this run uses --executor ` +
        `${flags.executor})`,
    );
  }
}

/** `--shards N`: predict the shards not done (inline or as executor tasks), then gather one CSV. */
export async function predictSharded(images: string[], flags: PredictFlags): Promise<void> {
  refuseWithShards(flags);
  if (flags.csv === undefined) throw new UsageError('--shards N gathers into a CSV file: give --csv <file>');
  const target = await stat(flags.csv).catch(() => null);
  if (target && !target.isFile())
    throw new UsageError(
      `${flags.csv}: --shards gathers into a regular file (replaced once complete), not a device or pipe`,
    );
  refuseSlurmOptions(flags);
  const partsDir = resolve(flags.parts ?? `${flags.csv}.parts`);
  const executor = createShardExecutor({
    name: flags.executor,
    jobs: flags.jobs,
    slurm: slurmSettings(flags),
    scriptDir: partsDir,
  });
  const { source, scan } = await prepareInputs(images, flags);
  const description = await readEnsembleDir(flags.model);
  const plan: ShardPlan = { scan, shards: flags.shards!, model: predictionKey(description, flags.tta), partsDir };
  const started = performance.now();
  const missing = await missingShards(plan);
  const how =
    flags.executor === 'local'
      ? `local, ${flags.jobs} job(s)`
      : flags.executor === 'slurm'
        ? `slurm array, script ${join(partsDir, 'predict.sbatch')}`
        : 'inline';
  say(
    flags,
    `${scan.count} input(s) in ${plan.shards} shard(s); ${missing.length} to predict (${how}), parts in ` +
      `${plan.partsDir}`,
  );
  const made: string[] = [join(plan.partsDir, 'logs'), join(plan.partsDir, 'predict.sbatch')];
  if (executor === null) {
    await runInline(flags, source, plan, missing);
  } else {
    const list = source.kind === 'list' ? resolve(source.path) : join(plan.partsDir, 'inputs.txt');
    if (source.kind === 'paths') {
      await writeInputList(source, list);
      made.push(list);
    }
    await runTasksUntilSignal(flags, plan, executor, list);
  }
  await gatherInto(flags, plan, made, started);
}

/**
 * The shard tasks; Ctrl-C or SIGTERM cancels them (scancel, or kill for local children), keeps the
 * parts already written and ends with an InterruptedError (exit 130).
 */
async function runTasksUntilSignal(
  flags: PredictFlags,
  plan: ShardPlan,
  executor: Executor,
  list: string,
): Promise<void> {
  const controller = new AbortController();
  let stopped = '';
  const on = (signal: string) => () => {
    stopped = signal;
    controller.abort();
  };
  const int = on('SIGINT');
  const term = on('SIGTERM');
  process.once('SIGINT', int);
  process.once('SIGTERM', term);
  try {
    await runShardTasks(plan, executor, {
      argv: shardArgv(flags, list, plan),
      cwd: process.cwd(),
      signal: controller.signal,
      onTaskEnd: (o) => say(flags, `shard ${o.index}/${plan.shards} ${o.ok ? 'done' : `failed: ${o.message ?? ''}`}`),
    });
  } catch (error) {
    if (!stopped) throw error;
  } finally {
    process.off('SIGINT', int);
    process.off('SIGTERM', term);
  }
  if (stopped) {
    throw new InterruptedError(
      `predict interrupted (${stopped}): its shard tasks were cancelled; the parts already written stay in ` +
        `${plan.partsDir}, ` +
        'and the same command again predicts only the rest',
    );
  }
}

async function runInline(
  flags: PredictFlags,
  source: InputSource,
  plan: ShardPlan,
  missing: readonly number[],
): Promise<void> {
  if (missing.length === 0) return;
  const { predictor } = await loadPredictor(flags);
  const stop = interruptible();
  try {
    for (const index of missing) {
      await predictShard(predictor, source, plan, index, { ...pipelineOptions(flags), onOutcome: () => stop.check() });
      say(flags, `shard ${index}/${plan.shards} done`);
    }
  } finally {
    stop.release();
    predictor.dispose();
  }
}

async function gatherInto(
  flags: PredictFlags,
  plan: ShardPlan,
  made: readonly string[],
  started: number,
): Promise<void> {
  const result = await gatherParts(plan, flags.csv!, (f) => process.stderr.write(`gzh: ${f.source}: ${f.reason}\n`));
  // every part is in: what killed tasks left behind is stale
  for (let i = 0; i < plan.shards; i++) await cleanStaleTemps(partPath(plan, i));
  if (!flags.keepParts) await removeParts(plan, made);
  const seconds = (performance.now() - started) / 1000;
  say(
    flags,
    `${result.rows} predicted${result.failed ? `, ${result.failed} failed` : ''} in ${seconds.toFixed(1)} s ` +
      `(${(result.rows / seconds).toFixed(1)} img/s) → ${flags.csv}`,
  );
  if (result.failed > 0) process.exitCode = EXIT.failed;
}
