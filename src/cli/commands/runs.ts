import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { fmt, formatDuration, textTable } from '../../experiments/format.js';
import {
  RUN_STATUSES,
  RunNotFoundError,
  RunRegistry,
  type RunRecord,
  type RunStatus,
  defaultRegistryPath,
  runDurationSeconds,
} from '../../experiments/registry.js';
import { defaultRunsDir } from '../../experiments/config.js';
import { readSplitFile } from '../../experiments/split-file.js';
import { UNIT_STATES, type UnitStatus, readUnitStatuses } from '../../experiments/unit-status.js';
import { UsageError } from '../exit.js';
import { positiveInt } from '../options.js';
import { resumeCommand } from './run.js';

interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
}

/** Per-variant headline numbers as the runner stores them under metrics.variants. */
interface VariantHeadline {
  label?: string;
  rmse?: number;
  r2?: number;
}

export function variantHeadlines(run: RunRecord): Array<[string, VariantHeadline]> {
  const variants = (run.metrics as { variants?: Record<string, VariantHeadline> }).variants;
  return variants ? Object.entries(variants) : [];
}

/** The units of a run as their status files in its folder say now (tasks write them, not the registry). */
function runUnits(run: RunRecord): UnitStatus[] {
  return run.outputDir ? readUnitStatuses(run.outputDir) : [];
}

/** e.g. `units: 5 done, 2 running, 1 failed`. */
export function unitCounts(units: readonly UnitStatus[]): string {
  const counts = UNIT_STATES.map((state) => [state, units.filter((u) => u.state === state).length] as const).filter(
    ([, n]) => n > 0,
  );
  return counts.length ? `units: ${counts.map(([state, n]) => `${n} ${state}`).join(', ')}` : '';
}

function summary(run: RunRecord): string {
  const parts = variantHeadlines(run).map(([name, m]) => `${name} R²=${fmt(m.r2, 3)}`);
  if (run.status !== 'completed') parts.push(unitCounts(runUnits(run)));
  return parts.filter((p) => p).join(', ') || (run.error ? run.error.split('\n')[0].slice(0, 60) : '');
}

function unitLines(units: readonly UnitStatus[]): string[] {
  if (units.length === 0) return [];
  const rows = units.map((u) => [
    u.id,
    u.state,
    u.seconds !== undefined ? formatDuration(u.seconds) : '',
    u.where ?? '',
    u.updatedAt.replace('T', ' ').slice(0, 19),
  ]);
  const lines = [
    '',
    `${unitCounts(units)}:`,
    textTable(['unit', 'state', 'duration:', 'where', 'updated (UTC)'], rows).replace(/^/gm, '  '),
  ];
  for (const u of units.filter((x) => x.state === 'failed'))
    lines.push(`  ${u.id} failed: ${(u.message ?? '').split('\n').join('\n    ')}`);
  return lines;
}

function openRegistry(path: string | undefined): RunRegistry {
  // a registry named by --registry must exist: reading one should not create it (or its folders)
  if (path !== undefined && !existsSync(path)) throw new UsageError(`${path}: no run registry here`);
  return RunRegistry.open(path ?? defaultRegistryPath());
}

/** The data directory a run read, from its split.json (runs made before it was recorded have none). */
function runDataPath(run: RunRecord): string | undefined {
  const splitFile = run.artifacts['split.json'];
  try {
    return splitFile ? readSplitFile(splitFile).data : undefined;
  } catch {
    return undefined;
  }
}

function renderShow(run: RunRecord, registryPath: string): string {
  const lines: string[] = [];
  const dataPath = runDataPath(run);
  const kv: Array<[string, string]> = [
    ['id', run.id],
    ['name', run.name],
    ['kind', run.kind],
    ['status', run.status],
    ['started', run.startedAt],
    ['finished', run.finishedAt ?? '—'],
    ['duration', formatDuration(runDurationSeconds(run))],
    ['seed', String(run.seed)],
    ['backend', run.backend ?? '—'],
    ['git commit', run.gitCommit ?? '—'],
    ['config', run.configPath ?? '—'],
    ['config hash', run.configHash],
    ['data', dataPath ?? '—'],
    ['output', run.outputDir ?? '—'],
    ['process', run.pid ? `${run.pid} on ${run.host ?? '?'}` : '—'],
  ];
  const w = Math.max(...kv.map(([k]) => k.length));
  for (const [k, v] of kv) lines.push(`${k.padEnd(w)}  ${v}`);
  if (run.error)
    lines.push(
      '',
      'error:',
      ...run.error
        .split('\n')
        .slice(0, 12)
        .map((l) => `  ${l}`),
    );
  const phases = Object.entries(run.phases);
  if (phases.length) {
    lines.push('', 'phases:');
    lines.push(
      textTable(
        ['phase', 'seconds:', 'duration:'],
        phases.map(([p, s]) => [p, s.toFixed(1), formatDuration(s)]),
      ).replace(/^/gm, '  '),
    );
  }
  lines.push(...unitLines(runUnits(run)));
  const heads = variantHeadlines(run);
  if (heads.length) {
    lines.push('', 'metrics (test split):');
    lines.push(
      textTable(
        ['variant', 'label', 'RMSE:', 'R²:'],
        heads.map(([n, m]) => [n, m.label ?? '', fmt(m.rmse), fmt(m.r2)]),
      ).replace(/^/gm, '  '),
    );
  }
  const artifacts = Object.entries(run.artifacts);
  if (artifacts.length) {
    lines.push('', 'artifacts:');
    const aw = Math.max(...artifacts.map(([k]) => k.length));
    for (const [k, v] of artifacts) lines.push(`  ${k.padEnd(aw)}  ${v}`);
  }
  if (run.status === 'interrupted' || run.status === 'failed') {
    const out = run.outputDir ? dirname(run.outputDir) : undefined;
    const command = resumeCommand({
      kind: run.kind === 'compare' ? 'compare' : 'run',
      ...(run.configPath ? { configPath: run.configPath } : {}),
      runId: run.id,
      ...(out && resolve(out) !== resolve(defaultRunsDir()) ? { out } : {}),
      ...(resolve(registryPath) !== resolve(defaultRegistryPath()) ? { registry: registryPath } : {}),
      ...(dataPath ? { dataPath } : {}),
    });
    lines.push('', `resume with: ${command}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  const runs = program
    .command('runs')
    .description('list recorded runs (newest first) from the run registry; `gzh runs show <id>` for one run')
    .option(
      '--registry <file>',
      'run registry SQLite file (default: <runs dir>/registry.sqlite; env GZH_RUNS_DIR moves the runs dir)',
    )
    .option('-n, --limit <count>', 'show at most this many runs', positiveInt, 20)
    .addOption(new Option('--status <status>', 'only runs with this status').choices([...RUN_STATUSES]))
    .option('--name <name>', 'only runs of this experiment name')
    .addHelpText(
      'after',
      `
Statuses: running, completed, failed, interrupted (a run whose process ended without finishing;
resume it with \`gzh run|compare <config> --resume <id>\`).
Add --json (global option, before or after the command) for machine-readable output.`,
    )
    .action((opts: { registry?: string; limit: number; status?: RunStatus; name?: string }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const registry = openRegistry(opts.registry);
      try {
        const list = registry.list({
          limit: opts.limit,
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.name ? { name: opts.name } : {}),
        });
        if (globals.json) {
          process.stdout.write(
            `${JSON.stringify(
              list.map(({ config: _config, ...rest }) => rest),
              null,
              2,
            )}\n`,
          );
          return;
        }
        if (list.length === 0) {
          if (!globals.quiet) process.stdout.write(`no runs recorded in ${registry.path}\n`);
          return;
        }
        const rows = list.map((r) => [
          r.id,
          r.name,
          r.kind,
          r.status,
          r.startedAt.replace('T', ' ').slice(0, 19),
          formatDuration(runDurationSeconds(r)),
          r.backend ?? '—',
          String(r.seed),
          summary(r),
        ]);
        const header = ['id', 'name', 'kind', 'status', 'started (UTC)', 'duration:', 'backend', 'seed:', 'results'];
        process.stdout.write(`${textTable(header, rows)}\n`);
      } finally {
        registry.close();
      }
    });

  runs
    .command('show')
    .description(
      'everything recorded about one run: config hash, git commit, seed, backend, phase durations, metrics, artifacts',
    )
    .argument('<id>', 'run id, a unique prefix of it, or "latest"')
    .option('--registry <file>', 'run registry SQLite file (default: <runs dir>/registry.sqlite)')
    .option('--config', 'also print the stored config')
    .action((id: string, opts: { registry?: string; config?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const registry = openRegistry(
        opts.registry ?? (cmd.parent?.opts() as { registry?: string } | undefined)?.registry,
      );
      try {
        let run: RunRecord;
        try {
          run = registry.get(id);
        } catch (error) {
          if (error instanceof RunNotFoundError) {
            process.stderr.write(`gzh: ${error.message} in ${registry.path}\n`);
            process.exitCode = 2;
            return;
          }
          throw error;
        }
        if (globals.json) {
          process.stdout.write(`${JSON.stringify({ ...run, units: runUnits(run) }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${renderShow(run, registry.path)}\n`);
        if (opts.config) process.stdout.write(`\nconfig:\n${JSON.stringify(run.config, null, 2)}\n`);
      } finally {
        registry.close();
      }
    });
}
