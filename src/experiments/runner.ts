/**
 * Runs an experiment: ingest → preprocess (cached) → train every variant (every ensemble member)
 * on the identical split with the same budget → evaluate on the test split (ensemble averaging,
 * test-time augmentation) → comparison report. Every phase is timed into the run registry; an
 * interrupted run resumes from its saved models and training checkpoints.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Augmenter, D4_ELEMENTS, type D4Element, applyD4, geometryRange, maxSafeOutputSize, resolveAugmentConfig } from '../augment/index.js';
import { initBackend } from '../backend/select.js';
import type { Batch, BatchSource } from '../data/batch.js';
import { packageRoot } from '../data/data-dir.js';
import { SPLIT_NAMES } from '../data/split.js';
import { writeEnsembleDir } from '../ensemble/ensemble-dir.js';
import { buildModel, createManifest, loadModel, saveModel, seedInitialWeights, trunkFromFields, EQUIVARIANT_TRUNKS, type ModelSpec } from '../models/index.js';
import { ANSWER_COUNT, KAGGLE_COLUMNS, QUESTIONS, toConditional } from '../questions/index.js';
import {
  EarlyStopping,
  LearningRateScheduler,
  type Callback,
  type CallbackState,
  type EpochLogs,
  type LossSpec,
  type Schedule,
  type TrainerContext,
  computeMetrics,
  cosineDecay,
  forward,
  imagesToTensor,
  modelView,
  stepDecay,
  train,
} from '../train/index.js';
import { type Progress, SilentProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { type Experiment, type ResolvedVariant, type VariantSettings, answerIndex, canonicalJson } from './config.js';
import { type DataPipeline, type PhaseContext, type PreparedData, defaultDataPipeline } from './data.js';
import { currentGitCommit, type RunKind, type RunRecord, RunRegistry } from './registry.js';
import { SPLIT_FILE, readSplitFile, writeSplitFile } from './split-file.js';
import { type ComparisonResult, type EpochRecord, type ExampleGalaxy, type MemberScore, type ReportFiles, type VariantResult, writeReport } from './report/index.js';

export interface RunnerOptions {
  readonly kind: RunKind;
  readonly registry: RunRegistry;
  /** Backend asked for on the CLI (wins over the config's). */
  readonly backend?: string;
  /** Only these variants (default: all). */
  readonly variants?: readonly string[];
  /** Resume this interrupted or failed run (id, prefix or "latest"). */
  readonly resume?: string;
  readonly pipeline?: DataPipeline;
  /** Selects and initialises the TensorFlow.js backend; returns its name. */
  readonly initBackend?: (preferred?: string) => Promise<string>;
  /** A progress bar factory (default: silent). */
  readonly progress?: () => Progress;
  /** Chatter (default: none). */
  readonly log?: (line: string) => void;
  /** Stop signal (Ctrl-C): the run is marked interrupted and can be resumed. */
  readonly signal?: AbortSignal;
}

export interface RunOutcome {
  readonly run: RunRecord;
  readonly runDir: string;
  readonly result: ComparisonResult;
  readonly report: ReportFiles;
}

/** The run was stopped on purpose (signal); it is recorded as interrupted. */
export class RunInterruptedError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} interrupted; resume it with --resume ${runId}`);
    this.name = 'RunInterruptedError';
  }
}

// ---------------------------------------------------------------------------------------------
// Backend
// ---------------------------------------------------------------------------------------------

/**
 * The project's backend selection (src/backend/select.ts): the backend asked for, else env
 * GZH_BACKEND, else native TensorFlow when it loads, else WebAssembly, else plain JavaScript.
 * Returns the name of the backend now active.
 */
export async function initDefaultBackend(preferred?: string): Promise<string> {
  return (await initBackend(preferred)).name;
}

// ---------------------------------------------------------------------------------------------
// Training pieces
// ---------------------------------------------------------------------------------------------

/** Network input side for a variant: augment.outputSize, else the largest safe centre crop. */
export function inputSize(settings: VariantSettings): number {
  if (settings.augment.outputSize) return settings.augment.outputSize;
  const probe = resolveAugmentConfig({ ...settings.augment, outputSize: 1 });
  return maxSafeOutputSize(settings.preprocess.size, geometryRange(probe));
}

export function modelSpec(settings: VariantSettings, size: number, convention: 'cumulative' | 'conditional'): ModelSpec {
  const m = settings.model;
  const channels = settings.preprocess.channels;
  const lr = settings.optimizer.learningRate;
  // flat and per-question models keep their own CNNs unless the trunk is an equivariant one
  const equivariant = m.trunk !== undefined && EQUIVARIANT_TRUNKS.includes(m.trunk);
  if (m.kind === 'flat') {
    return { kind: 'flat', inputSize: size, channels, learningRate: lr, ...(equivariant ? { trunk: trunkFromFields(m) } : {}) };
  }
  if (m.kind === 'per-question') {
    return {
      kind: 'per-question',
      inputSize: size,
      channels,
      learningRate: lr,
      output: 'cumulative',
      branch: {
        ...(m.filters ? { filters: m.filters } : {}),
        ...(m.dense !== undefined ? { dense: m.dense } : {}),
        ...(m.dropout !== undefined ? { dropout: m.dropout } : {}),
      },
      ...(equivariant ? { trunk: trunkFromFields(m) } : {}),
    };
  }
  void convention;
  const trunk = trunkFromFields(m);
  return { kind: 'hierarchical', inputSize: size, channels, learningRate: lr, output: 'cumulative', trunk, ...(m.heads ? { heads: m.heads } : {}) };
}

export function lossSpec(settings: VariantSettings): LossSpec {
  const l = settings.loss;
  if (l.kind === 'dirichlet-multinomial') return { kind: 'dirichlet-multinomial', ...(l.concentration ? { concentration: l.concentration } : {}) };
  return { kind: l.kind };
}

export function makeOptimizer(settings: VariantSettings): tf.Optimizer {
  const o = settings.optimizer;
  if (o.kind === 'sgd') return o.momentum ? tf.train.momentum(o.learningRate, o.momentum) : tf.train.sgd(o.learningRate);
  if (o.kind === 'rmsprop') return tf.train.rmsprop(o.learningRate, 0.9, o.momentum ?? 0);
  return tf.train.adam(o.learningRate);
}

export function schedule(settings: VariantSettings): Schedule | null {
  const s = settings.schedule;
  const epochs = settings.training.epochs;
  switch (s.kind) {
    case 'constant':
      return s.warmupEpochs > 0 ? (epoch, base) => (epoch < s.warmupEpochs ? (base * (epoch + 1)) / (s.warmupEpochs + 1) : base) : null;
    case 'step':
      return stepDecay({ factor: s.gamma ?? 0.5, every: s.stepEpochs ?? 10 });
    case 'exponential': {
      const gamma = s.gamma ?? 0.9;
      return (epoch, base) => base * gamma ** epoch;
    }
    case 'cosine':
      return cosineDecay({ epochs, minLearningRate: s.minLearningRate ?? 0, warmupEpochs: s.warmupEpochs });
  }
}

/** Stops training after the epoch that uses up a wall-clock budget (counted across resumes). */
export class TimeBudget implements Callback {
  readonly name = 'time_budget';
  private before = 0;
  private started = 0;
  stopped = false;
  constructor(private readonly seconds: number) {}
  onTrainBegin(): void {
    this.started = Date.now();
  }
  elapsed(): number {
    return this.before + (Date.now() - this.started) / 1000;
  }
  onEpochEnd(_epoch: number, _logs: EpochLogs, ctx: TrainerContext): void {
    if (this.elapsed() >= this.seconds) {
      ctx.stopTraining = true;
      this.stopped = true;
    }
  }
  getState(): CallbackState {
    return { json: { seconds: this.elapsed() } };
  }
  setState(state: CallbackState): void {
    this.before = (state.json as { seconds?: number }).seconds ?? 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

export function ttaElements(tta: string): D4Element[] {
  switch (tta) {
    case 'flip':
      return [D4_ELEMENTS[0], D4_ELEMENTS[4]];
    case 'rot4':
      return D4_ELEMENTS.slice(0, 4);
    case 'd4':
      return [...D4_ELEMENTS];
    default:
      return [D4_ELEMENTS[0]];
  }
}

export interface Predictions {
  readonly ids: string[];
  /** N×37 in the experiment's convention. */
  readonly predicted: Float32Array;
  readonly truth: Float32Array;
  /**
   * With `perMember`: each member's own predictions over the same TTA views, N×37 in the
   * experiment's convention, exactly what that member alone would give.
   */
  readonly members?: Float32Array[];
}

/** One ensemble member at evaluation: the model, its test images (its own preprocessing) and input side. */
export interface MemberInput {
  readonly model: tf.LayersModel;
  readonly source: BatchSource;
  /** Network input side: a centre crop of the source's images when smaller. */
  readonly size: number;
}

export interface PredictOptions {
  readonly tta: string;
  readonly convention: 'cumulative' | 'conditional';
  readonly batchSize?: number;
  /** Also return every member's own predictions (from the same forward passes). */
  readonly perMember?: boolean;
}

/**
 * Averages members that may each read their own preprocessing of the same galaxies: the sources
 * are read in lockstep, and a batch whose galaxies differ between sources is an error.
 *
 * Members are averaged in the conditional space only when the convention is conditional and every
 * member has per-question heads; otherwise in cumulative space, converted after averaging.
 */
export async function predictMembers(members: readonly MemberInput[], options: PredictOptions): Promise<Predictions> {
  if (members.length === 0) throw new Error('predictMembers: no members');
  const views = members.map((m) => modelView(m.model));
  const elements = ttaElements(options.tta);
  const conditional = options.convention === 'conditional';
  const useConditional = conditional && views.every((v) => v.conditional);
  const sources = [...new Set(members.map((m) => m.source))];
  const length = sources[0].length;
  for (const s of sources) {
    if (s.length !== length) throw new Error(`ensemble members are evaluated on different galaxies: ${length} vs ${s.length} images`);
  }
  const ids: string[] = [];
  const predicted = new Float32Array(length * ANSWER_COUNT);
  const truth = new Float32Array(length * ANSWER_COUNT);
  const own = options.perMember ? members.map(() => new Float32Array(length * ANSWER_COUNT)) : undefined;
  // A member alone is averaged in its own space: conditional when it has heads and that is asked.
  const aloneConditional = views.map((v) => conditional && v.conditional);
  const place = (target: Float32Array, values: Float32Array, rows: number, at: number, convert: boolean) => {
    for (let r = 0; r < rows; r++) {
      const p = values.subarray(r * ANSWER_COUNT, (r + 1) * ANSWER_COUNT);
      target.set(convert ? toConditional(p, { unreached: 'zero' }) : p, (at + r) * ANSWER_COUNT);
    }
  };
  let row = 0;
  for await (const batches of lockstep(sources, options.batchSize ?? 128)) {
    const batch = batches[0];
    const [mean, ...alone] = tf.tidy(() => {
      const inputs = new Map(sources.map((s, i) => [s, imagesToTensor(batches[i], s.shape)]));
      let sum: tf.Tensor2D | null = null;
      const perMember: tf.Tensor2D[] = [];
      members.forEach((member, k) => {
        const x = cropCenter(inputs.get(member.source)!, member.size);
        let memberSum: tf.Tensor2D | null = null;
        for (const e of elements) {
          const out = forward(views[k], applyD4(x, e), false);
          const y = useConditional ? out.conditional! : out.cumulative;
          sum = sum ? (tf.add(sum, y) as tf.Tensor2D) : y;
          if (own) {
            const z = aloneConditional[k] ? out.conditional! : out.cumulative;
            memberSum = memberSum ? (tf.add(memberSum, z) as tf.Tensor2D) : z;
          }
        }
        if (memberSum) perMember.push(tf.div(memberSum, elements.length) as tf.Tensor2D);
      });
      return [tf.div(sum!, views.length * elements.length) as tf.Tensor2D, ...perMember];
    });
    place(predicted, mean.dataSync() as Float32Array, batch.size, row, conditional && !useConditional);
    alone.forEach((t, k) => place(own![k], t.dataSync() as Float32Array, batch.size, row, conditional && !aloneConditional[k]));
    tf.dispose([mean, ...alone]);
    const targets = conditional ? batch.conditional : batch.cumulative;
    truth.set(targets.subarray(0, batch.size * ANSWER_COUNT), row * ANSWER_COUNT);
    ids.push(...batch.ids);
    row += batch.size;
  }
  return { ids, predicted, truth, ...(own ? { members: own } : {}) };
}

/** The batches of several sources side by side, checked to hold the same galaxies in the same order. */
async function* lockstep(sources: readonly BatchSource[], batchSize: number): AsyncGenerator<Batch[]> {
  const iterators = sources.map((s) => s.batches({ batchSize, shuffle: false, seed: 0, epoch: 0 })[Symbol.asyncIterator]());
  try {
    for (;;) {
      const steps = await Promise.all(iterators.map((it) => it.next()));
      if (steps.every((s) => s.done)) return;
      if (steps.some((s) => s.done)) throw new Error('ensemble members are evaluated on different galaxies: one source ended early');
      const batches = steps.map((s) => s.value as Batch);
      const ids = batches[0].ids;
      for (const b of batches.slice(1)) {
        const at = b.ids.findIndex((id, i) => id !== ids[i]);
        if (at >= 0 || b.ids.length !== ids.length) {
          throw new Error(`ensemble members are evaluated on different galaxies: galaxy ${ids[at] ?? '(none)'} in one preprocessing, ${b.ids[at] ?? '(none)'} in another`);
        }
      }
      yield batches;
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return?.()));
  }
}

function cropCenter(images: tf.Tensor4D, size: number): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (h === size && w === size) return images;
  return tf.slice(images, [0, Math.floor((h - size) / 2), Math.floor((w - size) / 2), 0], [n, size, size, c]);
}

/** R² per question: 1 − Σ SSE / Σ SST over the question's answers (each about its own mean). */
export function questionR2(truth: Float32Array, predicted: Float32Array): number[] {
  const n = truth.length / ANSWER_COUNT;
  return QUESTIONS.map((q) => {
    let sse = 0;
    let sst = 0;
    for (const a of q.answers) {
      let mean = 0;
      for (let r = 0; r < n; r++) mean += truth[r * ANSWER_COUNT + a.index];
      mean /= n;
      for (let r = 0; r < n; r++) {
        const y = truth[r * ANSWER_COUNT + a.index];
        const d = predicted[r * ANSWER_COUNT + a.index] - y;
        sse += d * d;
        sst += (y - mean) * (y - mean);
      }
    }
    return sst > 1e-12 ? 1 - sse / sst : Number.NaN;
  });
}

/** Seeded choice of k of n indices, in ascending order. */
function sample(n: number, k: number, seed: number, label: string): number[] {
  return Random.derive(seed, label).permutation(n).slice(0, Math.min(k, n)).sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

interface VariantState {
  done?: boolean;
}

interface StoredVariant {
  readonly result: VariantResult;
  /** Predictions for the example galaxies (id → 37 values). */
  readonly examples: Record<string, number[]>;
}

function budgetText(s: VariantSettings): string {
  const t = s.training;
  return `${t.epochs} epochs${t.maxMinutes ? `, ≤ ${t.maxMinutes} min` : ''} per model, batch ${t.batchSize}, ${s.optimizer.kind} lr ${s.optimizer.learningRate} (${s.schedule.kind})`;
}

/** Run (or resume) an experiment end to end. Throws RunInterruptedError on a signal. */
export async function runExperiment(experiment: Experiment, options: RunnerOptions): Promise<RunOutcome> {
  const registry = options.registry;
  const log = options.log ?? (() => {});
  const makeProgress = options.progress ?? (() => new SilentProgress());
  const pipeline = options.pipeline ?? defaultDataPipeline();
  const initBackend = options.initBackend ?? initDefaultBackend;

  let previous: RunRecord | undefined;
  if (options.resume) {
    previous = options.resume === 'latest' ? registry.latestOf(experiment.hash) : registry.get(options.resume);
    if (previous.configHash !== experiment.hash) {
      throw Object.assign(
        new Error(`run ${previous.id} was made from a different config (hash ${previous.configHash.slice(0, 12)}, this one ${experiment.hash.slice(0, 12)}); resume it with the config it was started with${previous.configPath ? ` (${previous.configPath})` : ''}`),
        { exitCode: 2 },
      );
    }
  }
  // A resumed run keeps the variants it was started with, unless others are asked for.
  const startedWith = (previous?.config as { variants?: Array<{ name: string }> } | undefined)?.variants?.map((v) => v.name);
  const wanted = options.variants && options.variants.length ? options.variants : (startedWith ?? null);
  if (wanted) {
    const unknown = wanted.filter((w) => !experiment.variants.some((v) => v.name === w));
    if (unknown.length) {
      throw Object.assign(new Error(`unknown variant ${unknown.map((u) => `"${u}"`).join(', ')}; this experiment has ${experiment.variants.map((v) => `"${v.name}"`).join(', ')}`), { exitCode: 2 });
    }
  }
  const variants = wanted ? experiment.variants.filter((v) => wanted.includes(v.name)) : experiment.variants;

  let run: RunRecord;
  if (previous) {
    run = registry.resume(previous.id);
    log(`resuming run ${run.id}`);
  } else {
    run = registry.create({
      name: experiment.name,
      kind: options.kind,
      ...(experiment.sourcePath ? { configPath: experiment.sourcePath } : {}),
      config: { ...experiment.config, variants: variants.map((v) => ({ name: v.name, label: v.label, settings: v.settings })) },
      configHash: experiment.hash,
      seed: experiment.seed,
      gitCommit: currentGitCommit(packageRoot()),
    });
  }
  const runId = run.id;
  const runDir = join(experiment.outputDir, runId);
  mkdirSync(runDir, { recursive: true });
  registry.setOutputDir(runId, runDir);
  const state = (run.state as { variants?: Record<string, VariantState> }).variants ?? {};

  const checkSignal = () => {
    if (options.signal?.aborted) throw new RunInterruptedError(runId);
  };
  // Synthesis, ingest and preprocessing tick this progress bar: a stop request ends them at the next tick.
  const dataProgress = makeProgress();
  const ctx: PhaseContext = {
    progress: {
      start: (total, label) => dataProgress.start(total, label),
      tick: (n) => {
        checkSignal();
        dataProgress.tick(n);
      },
      stop: () => dataProgress.stop(),
    },
    log,
  };
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    checkSignal();
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      ctx.progress.stop();
      registry.recordPhase(runId, name, (performance.now() - t0) / 1000);
    }
  };

  try {
    const backend = await phase('backend', () => initBackend(options.backend ?? experiment.config.backend));
    registry.setBackend(runId, backend);
    log(`backend: ${backend}`);

    const ingested = await phase('ingest', () => pipeline.ingest(experiment, ctx));
    const data = await phase('preprocess', () => pipeline.prepare(experiment, ingested, ctx));
    log(`split: ${data.train.length} train / ${data.validation.length} validation / ${data.test.length} test galaxies`);
    if (data.train.length === 0 || data.test.length === 0) throw new Error('the split has no training or no test galaxies; use more data or other split fractions');
    // Ensemble members with a preprocessing of their own read their own cache of the same split.
    const prepared = new Map<string, PreparedData>([[preprocessKey(experiment.variants[0].settings.preprocess), data]]);
    for (const variant of variants) {
      for (const member of variant.members) {
        const key = preprocessKey(member.settings.preprocess);
        if (prepared.has(key)) continue;
        const label = preprocessLabel(member.settings.preprocess);
        const other = await phase(`preprocess:${label}`, () => pipeline.prepare(experiment, ingested, ctx, member.settings.preprocess));
        for (const split of SPLIT_NAMES) {
          if (other[split].length !== data[split].length) {
            throw new Error(`preprocessing ${label} gives ${other[split].length} ${split} galaxies, the experiment's ${data[split].length}: some images could not be preprocessed that way`);
          }
        }
        prepared.set(key, other);
      }
    }
    const dataFor = (settings: VariantSettings): PreparedData => prepared.get(preprocessKey(settings.preprocess))!;
    // The galaxies of each split, kept with the run so that its models can be re-scored on them
    // later, and so that a resumed run goes on with exactly the galaxies it started with.
    const [train, validation, test] = [data.train.ids, data.validation.ids, data.test.ids];
    const splitFile = join(runDir, SPLIT_FILE);
    if (existsSync(splitFile)) {
      const before = readSplitFile(splitFile);
      const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, i) => id === b[i]);
      if (!same(before.ids.train, train) || !same(before.ids.validation, validation) || !same(before.ids.test, test)) {
        throw Object.assign(
          new Error(
            `run ${runId} was started on other data (${splitFile}: ${before.ids.train.length}/${before.ids.validation.length}/${before.ids.test.length} galaxies${before.data ? ` from ${before.data}` : ''}; now ${train.length}/${validation.length}/${test.length} from ${experiment.data.path}); resume it with the data it was started with${before.data ? ` (--data-path ${before.data})` : ''}`,
          ),
          { exitCode: 2 },
        );
      }
    } else {
      writeSplitFile(runDir, { data: experiment.data.path, catalogue: ingested.catalogue, seed: experiment.seed, ids: { train, validation, test } });
      registry.addArtifacts(runId, { 'split.json': splitFile });
    }

    const report = experiment.config.report;
    const exampleRows = sample(data.test.length, report.examples, experiment.seed, 'examples');
    const scatterRows = sample(data.test.length, report.scatterPoints, experiment.seed, 'scatter');

    const stored: StoredVariant[] = [];
    for (const variant of variants) {
      const file = join(runDir, 'variants', variant.name, 'result.json');
      if (state[variant.name]?.done && existsSync(file)) {
        log(`${variant.name}: already done, reusing ${file}`);
        stored.push(JSON.parse(readFileSync(file, 'utf8'), (_k, v: unknown) => (v === null ? Number.NaN : v)) as StoredVariant);
        continue;
      }
      const result = await runVariant(experiment, variant, dataFor, { runDir, runId, registry, phase, ctx, exampleRows, scatterRows, makeProgress, checkSignal, log });
      mkdirSync(join(runDir, 'variants', variant.name), { recursive: true });
      writeFileSync(file, JSON.stringify(result));
      state[variant.name] = { done: true };
      registry.updateState(runId, { variants: state });
      registry.setMetrics(runId, {
        variants: {
          ...((registry.get(runId).metrics as { variants?: object }).variants ?? {}),
          [variant.name]: { label: variant.label, rmse: result.result.overall.rmse, r2: result.result.overall.r2, meanAnswerR2: result.result.overall.meanAnswerR2 },
        },
      });
      stored.push(result);
      log(`${variant.label}: test RMSE ${result.result.overall.rmse.toFixed(4)}, R² ${result.result.overall.r2.toFixed(4)}`);
    }

    const testIds = data.test.ids;
    const examples: ExampleGalaxy[] = [];
    const truthByRow = await truthRows(data.test, experiment.data.convention, exampleRows);
    for (const r of exampleRows) {
      const id = testIds[r];
      const path = data.imagePath(id);
      if (!path) continue;
      examples.push({
        id,
        image: { path },
        truth: truthByRow.get(r)!,
        predictions: Object.fromEntries(variants.map((v, i) => [v.name, stored[i].examples[id]])),
      });
    }
    const fresh = registry.get(runId);
    const result: ComparisonResult = {
      experiment: {
        name: experiment.name,
        ...(experiment.description ? { description: experiment.description } : {}),
        runId,
        configHash: experiment.hash,
        ...(experiment.sourcePath ? { configPath: experiment.sourcePath } : {}),
        seed: experiment.seed,
        gitCommit: fresh.gitCommit,
        backend,
        dataSource: experiment.data.source,
        dataPath: experiment.data.path,
        convention: experiment.data.convention,
        createdAt: new Date().toISOString(),
        budget: budgetText(variants[0].settings),
      },
      split: { train: data.train.length, validation: data.validation.length, test: data.test.length },
      variants: stored.map((s) => s.result),
      examples,
      phases: fresh.phases,
    };
    const files = await phase('report', () => writeReport(result, join(runDir, 'report')));
    registry.addArtifacts(runId, { 'report.md': files.markdown, 'report.html': files.html, 'report.json': files.json });
    registry.complete(runId);
    return { run: registry.get(runId), runDir, result: { ...result, phases: registry.get(runId).phases }, report: files };
  } catch (error) {
    if (error instanceof RunInterruptedError || options.signal?.aborted) {
      registry.markInterrupted(runId, 'stopped by a signal');
      throw error instanceof RunInterruptedError ? error : new RunInterruptedError(runId);
    }
    registry.fail(runId, error);
    throw error;
  }
}

async function truthRows(source: BatchSource, convention: 'cumulative' | 'conditional', rows: readonly number[]): Promise<Map<number, number[]>> {
  const wanted = new Set(rows);
  const out = new Map<number, number[]>();
  let r = 0;
  for await (const b of source.batches({ batchSize: 512, shuffle: false, seed: 0, epoch: 0 })) {
    const values = convention === 'conditional' ? b.conditional : b.cumulative;
    for (let k = 0; k < b.size; k++, r++) {
      if (wanted.has(r)) out.set(r, Array.from(values.subarray(k * ANSWER_COUNT, (k + 1) * ANSWER_COUNT)));
    }
  }
  return out;
}

interface VariantContext {
  readonly runDir: string;
  readonly runId: string;
  readonly registry: RunRegistry;
  readonly phase: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  readonly ctx: PhaseContext;
  readonly exampleRows: readonly number[];
  readonly scatterRows: readonly number[];
  readonly makeProgress: () => Progress;
  readonly checkSignal: () => void;
  readonly log: (line: string) => void;
}

/** e.g. `center 160 → 64px rgb`, `contour → 106px gray`. */
function preprocessLabel(p: VariantSettings['preprocess']): string {
  return `${p.method}${p.method === 'center' ? ` ${p.centerCrop}` : ''} → ${p.size}px ${p.channels === 1 ? 'gray' : 'rgb'}`;
}

/** Identifies a preprocessing (the cache directory aside). */
function preprocessKey(p: VariantSettings['preprocess']): string {
  const { cacheDir: _cacheDir, ...rest } = p;
  return canonicalJson(rest);
}

/** The training recipe of a variant: every setting except how its members are combined. */
function trainingKey(settings: VariantSettings): string {
  const { ensemble: _ensemble, ...rest } = settings;
  return canonicalJson(rest);
}

/**
 * An earlier variant of this run whose member `m` was trained from the identical recipe and seed
 * (member seeds depend only on the experiment seed and the index): training it again would repeat
 * the same work, so that model is used.
 */
function trainedTwin(experiment: Experiment, variant: ResolvedVariant, m: number, runDir: string): { modelDir: string; historyFile: string; from: string } | undefined {
  const key = trainingKey(variant.members[m].settings);
  for (const other of experiment.variants) {
    if (other.name === variant.name) return undefined; // only variants that ran before this one
    if (m >= other.members.length || trainingKey(other.members[m].settings) !== key) continue;
    const memberDir = join(runDir, 'variants', other.name, `member-${m}`);
    const modelDir = join(memberDir, 'model');
    const historyFile = join(memberDir, 'history.json');
    if (existsSync(join(modelDir, 'model.json')) && existsSync(historyFile)) return { modelDir, historyFile, from: other.name };
  }
  return undefined;
}

async function runVariant(experiment: Experiment, variant: ResolvedVariant, dataFor: (settings: VariantSettings) => PreparedData, vc: VariantContext): Promise<StoredVariant> {
  const s = variant.settings;
  const sizes = variant.members.map((member, m) => {
    const size = inputSize(member.settings);
    if (size < 1) {
      throw new Error(`${variant.name}${variant.members.length > 1 ? ` member ${m + 1}` : ''}: the augmentation ranges leave no safe input size inside ${member.settings.preprocess.size}px images; set augment.outputSize or narrow zoom/translate`);
    }
    return size;
  });
  const members: tf.LayersModel[] = [];
  const memberDirs: string[] = [];
  const history: EpochRecord[] = [];
  let epochsMax = 0;
  let parameters = 0;
  const trainStart = performance.now();
  // Training time spent in earlier processes of a resumed run (members finished or checkpointed there).
  let earlierSeconds = 0;
  try {
    await vc.phase(`train:${variant.name}`, async () => {
      for (let m = 0; m < s.ensemble.size; m++) {
        vc.checkSignal();
        const memberDir = join(vc.runDir, 'variants', variant.name, `member-${m}`);
        const modelDir = join(memberDir, 'model');
        const historyFile = join(memberDir, 'history.json');
        const seed = m === 0 ? experiment.seed : (Random.derive(experiment.seed, 'member', m).nextUint32() >>> 1);
        const ms = variant.members[m].settings;
        const memberData = dataFor(ms);
        const size = sizes[m];
        const trainedHere = existsSync(join(modelDir, 'model.json')) && existsSync(historyFile);
        const source = trainedHere ? { modelDir, historyFile, from: undefined } : trainedTwin(experiment, variant, m, vc.runDir);
        if (source) {
          const loaded = await loadModel(source.modelDir);
          members.push(loaded.model);
          memberDirs.push(source.modelDir);
          const h = JSON.parse(readFileSync(source.historyFile, 'utf8')) as EpochRecord[];
          history.push(...h);
          epochsMax = Math.max(epochsMax, h.length);
          if (source.from) {
            vc.registry.addArtifacts(vc.runId, { [`model:${variant.name}:${m}`]: source.modelDir });
            vc.log(`${variant.name}: member ${m + 1}/${s.ensemble.size} has the same settings and seed as ${source.from}'s, which is trained: reused`);
          } else {
            vc.log(`${variant.name}: member ${m + 1}/${s.ensemble.size} already trained`);
            earlierSeconds += h.reduce((sum, e) => sum + (e.seconds ?? 0), 0);
          }
          continue;
        }
        const spec = modelSpec(ms, size, experiment.data.convention);
        const model = await buildModel(spec);
        seedInitialWeights(model, seed);
        parameters = model.countParams();
        const augmenter = new Augmenter({ ...ms.augment, outputSize: size }, seed);
        const callbacks: Callback[] = [];
        const sched = schedule(ms);
        if (sched) callbacks.push(new LearningRateScheduler(sched));
        const es = s.callbacks.earlyStopping;
        if (es || s.callbacks.restoreBest) {
          callbacks.push(
            new EarlyStopping({
              monitor: es?.monitor ?? 'val_rmse',
              patience: es?.patience ?? s.training.epochs + 1,
              minDelta: es?.minDelta ?? 0,
              restoreBestWeights: s.callbacks.restoreBest,
            }),
          );
        }
        if (s.training.maxMinutes) callbacks.push(new TimeBudget(s.training.maxMinutes * 60));
        if (memberData.validation.length === 0 && (es || s.callbacks.restoreBest) && m === 0) {
          vc.log(`${variant.name}: the split has no validation galaxies, so early stopping and restoreBest are off`);
        }
        const optimizer = makeOptimizer(ms);
        const progress = vc.makeProgress();
        const batches = Math.ceil(memberData.train.length / s.training.batchSize);
        progress.start(batches * s.training.epochs, `train ${variant.name}${s.ensemble.size > 1 ? ` ${m + 1}/${s.ensemble.size}` : ''} (batches)`);
        let ticked = 0;
        try {
          const callStart = performance.now();
          const result = await train(model, {
            train: memberData.train,
            ...(memberData.validation.length > 0 ? { validation: memberData.validation } : {}),
            epochs: s.training.epochs,
            batchSize: s.training.batchSize,
            seed,
            loss: lossSpec(ms),
            optimizer,
            augment: (x, batchIndex, epoch) => augmenter.apply(x, batchIndex, epoch),
            prepare: (x) => augmenter.evaluate(x),
            callbacks: memberData.validation.length > 0 ? callbacks : callbacks.filter((c) => !(c instanceof EarlyStopping)),
            checkpoint: { dir: join(memberDir, 'checkpoint'), everySeconds: s.callbacks.checkpointSeconds },
            onProgress: (p) => {
              const done = p.epoch * p.batchesPerEpoch + p.batch;
              if (done > ticked) {
                progress.tick(done - ticked);
                ticked = done;
              }
              vc.checkSignal();
            },
          });
          if (result.resumedFrom) earlierSeconds += Math.max(0, result.seconds - (performance.now() - callStart) / 1000);
          const h: EpochRecord[] = result.history.map((logs) => ({
            epoch: (logs.epoch ?? 0) + 1,
            member: m,
            loss: logs.loss,
            ...(logs.val_loss !== undefined ? { valLoss: logs.val_loss } : {}),
            ...(logs.val_rmse !== undefined ? { valRmse: logs.val_rmse } : {}),
            ...(logs.lr !== undefined ? { learningRate: logs.lr } : {}),
            ...(logs.seconds !== undefined ? { seconds: logs.seconds } : {}),
          }));
          history.push(...h);
          epochsMax = Math.max(epochsMax, h.length);
          await saveModel(model, modelDir, {
            manifest: createManifest(model, { kind: spec.kind, options: spec, preprocessing: memberData.preprocessing }),
          });
          writeFileSync(historyFile, JSON.stringify(h));
          vc.registry.addArtifacts(vc.runId, { [`model:${variant.name}:${m}`]: modelDir });
        } finally {
          progress.stop();
          optimizer.dispose();
        }
        members.push(model);
        memberDirs.push(modelDir);
      }
    });
    const trainSeconds = (performance.now() - trainStart) / 1000 + earlierSeconds;
    if (!parameters && members[0]) parameters = members[0].countParams();

    const evalStart = performance.now();
    const inputs: MemberInput[] = members.map((model, m) => ({ model, source: dataFor(variant.members[m].settings).test, size: sizes[m] }));
    const convention = experiment.data.convention;
    // Each member's own TTA predictions come from the ensemble's forward passes.
    const preds = await vc.phase(`evaluate:${variant.name}`, () => predictMembers(inputs, { tta: s.ensemble.tta, convention, perMember: members.length > 1 }));
    const memberScores: MemberScore[] = [];
    let memberSpread: number | undefined;
    if (members.length > 1) {
      await vc.phase(`evaluate-members:${variant.name}`, async () => {
        const predictions: Float32Array[] = [];
        for (const [m, input] of inputs.entries()) {
          const alone = s.ensemble.tta === 'none' ? preds.members![m] : (await predictMembers([input], { tta: 'none', convention })).predicted;
          predictions.push(alone);
          const scored = computeMetrics(preds.truth, alone);
          const rmseTta = s.ensemble.tta !== 'none' ? computeMetrics(preds.truth, preds.members![m]).rmse : undefined;
          const label = variant.members[m].label;
          memberScores.push({ member: m, ...(label ? { label } : {}), rmse: scored.rmse, r2: scored.r2, ...(rmseTta !== undefined ? { rmseTta } : {}) });
        }
        memberSpread = spreadAboutMean(predictions);
      });
      // The variant folder reads as the whole ensemble (members reused from another variant included).
      await writeEnsembleDir(join(vc.runDir, 'variants', variant.name), {
        members: memberDirs,
        tta: s.ensemble.tta,
        convention,
        description: `${variant.label} (run ${vc.runId})`,
      });
    }
    const evaluateSeconds = (performance.now() - evalStart) / 1000;
    const metrics = computeMetrics(preds.truth, preds.predicted);
    const qR2 = questionR2(preds.truth, preds.predicted);
    const scatter = experiment.config.report.answers.map((answer) => {
      const a = answerIndex(answer)!;
      return {
        answer: KAGGLE_COLUMNS[a],
        truth: vc.scatterRows.map((r) => round(preds.truth[r * ANSWER_COUNT + a])),
        predicted: vc.scatterRows.map((r) => round(preds.predicted[r * ANSWER_COUNT + a])),
      };
    });
    const examples: Record<string, number[]> = {};
    for (const r of vc.exampleRows) examples[preds.ids[r]] = Array.from(preds.predicted.subarray(r * ANSWER_COUNT, (r + 1) * ANSWER_COUNT)).map(round);
    return {
      result: {
        name: variant.name,
        label: variant.label,
        ...(variant.description ? { description: variant.description } : {}),
        modelKind: s.model.kind,
        ensembleSize: s.ensemble.size,
        tta: s.ensemble.tta,
        parameters,
        epochs: epochsMax,
        trainSeconds,
        evaluateSeconds,
        overall: { rmse: metrics.rmse, mse: metrics.mse, r2: metrics.r2, meanAnswerR2: metrics.r2PerAnswerMean },
        perQuestion: QUESTIONS.map((q, i) => ({ question: q.number, rmse: metrics.rmsePerQuestion[i], r2: qR2[i] })),
        perAnswerR2: [...metrics.r2PerAnswer],
        perAnswerRmse: [...metrics.rmsePerAnswer],
        history,
        scatter,
        ...(memberScores.length ? { members: memberScores } : {}),
        ...(memberSpread !== undefined ? { memberSpread } : {}),
      },
      examples,
    };
  } finally {
    for (const m of members) m.dispose();
  }
}

/**
 * Root mean square distance of the members' predictions from their average. With equal weights,
 * MSE(average) = mean member MSE − spread² (the ambiguity decomposition): the spread bounds what
 * averaging these members can gain.
 */
export function spreadAboutMean(predictions: readonly Float32Array[]): number {
  const n = predictions.length;
  const length = predictions[0]?.length ?? 0;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    let mean = 0;
    for (const p of predictions) mean += p[i];
    mean /= n;
    for (const p of predictions) sum += (p[i] - mean) ** 2;
  }
  return length > 0 ? Math.sqrt(sum / (n * length)) : 0;
}

function round(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
