import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, GzhError, InputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { logTail, taskLogPath } from './local.js';
import type { Executor, RunArrayOptions, TaskArray, TaskOutcome } from './types.js';

const run = promisify(execFile);

/** Where and how Slurm runs the tasks: every field optional, the cluster's defaults apply. */
export interface SlurmSettings {
  /** Slurm partition (sbatch --partition). */
  readonly partition?: string;
  /** Slurm account (sbatch --account). */
  readonly account?: string;
  /** Time limit of each task, in Slurm's format (`30`, `2:00:00`, `1-00:00:00`). */
  readonly time?: string;
  /** CPUs per task; each task then uses that many TensorFlow threads (GZH_THREADS). */
  readonly cpusPerTask?: number;
  /** Memory per task, in Slurm's format (`4G`, `16000M`). */
  readonly mem?: string;
  /** Extra `#SBATCH` lines, e.g. `--qos=long` or `--constraint=avx2`. */
  readonly extra?: readonly string[];
}

export interface SlurmExecutorOptions extends SlurmSettings {
  /** Folder that receives the generated batch scripts (the run directory). */
  readonly scriptDir: string;
  /** Seconds between two looks at the queue (default 2). */
  readonly pollSeconds?: number;
}

/** A submitted array (or single job). */
export interface SlurmJob {
  readonly id: string;
  readonly script: string;
  readonly tasks: TaskArray;
}

/** The file in which task `index` records its exit code (written by the batch script itself). */
export function exitFilePath(tasks: Pick<TaskArray, 'name' | 'logDir'>, index: number): string {
  return join(tasks.logDir, `${tasks.name}-${index}.exit`);
}

/** Quotes one word for bash. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `0-3` / `0,2,5-7`: Slurm's compact form of a list of indices. */
export function arraySpec(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Jobs a submission waits for: `afterany` (ended, however) and `afterok` (every task exited 0). A
 * plain list is `afterany`. A job whose `afterok` can no longer be met is cancelled
 * (`--kill-on-invalid-dep=yes`) rather than left pending for ever.
 */
export type JobDependencies =
  readonly string[] | { readonly afterany?: readonly string[]; readonly afterok?: readonly string[] };

function dependencyLines(dependsOn: JobDependencies): string[] {
  const d = Array.isArray(dependsOn)
    ? { afterany: dependsOn as readonly string[] }
    : (dependsOn as Exclude<JobDependencies, readonly string[]>);
  const parts = [
    ...(d.afterok?.length ? [`afterok:${d.afterok.join(':')}`] : []),
    ...(d.afterany?.length ? [`afterany:${d.afterany.join(':')}`] : []),
  ];
  if (!parts.length) return [];
  return [`--dependency=${parts.join(',')}`, ...(d.afterok?.length ? ['--kill-on-invalid-dep=yes'] : [])];
}

function sbatchLines(tasks: TaskArray, settings: SlurmSettings, dependsOn: JobDependencies): string[] {
  const lines = [
    `--job-name=${tasks.name}`,
    `--array=${arraySpec(tasks.indices)}`,
    `--output=${join(tasks.logDir, `${tasks.name}-%a.log`)}`,
  ];
  if (settings.partition) lines.push(`--partition=${settings.partition}`);
  if (settings.account) lines.push(`--account=${settings.account}`);
  if (settings.time) lines.push(`--time=${settings.time}`);
  if (settings.cpusPerTask) lines.push(`--cpus-per-task=${settings.cpusPerTask}`);
  if (settings.mem) lines.push(`--mem=${settings.mem}`);
  lines.push(...dependencyLines(dependsOn));
  for (const extra of settings.extra ?? []) lines.push(extra.replace(/^#SBATCH\s+/, ''));
  return lines.map((l) => `#SBATCH ${l}`);
}

/**
 * The batch script of an array: readable, and resubmittable by hand (`sbatch <script>`, or
 * `sbatch --array=3 <script>` for one task). Each task runs its own command line and records its
 * exit code in `<name>-<index>.exit` beside its log: those files, not the scheduler's accounting
 * (often not configured), say how a task ended. The shell passes SIGTERM and SIGINT on to the
 * command and waits for it: a task cancelled or out of time (SIGTERM, then SIGKILL after the
 * cluster's KillWait) stops as the command chooses (a train unit checkpoints the batch it reached),
 * and a signal sent to the batch shell alone (`--signal=B:TERM@120`) reaches the command too.
 */
export function batchScript(tasks: TaskArray, settings: SlurmSettings, dependsOn: JobDependencies = []): string {
  const cases = tasks.indices.map((i) => `  ${i}) cmd=(${tasks.argv(i).map(shellQuote).join(' ')}) ;;`);
  const env = Object.entries(tasks.env ?? {}).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  const exitFile = join(tasks.logDir, `${tasks.name}-\${SLURM_ARRAY_TASK_ID}.exit`);
  return [
    '#!/bin/bash',
    ...sbatchLines(tasks, settings, dependsOn),
    '# generated by galaxy-zoo-hierarchy: one task per array index',
    'set -u',
    `cd ${shellQuote(tasks.cwd)}`,
    "# TensorFlow threads: the CPUs Slurm gave this task (not the submitting shell's settings)",
    'export GZH_THREADS="${SLURM_CPUS_PER_TASK:-1}" TF_NUM_INTRAOP_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    ...env,
    'case "$SLURM_ARRAY_TASK_ID" in',
    ...cases,
    '  *) echo "no task $SLURM_ARRAY_TASK_ID in this array" >&2; exit 2 ;;',
    'esac',
    '# in the background, so that a signal to this shell (scancel, a time limit, --signal=B:TERM@<s>) is passed on',
    '# at once and the shell waits for the command to stop (a unit checkpoints its training) before it exits',
    '"${cmd[@]}" &',
    'pid=$!',
    'trap \'kill -TERM "$pid" 2>/dev/null\' TERM INT',
    'wait "$pid"',
    'code=$?',
    'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; code=$?; done',
    `echo "$code" > "${exitFile}.tmp" && mv -f "${exitFile}.tmp" "${exitFile}"`,
    'exit "$code"',
    '',
  ].join('\n');
}

/** Runs a command of the Slurm client; a missing client is a configuration problem. */
async function slurm(program: string, args: readonly string[]): Promise<string> {
  try {
    return (await run(program, [...args], { maxBuffer: 16 << 20 })).stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new ConfigError(`${program} not found: the Slurm client commands must be on PATH for --executor slurm`);
    throw new GzhError(`${program} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs task arrays as Slurm job arrays: writes the batch script into the run directory, submits
 * it with `sbatch --parsable`, watches `squeue` until no task is left, and reads each task's exit
 * file. Aborting scancels the job. Another job can be made to wait for an array with
 * `submit(tasks, [id])` (`--dependency=afterany:<id>`) or `submit(tasks, { afterok: [id] })`.
 */
export class SlurmExecutor implements Executor {
  readonly name = 'slurm' as const;

  constructor(readonly options: SlurmExecutorOptions) {
    if (options.cpusPerTask !== undefined && (!Number.isInteger(options.cpusPerTask) || options.cpusPerTask < 1)) {
      throw new InputError(`cpus per task must be a whole number ≥ 1 (got ${options.cpusPerTask})`);
    }
  }

  async runArray(tasks: TaskArray, options: RunArrayOptions = {}): Promise<TaskOutcome[]> {
    const job = await this.submit(tasks);
    return this.wait(job, options);
  }

  /** Writes the batch script and submits it; the job starts once `dependsOn` is met. */
  async submit(tasks: TaskArray, dependsOn: JobDependencies = []): Promise<SlurmJob> {
    if (tasks.indices.length === 0) throw new InputError(`task array ${tasks.name} has no tasks`);
    await mkdir(tasks.logDir, { recursive: true });
    await mkdir(this.options.scriptDir, { recursive: true });
    await Promise.all(tasks.indices.map((i) => rm(exitFilePath(tasks, i), { force: true })));
    const script = join(this.options.scriptDir, `${tasks.name}.sbatch`);
    await writeFileAtomic(script, batchScript(tasks, this.options, dependsOn));
    await chmod(script, 0o755);
    const id = (await slurm('sbatch', ['--parsable', script])).trim().split(';')[0];
    if (!/^\d+$/.test(id)) throw new GzhError(`sbatch did not answer a job id (got "${id}")`);
    return { id, script, tasks };
  }

  /** Cancels every task of the job still queued or running (scancel). */
  async cancel(job: SlurmJob): Promise<void> {
    await slurm('scancel', [job.id]);
  }

  /** Waits until no task of the job is queued or running; then says how each ended. */
  async wait(job: SlurmJob, options: RunArrayOptions = {}): Promise<TaskOutcome[]> {
    const cancel = (): void => void slurm('scancel', [job.id]).catch(() => {});
    options.signal?.addEventListener('abort', cancel, { once: true });
    const lastState = new Map<number, string>();
    const reported = new Set<number>();
    try {
      for (;;) {
        const states = await this.queued(job.id);
        for (const [index, state] of states) lastState.set(index, state);
        for (const index of job.tasks.indices) {
          if (!states.has(index) && !reported.has(index) && lastState.has(index)) {
            reported.add(index);
            options.onTaskEnd?.(await this.outcome(job, index, lastState.get(index)));
          }
        }
        if (states.size === 0) break;
        await sleep((this.options.pollSeconds ?? 2) * 1000);
      }
    } finally {
      options.signal?.removeEventListener('abort', cancel);
    }
    const outcomes = await Promise.all(job.tasks.indices.map((i) => this.outcome(job, i, lastState.get(i))));
    for (const o of outcomes) if (!reported.has(o.index)) options.onTaskEnd?.(o);
    return outcomes;
  }

  /** Array index → Slurm state of every task of the job still known to squeue. */
  private async queued(jobId: string): Promise<Map<number, string>> {
    let text: string;
    try {
      text = await slurm('squeue', ['-h', '-r', '-j', jobId, '-o', '%K %T']);
    } catch (error) {
      if (error instanceof GzhError && /invalid job id/i.test(error.message)) return new Map();
      throw error;
    }
    const states = new Map<number, string>();
    for (const line of text.split('\n')) {
      const [index, state] = line.trim().split(/\s+/);
      if (
        index &&
        state &&
        /^\d+$/.test(index) &&
        !/^(COMPLETED|CANCELLED|FAILED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|PREEMPTED|BOOT_FAIL|DEADLINE)$/.test(state)
      ) {
        states.set(Number(index), state);
      }
    }
    return states;
  }

  private async outcome(job: SlurmJob, index: number, lastState?: string): Promise<TaskOutcome> {
    const log = taskLogPath(job.tasks, index);
    const code = (await readFile(exitFilePath(job.tasks, index), 'utf8').catch(() => '')).trim();
    if (code === '0') return { index, ok: true, exitCode: 0, log };
    const tail = await logTail(log);
    const why = code
      ? `exit code ${code}${Number(code) > 128 ? ': stopped by a signal (cancelled, out of time or killed)' : ''}`
      : `no exit status from Slurm job ${job.id}_${index}${lastState ? ` (last seen ${lastState})` : ''}: ` +
        'cancelled, out of time or killed';
    return { index, ok: false, exitCode: code ? Number(code) : null, log, message: tail ? `${why}\n${tail}` : why };
  }
}
