/**
 * Runs an experiment as a plan of units (src/experiments/plan.ts): prepare data → train every
 * member of every variant → score every variant → report, each unit's body living with its
 * concept (src/experiments/units). The runner only orchestrates: it opens (or resumes) the run in
 * the registry, writes run.json for the processes that run units, runs the units not done with
 * the chosen executor, and records phases, artifacts and metrics in the registry. An interrupted
 * or failed run resumes with the units not done.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../backend/select.js';
import { projectHome } from '../util/project.js';
import { GzhError, InputError, InterruptedError } from '../errors.js';
import type { Experiment, ResolvedVariant } from './config.js';
import type { DataPipeline } from './data.js';
import { type ExecutorChoice, executeUnits, pinInlineThreads } from './execute.js';
import type { Unit } from './plan.js';
import { currentGitCommit, type RunKind, type RunRecord, RunRegistry } from './registry.js';
import { type ComparisonResult, type ReportFiles } from './report/index.js';
import { RunSession, runFileOf, writeRunFile } from './session.js';
import { readUnitStatus } from './unit-status.js';
import { comparison } from './units/report.js';
import { readStoredVariant } from './units/score.js';
import type { Progress } from '../util/progress.js';

/** How `runExperiment` runs: what kind of run, where it is recorded, which variants, and where units run. */
export interface RunnerOptions {
  /** `run` or `compare` (recorded with the run). */
  readonly kind: RunKind;
  /** The run registry the run is recorded in. */
  readonly registry: RunRegistry;
  /** Backend asked for on the CLI (wins over the config's). */
  readonly backend?: string;
  /** Only these variants (default: all). */
  readonly variants?: readonly string[];
  /** Resume this interrupted or failed run (id, prefix or "latest"). */
  readonly resume?: string;
  /** @internal The data phases (default: ingest and preprocess to the caches); tests replace them. */
  readonly pipeline?: DataPipeline;
  /** Selects and initialises the TensorFlow.js backend; returns its name. */
  readonly initBackend?: (preferred?: string) => Promise<string>;
  /** A progress bar factory (default: silent). */
  readonly progress?: () => Progress;
  /** Chatter (default: none). */
  readonly log?: (line: string) => void;
  /** Stop signal (Ctrl-C): the run is marked interrupted and can be resumed. */
  readonly signal?: AbortSignal;
  /** Where units run (default: inline, in this process). */
  readonly executor?: ExecutorChoice;
}

/** What a finished run gives. */
export interface RunOutcome {
  /** The run as recorded in the registry. */
  readonly run: RunRecord;
  /** The run's folder (models, logs, report). */
  readonly runDir: string;
  /** The scores of every variant, as the report shows them. */
  readonly result: ComparisonResult;
  /** The report files written. */
  readonly report: ReportFiles;
}

/** The run was stopped on purpose (signal); it is recorded as interrupted. */
export class RunInterruptedError extends InterruptedError {
  constructor(readonly runId: string) {
    super(`run ${runId} interrupted; resume it with --resume ${runId}`);
    this.name = 'RunInterruptedError';
  }
}

/** Some units failed; each one's message is in its status file and in this error. */
export class UnitsFailedError extends GzhError {
  constructor(
    readonly runId: string,
    readonly failures: ReadonlyArray<{ unit: string; message: string }>,
  ) {
    super(
      `${failures.length} unit${failures.length > 1 ? 's' : ''} of run ${runId} ` +
        `failed:\n${failures.map((f) => `  ${f.unit}: ${f.message}`).join('\n')}\nresume the run (--resume ` +
        `${runId}) to run only the units not done`,
    );
  }
}

/**
 * The project's backend selection (src/backend/select.ts): the backend asked for, else env
 * GZH_BACKEND, else native TensorFlow when it loads, else WebAssembly, else plain JavaScript.
 * Returns the name of the backend now active.
 */
export async function initDefaultBackend(preferred?: string): Promise<string> {
  return (await initBackend(preferred)).name;
}

/** The previous run to resume (checked to come from the same config), if any. */
function previousRun(experiment: Experiment, options: RunnerOptions): RunRecord | undefined {
  if (!options.resume) return undefined;
  const registry = options.registry;
  const previous = options.resume === 'latest' ? registry.latestOf(experiment.hash) : registry.get(options.resume);
  if (previous.configHash !== experiment.hash) {
    throw new InputError(
      `run ${previous.id} was made from a different config (hash ${previous.configHash.slice(0, 12)}, this one ` +
        `${experiment.hash.slice(0, 12)}); resume it with the config it was started ` +
        `with${previous.configPath ? ` (${previous.configPath})` : ''}`,
    );
  }
  return previous;
}

/** The variants to run: those asked for, else those a resumed run was started with, else all. */
export function selectVariants(
  experiment: Experiment,
  asked: readonly string[] | undefined,
  previous?: RunRecord,
): ResolvedVariant[] {
  const startedWith = (previous?.config as { variants?: Array<{ name: string }> } | undefined)?.variants?.map(
    (v) => v.name,
  );
  const wanted = asked && asked.length ? asked : (startedWith ?? null);
  if (!wanted) return [...experiment.variants];
  const unknown = wanted.filter((w) => !experiment.variants.some((v) => v.name === w));
  if (unknown.length)
    throw new InputError(
      `unknown variant ${unknown.map((u) => `"${u}"`).join(', ')}; this experiment has ` +
        `${experiment.variants.map((v) => `"${v.name}"`).join(', ')}`,
    );
  return experiment.variants.filter((v) => wanted.includes(v.name));
}

/** Creates the run in the registry, or takes over the one to resume. */
function openRun(
  experiment: Experiment,
  options: RunnerOptions,
  variants: readonly ResolvedVariant[],
  previous?: RunRecord,
): RunRecord {
  const registry = options.registry;
  if (previous) return registry.resume(previous.id);
  return registry.create({
    name: experiment.name,
    kind: options.kind,
    ...(experiment.sourcePath ? { configPath: experiment.sourcePath } : {}),
    config: {
      ...experiment.config,
      variants: variants.map((v) => ({ name: v.name, label: v.label, settings: v.settings })),
    },
    configHash: experiment.hash,
    seed: experiment.seed,
    gitCommit: currentGitCommit(projectHome()),
  });
}

/**
 * Phases and artifacts of units that ran in this call, into the registry, each unit once (phases
 * accumulate in the registry, so a unit done in an earlier call is not recorded again).
 */
class UnitRecorder {
  private readonly recorded = new Set<string>();
  /** Statuses written before this call are earlier calls' units. */
  private readonly since = new Date().toISOString();
  constructor(
    private readonly session: RunSession,
    private readonly registry: RunRegistry,
  ) {}

  record(unit: Unit): void {
    if (this.recorded.has(unit.id)) return;
    const status = readUnitStatus(this.session.runDir, unit.id);
    if ((status?.state !== 'done' && status?.state !== 'failed') || status.updatedAt < this.since) return;
    this.recorded.add(unit.id);
    const runId = this.session.run.runId;
    for (const [phase, seconds] of Object.entries(status.phases ?? {}))
      this.registry.recordPhase(runId, phase, seconds);
    if (status.artifacts) this.registry.addArtifacts(runId, { ...status.artifacts });
  }

  /** Records `units` and the state of every unit; returns those not done, with why. */
  finish(units: readonly Unit[]): Array<{ unit: string; message: string }> {
    const failures: Array<{ unit: string; message: string }> = [];
    for (const unit of units) {
      this.record(unit);
      const status = readUnitStatus(this.session.runDir, unit.id);
      if (status?.state !== 'done')
        failures.push({ unit: unit.id, message: status?.message ?? `not run (${status?.state ?? 'no status'})` });
    }
    const states = this.session.plan.units.map((u) => [
      u.id,
      readUnitStatus(this.session.runDir, u.id)?.state ?? 'pending',
    ]);
    this.registry.updateState(this.session.run.runId, { units: Object.fromEntries(states) });
    return failures;
  }
}

/** Headline metrics of a scored variant, into the registry, and one line of chatter. */
function recordScore(session: RunSession, registry: RunRegistry, variantName: string): void {
  const variant = session.variants.find((v) => v.name === variantName)!;
  const { result } = readStoredVariant(session.runDir, variantName);
  const runId = session.run.runId;
  const before = (registry.get(runId).metrics as { variants?: object }).variants ?? {};
  registry.setMetrics(runId, {
    variants: {
      ...before,
      [variantName]: {
        label: variant.label,
        rmse: result.overall.rmse,
        r2: result.overall.r2,
        meanAnswerR2: result.overall.meanAnswerR2,
      },
    },
  });
  session.log(`${variant.label}: test RMSE ${result.overall.rmse.toFixed(4)}, R² ${result.overall.r2.toFixed(4)}`);
}

/** Opens a run (new or resumed) and the session that runs its units here. */
export async function startSession(experiment: Experiment, options: RunnerOptions): Promise<RunSession> {
  const previous = previousRun(experiment, options);
  const variants = selectVariants(experiment, options.variants, previous);
  const run = openRun(experiment, options, variants, previous);
  if (previous) options.log?.(`resuming run ${run.id}`);
  const runDir = join(experiment.outputDir, run.id);
  mkdirSync(runDir, { recursive: true });
  options.registry.setOutputDir(run.id, runDir);
  const backend = options.backend ?? experiment.config.backend;
  const runFile = runFileOf(experiment, {
    runId: run.id,
    kind: options.kind,
    gitCommit: run.gitCommit,
    ...(backend ? { backend } : {}),
    variants: variants.map((v) => v.name),
  });
  await writeRunFile(runDir, runFile);
  return new RunSession(experiment, runDir, runFile, {
    ...(options.pipeline ? { pipeline: options.pipeline } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

async function finishRun(session: RunSession, registry: RunRegistry): Promise<RunOutcome> {
  const runId = session.run.runId;
  registry.complete(runId);
  const result = await comparison(session, session.backend ?? 'unknown');
  const dir = join(session.runDir, 'report');
  const report: ReportFiles = {
    dir,
    markdown: join(dir, 'report.md'),
    html: join(dir, 'report.html'),
    json: join(dir, 'report.json'),
    charts: {},
  };
  const run = registry.get(runId);
  return { run, runDir: session.runDir, result: { ...result, phases: run.phases }, report };
}

/** Run (or resume) an experiment end to end. Throws RunInterruptedError on a signal. */
export async function runExperiment(experiment: Experiment, options: RunnerOptions): Promise<RunOutcome> {
  const registry = options.registry;
  const session = await startSession(experiment, options);
  const runId = session.run.runId;
  const executor = options.executor ?? { name: 'inline' as const };
  const recorder = new UnitRecorder(session, registry);
  try {
    const t0 = performance.now();
    pinInlineThreads(executor);
    session.backend = await (options.initBackend ?? initDefaultBackend)(session.run.backend);
    registry.recordPhase(runId, 'backend', (performance.now() - t0) / 1000);
    registry.setBackend(runId, session.backend);
    session.log(`backend: ${session.backend}`);
    const onDone = (unit: Unit) => {
      recorder.record(unit);
      if (unit.kind === 'score') recordScore(session, registry, unit.variant!);
    };
    const ran = await executeUnits(session, executor, options.signal, onDone);
    const failures = recorder.finish(ran);
    if (options.signal?.aborted) throw new RunInterruptedError(runId);
    if (failures.length) throw new UnitsFailedError(runId, failures);
    return await finishRun(session, registry);
  } catch (error) {
    recorder.finish(session.plan.units.filter((u) => readUnitStatus(session.runDir, u.id)?.state === 'failed'));
    if (error instanceof RunInterruptedError || options.signal?.aborted) {
      registry.markInterrupted(runId, 'stopped by a signal');
      throw error instanceof RunInterruptedError ? error : new RunInterruptedError(runId);
    }
    registry.fail(runId, error);
    throw error;
  }
}
