import type { Command } from 'commander';
import { usageExitCodes } from '../exit.js';
import { EXPERIMENT_HELP, type ExperimentCommandOptions, addExperimentOptions, executeExperiment } from './run.js';

export function register(program: Command): void {
  const cmd = program
    .command('compare')
    .description(
      'train and evaluate every variant of a config (flat vs hierarchical vs ensemble …) on the identical ' +
        'split (each with its training budget), print RMSE / R² side by side, write the comparison report',
    )
    .argument('<config>', 'experiment config with at least two variants, e.g. experiments/kaggle-sample-compare.json');
  addExperimentOptions(cmd, false)
    .addHelpText(
      'after',
      `${EXPERIMENT_HELP}\n\nExample:\n  gzh compare experiments/kaggle-sample-compare.json\n  gzh compare ` +
        'experiments/kaggle-sample-compare.json --data-path ~/kaggle/galaxy-zoo   # the full download',
    )
    .action((config: string, opts: ExperimentCommandOptions, command: Command) =>
      executeExperiment('compare', config, opts, command),
    );
  usageExitCodes(cmd);
}
