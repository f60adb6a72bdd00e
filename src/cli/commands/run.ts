import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command } from 'commander';
import { requestedBackend } from '../../backend/select.js';
import { ConfigError, type Experiment, loadExperimentConfig } from '../../experiments/config.js';
import { fmt, textTable } from '../../experiments/format.js';
import { RunNotFoundError, RunRegistry } from '../../experiments/registry.js';
import { renderTextSummary } from '../../experiments/report/index.js';
import { type RunOutcome, RunInterruptedError, runExperiment, selectVariants } from '../../experiments/runner.js';
import { EXECUTOR_NAMES, type ExecutorName } from '../../exec/types.js';
import type { SlurmSettings } from '../../exec/slurm.js';
import type { ExecutorChoice } from '../../experiments/execute.js';
import { buildPlan, formatPlan } from '../../experiments/plan.js';
import { unitDone } from '../../experiments/unit-status.js';
import { Option } from 'commander';
import type { SlurmFlags } from '../../predict/executor.js';
import { addSlurmOptions, positiveInt } from '../options.js';
import { createProgress } from '../../util/progress.js';
import { QUESTIONS } from '../../questions/index.js';
import { EXIT, exitCodeFor, usageExitCodes } from '../exit.js';

interface GlobalOptions {
  backend?: string;
  dataDir?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface ExperimentCommandOptions extends SlurmFlags {
  variant?: string[];
  resume?: string;
  dataPath?: string;
  out?: string;
  registry?: string;
  plan?: boolean;
  executor?: ExecutorName;
  jobs?: number;
  threadsPerMember?: number;
}

/** The command line that resumes a run, with the output folder, registry and data it was made with. */
export function resumeCommand(o: {
  kind: 'run' | 'compare';
  configPath?: string;
  runId: string;
  out?: string;
  registry?: string;
  dataPath?: string;
}): string {
  const quote = (x: string) => (/^[\w./:@%+,-]+$/.test(x) ? x : `'${x.replace(/'/g, "'\\''")}'`);
  const parts = ['gzh', o.kind, o.configPath ? quote(o.configPath) : '<config>', '--resume', o.runId];
  if (o.out) parts.push('--out', quote(o.out));
  if (o.registry) parts.push('--registry', quote(o.registry));
  if (o.dataPath) parts.push('--data-path', quote(o.dataPath));
  return parts.join(' ');
}

export function addExperimentOptions(cmd: Command, withVariant: boolean): Command {
  if (withVariant) cmd.option('--variant <names...>', 'run only these variants (default: all variants of the config)');
  cmd
    .option(
      '--resume <id>',
      'resume an interrupted or failed run (its id, a unique prefix, or "latest": the newest run of this ' +
        'config) with the variants and data it was started with: finished models are reused, training continues ' +
        'from the last checkpoint',
    )
    .option(
      '--data-path <dir>',
      'use this data directory instead of data.path (e.g. the full Kaggle download: the folder holding ' +
        'training_solutions_rev1.csv and images_training_rev1/)',
    )
    .option(
      '--out <dir>',
      'root of run folders (default: output.dir of the config, else <project>/runs; env GZH_RUNS_DIR)',
    )
    .option('--registry <file>', 'run registry SQLite file (default: <out>/registry.sqlite)')
    .option(
      '--plan',
      'print the units of the run (prepare, train per member, score per variant, report), their dependencies ' +
        'and budgets, and exit without running',
    )
    .addOption(
      new Option(
        '--executor <name>',
        'where units run: inline (this process), local (child processes, --jobs at a time), slurm (sbatch --array)',
      )
        .choices([...EXECUTOR_NAMES])
        .default('inline'),
    )
    .option(
      '--jobs <n>',
      'local executor: child processes at a time (the CPU threads are divided among them)',
      positiveInt,
      1,
    )
    .option(
      '--threads-per-member <n>',
      'TensorFlow threads of each process that runs units (inline: this one; local: each child, instead of ' +
        'CPUs / --jobs; slurm: each task, and --cpus-per-task unless given). The last digits of the figures ' +
        'depend on it: equal thread counts give identical figures on every executor',
      positiveInt,
    );
  return addSlurmOptions(cmd, 'task', true);
}

/** The executor asked for: CLI options over the config's slurm section. */
export function executorChoice(experiment: Experiment, opts: ExperimentCommandOptions): ExecutorChoice {
  const name = opts.executor ?? 'inline';
  const threads = opts.threadsPerMember ? { threads: opts.threadsPerMember } : {};
  if (name === 'local') return { name, jobs: opts.jobs ?? 1, ...threads };
  if (name !== 'slurm') return { name, ...threads };
  const c = experiment.config.slurm ?? {};
  const pick = <K extends keyof SlurmSettings>(key: K, cli: SlurmSettings[K] | undefined) =>
    (cli ?? c[key]) ? { [key]: cli ?? c[key] } : {};
  const extra = [...(c.extra ?? []), ...(opts.sbatch ?? [])];
  const slurm: SlurmSettings = {
    ...pick('partition', opts.partition),
    ...pick('account', opts.account),
    ...pick('time', opts.time),
    ...pick('cpusPerTask', opts.cpusPerTask ?? (c.cpusPerTask === undefined ? opts.threadsPerMember : undefined)),
    ...pick('mem', opts.mem),
    ...(extra.length ? { extra } : {}),
  };
  return { name, slurm, ...threads };
}

/** `--plan`: the units of a new run, or of the run to resume with those done marked ✓. Closes the registry. */
function printPlan(experiment: Experiment, opts: ExperimentCommandOptions, registry: RunRegistry): void {
  try {
    const previous = opts.resume
      ? opts.resume === 'latest'
        ? registry.latestOf(experiment.hash)
        : registry.get(opts.resume)
      : undefined;
    const plan = buildPlan(experiment, selectVariants(experiment, opts.variant, previous));
    const runDir = previous?.outputDir;
    const text = formatPlan(plan, (u) => (runDir ? unitDone(runDir, u) : false));
    process.stdout.write(`${previous ? `run ${previous.id} (✓ done):\n` : ''}${text}\n`);
    process.exitCode = EXIT.ok;
  } catch (error) {
    process.stderr.write(`gzh: ${(error as Error).message}\n`);
    process.exitCode = exitCodeFor(error);
  } finally {
    registry.close();
  }
}

function printOutcome(kind: 'run' | 'compare', experiment: Experiment, outcome: RunOutcome, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(jsonOutcome(outcome), null, 2)}\n`);
    return;
  }
  const out: string[] = [
    '',
    `Test split (${outcome.result.split.test} galaxies), ${experiment.data.convention} convention:`,
    renderTextSummary(outcome.result),
  ];
  if (kind === 'compare') out.push('', 'R² per question:', perQuestionTable(outcome));
  out.push(
    '',
    `run ${outcome.run.id} completed`,
    `report: ${outcome.report.html}`,
    `        ${outcome.report.markdown}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Says why a run did not complete; returns the exit code. */
function reportFailure(
  error: unknown,
  kind: 'run' | 'compare',
  configPath: string,
  opts: ExperimentCommandOptions,
): number {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  if (error instanceof RunInterruptedError) {
    const resume = resumeCommand({
      kind,
      configPath,
      runId: error.runId,
      ...(opts.out ? { out: opts.out } : {}),
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.dataPath ? { dataPath: opts.dataPath } : {}),
    });
    err(`gzh: run ${error.runId} interrupted; resume it with: ${resume}`);
    return EXIT.interrupted;
  }
  if (error instanceof RunNotFoundError || exitCodeFor(error) === EXIT.usage) {
    err(`gzh: ${(error as Error).message}`);
    return EXIT.usage;
  }
  err(`gzh: run failed: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.GZH_DEBUG && error instanceof Error && error.stack) err(error.stack);
  return EXIT.failed;
}

export const EXPERIMENT_HELP = `
Phases: backend → ingest (cached catalogue) → preprocess (cached images) → train every variant
(every ensemble member, identical split; each variant's own epochs and data.trainFraction) → evaluate on the test
split (ensemble averaging, test-time augmentation) → report (report.md, report.html, report.json
in <out>/<run id>/report/). Each phase's duration, the config hash, git commit, seed, backend and
metrics are recorded in the run registry (\`gzh runs\`).

Global options (before or after the command): --backend tensorflow|wasm|cpu, --data-dir <dir>
(what \${dataDir} in configs stands for; env GZH_DATA_DIR), --json (one JSON object on stdout),
-q/--quiet (no progress bars or chatter; results are still printed).

Ctrl-C (or SIGTERM) stops after the current batch: a model in training is checkpointed at that
batch (with --executor local or slurm, each unit process running one is stopped the same way) and
the run is recorded as interrupted; a killed process shows as interrupted too. --resume <id> goes
on from there and ends with the weights and figures of an uninterrupted run (at the same thread
count).

A run is a plan of units (prepare, train:<variant>:<m> per model, score:<variant>, report) with
their outputs in <out>/<run id>/; --plan prints them. --executor inline runs them in this process;
local runs prepare in a child process, then the train units in --jobs child processes; slurm
submits prepare as a job, the train units as an sbatch array after it (afterok), and score and
report as a job depending on both (settings: --partition, --account, --time, --cpus-per-task,
--mem, --sbatch, or the config's "slurm" section). A resumed run runs only the units not done;
\`gzh runs show <id>\` lists them. Figures are identical across executors at equal TensorFlow
thread counts: --threads-per-member N pins them.

Exit codes: 0 success, 1 the run failed, 2 bad usage or invalid config, 130 interrupted.`;

function perQuestionTable(outcome: RunOutcome): string {
  const vs = outcome.result.variants;
  const headers = ['question', ...vs.map((v) => `R² ${v.name}:`)];
  const rows = QUESTIONS.map((q) => [
    `Q${q.number} ${q.name}`,
    ...vs.map((v) => fmt(v.perQuestion[q.number - 1]?.r2, 3)),
  ]);
  return textTable(headers, rows);
}

function jsonOutcome(outcome: RunOutcome) {
  return {
    runId: outcome.run.id,
    status: outcome.run.status,
    runDir: outcome.runDir,
    report: { markdown: outcome.report.markdown, html: outcome.report.html, json: outcome.report.json },
    split: outcome.result.split,
    phases: outcome.run.phases,
    variants: outcome.result.variants.map((v) => ({
      name: v.name,
      label: v.label,
      model: v.modelKind,
      ensembleSize: v.ensembleSize,
      tta: v.tta,
      epochs: v.epochs,
      rmse: v.overall.rmse,
      r2: v.overall.r2,
      meanAnswerR2: v.overall.meanAnswerR2,
      perQuestion: v.perQuestion,
    })),
  };
}

/** Shared body of `gzh run` and `gzh compare`. Sets process.exitCode. */
export async function executeExperiment(
  kind: 'run' | 'compare',
  configPath: string,
  opts: ExperimentCommandOptions,
  cmd: Command,
): Promise<void> {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const chatter = globals.quiet || globals.json ? () => {} : err;

  let experiment: Experiment;
  try {
    experiment = loadExperimentConfig(configPath, {
      ...(globals.dataDir ? { dataDir: globals.dataDir } : {}),
      ...(opts.dataPath ? { dataPath: opts.dataPath } : {}),
      ...(opts.out ? { outputDir: opts.out } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      err(`gzh: ${error.message}`);
      process.exitCode = EXIT.usage;
      return;
    }
    throw error;
  }
  if (kind === 'compare' && experiment.variants.length < 2) {
    err(
      `gzh: ${configPath} has ${experiment.variants.length} variant; compare needs at least 2 (add "variants" ` +
        'to the config, or use gzh run)',
    );
    process.exitCode = EXIT.usage;
    return;
  }
  try {
    requestedBackend(globals.backend);
  } catch (error) {
    err(`gzh: ${(error as Error).message}`);
    process.exitCode = EXIT.usage;
    return;
  }

  if (experiment.data.source !== 'synthetic' && !existsSync(experiment.data.path)) {
    err(
      `gzh: data folder not found: ${experiment.data.path} (data.path of ${configPath}; set it, --data-path or ` +
        '--data-dir)',
    );
    process.exitCode = EXIT.usage;
    return;
  }
  const registry = RunRegistry.open(opts.registry ?? join(experiment.outputDir, 'registry.sqlite'));
  if (opts.plan) return printPlan(experiment, opts, registry);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      err('gzh: stopping after the current batch (Ctrl-C again to quit at once; the run stays resumable)');
      controller.abort(signal);
    } else {
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    chatter(
      `${kind === 'compare' ? 'comparing' : 'running'} ${experiment.name}: ` +
        `${experiment.variants.map((v) => v.name).join(' vs ')} (${experiment.data.source} data, ` +
        `${experiment.data.convention} convention)`,
    );
    const outcome = await runExperiment(experiment, {
      kind,
      registry,
      ...(globals.backend ? { backend: globals.backend } : {}),
      ...(opts.variant ? { variants: opts.variant } : {}),
      ...(opts.resume ? { resume: opts.resume } : {}),
      progress: () => createProgress({ quiet: globals.quiet, json: globals.json }),
      log: chatter,
      signal: controller.signal,
      executor: executorChoice(experiment, opts),
    });
    printOutcome(kind, experiment, outcome, globals.json === true);
    process.exitCode = EXIT.ok;
  } catch (error) {
    process.exitCode = reportFailure(error, kind, configPath, opts);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    registry.close();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description(
      'run an experiment config: ingest → preprocess (cached) → train → evaluate → report, recorded in the run ' +
        'registry',
    )
    .argument('<config>', 'experiment config (JSON), e.g. experiments/demo.json');
  addExperimentOptions(cmd, true)
    .addHelpText(
      'after',
      `${EXPERIMENT_HELP}\n\nExample:\n  gzh run experiments/demo.json\n  gzh run ` +
        'experiments/kaggle-sample-compare.json --variant flat\n  gzh run experiments/demo.json --resume latest',
    )
    .action((config: string, opts: ExperimentCommandOptions, command: Command) =>
      executeExperiment('run', config, opts, command),
    );
  usageExitCodes(cmd);
}
