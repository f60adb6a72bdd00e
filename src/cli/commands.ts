import type { Command } from 'commander';
import { register as registerRuns } from './commands/runs.js';
import { register as registerSynthesize } from './commands/synthesize.js';

/**
 * Every sub-command lives in its own file under src/cli/commands/ and exports
 * `register(program)`; this list is the one place that wires them in.
 */
const registrations: Array<(program: Command) => void> = [registerRuns, registerSynthesize];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
