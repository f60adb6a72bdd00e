/**
 * What the units of one run share inside one process: the experiment (rebuilt from the run
 * directory's run.json in a child process or a Slurm task), its plan, the data (cached catalogue
 * and image caches, opened once per preprocessing), chatter, progress bars and the stop signal.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CorruptArtifactError, InputError, InterruptedError } from '../errors.js';
import type { PreparedData, DataPipeline, IngestedData, PhaseContext } from './data.js';
import { defaultDataPipeline } from './data.js';
import {
  type Experiment,
  type ExperimentFile,
  type ResolvedVariant,
  type VariantSettings,
  parseExperimentConfig,
} from './config.js';
import type { RunKind } from './registry.js';
import { type RunPlan, buildPlan } from './plan.js';
import { preprocessKey } from './recipe.js';
import { SPLIT_FILE, readSplitFile, sameSplit } from './split-file.js';
import { writeFileAtomic } from '../util/atomic.js';
import { type Progress, SilentProgress } from '../util/progress.js';
import { Random } from '../util/random.js';

export const RUN_FILE = 'run.json';

/** Everything a process needs to run units of a run, written by the submitting process. */
export interface RunFile {
  readonly runId: string;
  readonly kind: RunKind;
  readonly gitCommit: string | null;
  /** Backend asked for (CLI, else config). */
  readonly backend?: string;
  readonly variants: readonly string[];
  readonly experiment: {
    readonly config: ExperimentFile;
    readonly hash: string;
    readonly sourcePath?: string;
    readonly dataDir: string;
    readonly dataPath?: string;
    readonly outputDir: string;
  };
}

export function runFileOf(experiment: Experiment, run: Omit<RunFile, 'experiment'>): RunFile {
  return {
    ...run,
    experiment: {
      config: experiment.config,
      hash: experiment.hash,
      ...(experiment.sourcePath ? { sourcePath: experiment.sourcePath } : {}),
      dataDir: experiment.dataDir,
      // synthetic data is generated where the config says; only real data may be pointed elsewhere
      ...(experiment.data.source !== 'synthetic' ? { dataPath: experiment.data.path } : {}),
      outputDir: experiment.outputDir,
    },
  };
}

export async function writeRunFile(runDir: string, run: RunFile): Promise<void> {
  await writeFileAtomic(join(runDir, RUN_FILE), `${JSON.stringify(run, null, 2)}\n`);
}

/** Reads run.json and rebuilds the experiment exactly (its hash must match). */
export function readRunFile(runDir: string): { run: RunFile; experiment: Experiment } {
  const path = join(runDir, RUN_FILE);
  let run: RunFile;
  try {
    run = JSON.parse(readFileSync(path, 'utf8')) as RunFile;
  } catch (error) {
    throw new CorruptArtifactError(
      path,
      `cannot be read (${(error as Error).message})`,
      'start the run again with gzh run',
    );
  }
  const e = run.experiment;
  const experiment = parseExperimentConfig(e.config, {
    source: e.sourcePath ?? path,
    configDir: e.sourcePath ? dirname(e.sourcePath) : runDir,
    dataDir: e.dataDir,
    outputDir: e.outputDir,
    ...(e.dataPath ? { dataPath: e.dataPath } : {}),
  });
  if (experiment.hash !== e.hash)
    throw new CorruptArtifactError(
      path,
      `describes an experiment whose hash is ${experiment.hash.slice(0, 12)}, not the recorded ${e.hash.slice(0, 12)}`,
      'start the run again with gzh run',
    );
  return { run, experiment };
}

export interface SessionOptions {
  readonly pipeline?: DataPipeline;
  readonly log?: (line: string) => void;
  readonly progress?: () => Progress;
  readonly signal?: AbortSignal;
}

/** Seeded choice of k of n indices, in ascending order. */
function sample(n: number, k: number, seed: number, label: string): number[] {
  return Random.derive(seed, label)
    .permutation(n)
    .slice(0, Math.min(k, n))
    .sort((a, b) => a - b);
}

export class RunSession {
  readonly plan: RunPlan;
  readonly variants: readonly ResolvedVariant[];
  readonly pipeline: DataPipeline;
  readonly log: (line: string) => void;
  readonly makeProgress: () => Progress;
  readonly ctx: PhaseContext;
  /** The TensorFlow.js backend this process runs on, once initialised. */
  backend?: string;
  private ingested?: Promise<IngestedData>;
  private readonly prepared = new Map<string, Promise<PreparedData>>();

  constructor(
    readonly experiment: Experiment,
    readonly runDir: string,
    readonly run: RunFile,
    readonly options: SessionOptions = {},
  ) {
    this.variants = run.variants.map((name) => experiment.variants.find((v) => v.name === name)!);
    this.plan = buildPlan(experiment, this.variants);
    this.pipeline = options.pipeline ?? defaultDataPipeline();
    this.log = options.log ?? (() => {});
    this.makeProgress = options.progress ?? (() => new SilentProgress());
    const bar = this.makeProgress();
    this.ctx = {
      progress: {
        start: (total, label) => bar.start(total, label),
        tick: (n) => (this.checkSignal(), bar.tick(n)),
        stop: () => bar.stop(),
      },
      log: this.log,
    };
  }

  /** Throws InterruptedError once the stop signal has fired. */
  checkSignal(): void {
    if (this.options.signal?.aborted) throw this.stopError();
  }

  /**
   * The InterruptedError of a stop: which run, the signal's reason when it gave one (SIGTERM…),
   * and `detail` (where the work stopped, e.g. the batch a training checkpointed).
   */
  stopError(detail?: string): InterruptedError {
    const reason = this.options.signal?.reason;
    const by = typeof reason === 'string' ? ` by ${reason}` : '';
    return new InterruptedError(`run ${this.run.runId} stopped${by}${detail ? `: ${detail}` : ''}`);
  }

  ingest(): Promise<IngestedData> {
    this.ingested ??= this.pipeline.ingest(this.experiment, this.ctx);
    return this.ingested;
  }

  /** The three splits with a preprocessing (default: the experiment's first variant's). */
  data(
    preprocess: VariantSettings['preprocess'] = this.experiment.variants[0].settings.preprocess,
  ): Promise<PreparedData> {
    const key = preprocessKey(preprocess);
    let data = this.prepared.get(key);
    if (!data) {
      data = this.ingest()
        .then((ingested) => this.pipeline.prepare(this.experiment, ingested, this.ctx, preprocess))
        .then((prepared) => this.checkSplit(prepared));
      this.prepared.set(key, data);
    }
    return data;
  }

  /**
   * The galaxies of `data` must be those of the run's split.json (written by its prepare unit),
   * whichever process and unit reads them: a resumed run is pinned to the data it started on.
   */
  private checkSplit(data: PreparedData): PreparedData {
    const file = join(this.runDir, SPLIT_FILE);
    if (!existsSync(file)) return data;
    const before = readSplitFile(file);
    const ids = { train: data.train.ids, validation: data.validation.ids, test: data.test.ids };
    if (sameSplit(before, ids)) return data;
    const counts = (x: Readonly<Record<'train' | 'validation' | 'test', readonly string[]>>) =>
      `${x.train.length}/${x.validation.length}/${x.test.length}`;
    throw new InputError(
      `run ${this.run.runId} was started on other data (${file}: ${counts(before.ids)} ` +
        `galaxies${before.data ? ` from ${before.data}` : ''}; now ${counts(ids)} from ` +
        `${this.experiment.data.path}); resume it with the data it was started ` +
        `with${before.data ? ` (--data-path ${before.data})` : ''}`,
    );
  }

  /** Test rows shown as report examples and scatter points (seeded). */
  async reportRows(): Promise<{ examples: number[]; scatter: number[] }> {
    const n = (await this.data()).test.length;
    const report = this.experiment.config.report;
    return {
      examples: sample(n, report.examples, this.experiment.seed, 'examples'),
      scatter: sample(n, report.scatterPoints, this.experiment.seed, 'scatter'),
    };
  }
}
