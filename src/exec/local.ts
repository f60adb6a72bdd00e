import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableCpusForNative } from '../backend/threads.js';
import { InputError } from '../errors.js';
import type { Executor, RunArrayOptions, TaskArray, TaskOutcome } from './types.js';

/** The log file of task `index` of an array. */
export function taskLogPath(tasks: Pick<TaskArray, 'name' | 'logDir'>, index: number): string {
  return join(tasks.logDir, `${tasks.name}-${index}.log`);
}

/** The last non-empty lines of a log, as a failure message. */
export async function logTail(path: string, lines = 5): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .join('\n');
}

/**
 * Runs tasks as child processes on this machine, at most `jobs` at a time. The CPU threads are
 * divided among them: each task gets GZH_THREADS = max(1, ⌊CPUs / jobs⌋) unless the array sets it.
 */
export class LocalExecutor implements Executor {
  readonly name = 'local' as const;
  readonly threadsPerTask: number;

  constructor(
    readonly jobs: number,
    cpus = availableCpusForNative(),
  ) {
    if (!Number.isInteger(jobs) || jobs < 1) throw new InputError(`--jobs must be a whole number ≥ 1 (got ${jobs})`);
    this.threadsPerTask = Math.max(1, Math.floor(cpus / jobs));
  }

  async runArray(tasks: TaskArray, options: RunArrayOptions = {}): Promise<TaskOutcome[]> {
    await mkdir(tasks.logDir, { recursive: true });
    const queue = [...tasks.indices];
    const outcomes: TaskOutcome[] = [];
    const worker = async (): Promise<void> => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        if (options.signal?.aborted) break;
        const outcome = await this.runOne(tasks, index, options.signal);
        outcomes.push(outcome);
        options.onTaskEnd?.(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.jobs, queue.length) }, worker));
    return outcomes.sort((a, b) => a.index - b.index);
  }

  private async runOne(tasks: TaskArray, index: number, signal?: AbortSignal): Promise<TaskOutcome> {
    const log = taskLogPath(tasks, index);
    const out = createWriteStream(log);
    await new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
    const [program, ...args] = tasks.argv(index);
    if (program === undefined) throw new InputError(`task ${index} of ${tasks.name} has an empty command line`);
    // TF_NUM_INTRAOP_THREADS too: this process may have set it from its own GZH_THREADS.
    const threads = String(this.threadsPerTask);
    const env = { ...process.env, GZH_THREADS: threads, TF_NUM_INTRAOP_THREADS: threads, ...tasks.env };
    const child = spawn(program, args, { cwd: tasks.cwd, env, stdio: ['ignore', out, out] });
    const kill = (): void => void child.kill('SIGTERM');
    signal?.addEventListener('abort', kill, { once: true });
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('exit', (code, sig) => resolve({ code, signal: sig }));
      },
    );
    signal?.removeEventListener('abort', kill);
    await new Promise<void>((resolve) => out.end(resolve));
    const ok = ended.code === 0;
    if (ok) return { index, ok, exitCode: 0, log };
    const why = ended.error
      ? ended.error.message
      : ended.signal
        ? `killed by ${ended.signal}`
        : `exit code ${ended.code}`;
    const tail = await logTail(log);
    return { index, ok, exitCode: ended.code, log, message: tail ? `${why}\n${tail}` : why };
  }
}
