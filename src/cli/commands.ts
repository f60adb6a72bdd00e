import type { Command } from 'commander';
import { register as registerCompare } from './commands/compare.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerEvaluate } from './commands/evaluate.js';
import { register as registerExportWeb } from './commands/export-web.js';
import { register as registerIngest } from './commands/ingest.js';
import { register as registerPredict } from './commands/predict.js';
import { register as registerPreprocess } from './commands/preprocess.js';
import { register as registerRun } from './commands/run.js';
import { register as registerRuns } from './commands/runs.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerSynthesize } from './commands/synthesize.js';
import { register as registerUnit } from './commands/unit.js';

/**
 * Every sub-command lives in its own file under src/cli/commands/ and exports
 * `register(program)`; this list is the one place that wires them in.
 */
const registrations: Array<(program: Command) => void> = [registerRun, registerCompare, registerRuns, registerSynthesize, registerIngest, registerPreprocess, registerDoctor, registerPredict, registerEvaluate, registerExportWeb, registerServe, registerUnit];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
