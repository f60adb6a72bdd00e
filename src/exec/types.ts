/**
 * Executors run an array of independent tasks, each a command line, somewhere: here one after
 * another, here in parallel child processes, or as a Slurm job array. Whatever runs a task, its
 * results live in files it writes itself (atomically) in a shared folder; an executor only
 * starts tasks and reports how each ended.
 */

/** The executors a run or a sharded predict can use. */
export const EXECUTOR_NAMES = ['inline', 'local', 'slurm'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

/** An array of tasks 0..count-1, each one process. */
export interface TaskArray {
  /** Short name: the Slurm job name, and the prefix of each task's log file. */
  readonly name: string;
  /** Which task indices to run (e.g. only those not done yet). */
  readonly indices: readonly number[];
  /** The command line of task `index`: program first (e.g. process.execPath, script, args…). */
  argv(index: number): string[];
  /** Working directory of every task. */
  readonly cwd: string;
  /** Folder that receives `<name>-<index>.log` (stdout and stderr of each task). */
  readonly logDir: string;
  /** Extra environment for every task (merged over the parent's). */
  readonly env?: Readonly<Record<string, string>>;
}

/** How one task ended. `ok` means exit code 0. */
export interface TaskOutcome {
  readonly index: number;
  readonly ok: boolean;
  /** Exit code, or null when killed by a signal or never started. */
  readonly exitCode: number | null;
  /** Why it failed, in words (last lines of its log, the signal, the scheduler's state). */
  readonly message?: string;
  /** Path of the task's log file. */
  readonly log: string;
}

export interface RunArrayOptions {
  /** Aborting kills (or scancels) every task still running, then resolves with what ended. */
  readonly signal?: AbortSignal;
  /** Called as each task ends. */
  readonly onTaskEnd?: (outcome: TaskOutcome) => void;
}

/** Runs task arrays; resolves when every task has ended (successfully or not). */
export interface Executor {
  readonly name: ExecutorName;
  runArray(tasks: TaskArray, options?: RunArrayOptions): Promise<TaskOutcome[]>;
}
