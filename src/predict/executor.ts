import { LocalExecutor } from '../exec/local.js';
import { SlurmExecutor, type SlurmSettings } from '../exec/slurm.js';
import type { Executor, ExecutorName } from '../exec/types.js';

export interface ExecutorChoice {
  readonly name: ExecutorName;
  /** Parallel tasks for `local` (default 1). */
  readonly jobs?: number;
  /** slurm: partition, account, time, CPUs and memory per task, extra #SBATCH lines. */
  readonly slurm?: SlurmSettings;
  /** slurm: the folder that receives the batch script (the parts folder). */
  readonly scriptDir?: string;
  /** slurm: seconds between looks at the queue (default 2). */
  readonly pollSeconds?: number;
}

/**
 * The executor that runs shard tasks; null for `inline` (shards are predicted one after another
 * in this process, with the model loaded once). `slurm` submits the missing shards as one job
 * array whose batch script (`predict.sbatch`) is written into `scriptDir`.
 */
export function createShardExecutor(choice: ExecutorChoice): Executor | null {
  switch (choice.name) {
    case 'inline':
      return null;
    case 'local':
      return new LocalExecutor(choice.jobs ?? 1);
    case 'slurm':
      return new SlurmExecutor({
        ...choice.slurm,
        scriptDir: choice.scriptDir ?? '.',
        ...(choice.pollSeconds !== undefined ? { pollSeconds: choice.pollSeconds } : {}),
      });
  }
}

/** The Slurm options of `gzh predict --shards` and `gzh run|compare` (`addSlurmOptions`), as Commander parses them. */
export interface SlurmFlags {
  partition?: string;
  account?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  sbatch?: readonly string[];
}

/** The Slurm settings given on the command line (absent ones: the cluster's defaults). */
export function slurmSettings(flags: SlurmFlags): SlurmSettings {
  return {
    ...(flags.partition ? { partition: flags.partition } : {}),
    ...(flags.account ? { account: flags.account } : {}),
    ...(flags.time ? { time: flags.time } : {}),
    ...(flags.cpusPerTask !== undefined ? { cpusPerTask: flags.cpusPerTask } : {}),
    ...(flags.mem ? { mem: flags.mem } : {}),
    ...(flags.sbatch?.length ? { extra: [...flags.sbatch] } : {}),
  };
}
