import { InputError } from '../errors.js';
import { LocalExecutor } from '../exec/local.js';
import type { Executor, ExecutorName } from '../exec/types.js';

export interface ExecutorChoice {
  readonly name: ExecutorName;
  /** Parallel tasks for `local` (default 1). */
  readonly jobs?: number;
}

/**
 * The executor that runs shard tasks; null for `inline` (shards are predicted one after another
 * in this process, with the model loaded once).
 */
export function createShardExecutor(choice: ExecutorChoice): Executor | null {
  switch (choice.name) {
    case 'inline':
      return null;
    case 'local':
      return new LocalExecutor(choice.jobs ?? 1);
    case 'slurm':
      // INTEGRATION POINT: construct the Slurm executor (src/exec/slurm.ts) here, from the
      // partition / account / time / CPUs / memory options, once it exists on this branch.
      throw new InputError('--executor slurm is not available in this build (no Slurm executor); use --executor local or run `gzh predict --shard i/N` as your own job array');
  }
}
