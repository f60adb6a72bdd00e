import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every sub-command lives in its own file under src/cli/commands/ and exports
 * `register(program)`; this table is the one place that wires them in, in help order. Each is
 * imported when needed: a command's file imports what its action runs (the trainer, the report's
 * charts, the predictor…), and a process that runs one command (a shard task, a unit of a run)
 * need not load the others'.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<{ register: Register }>]> = [
  ['run', () => import('./commands/run.js')],
  ['compare', () => import('./commands/compare.js')],
  ['runs', () => import('./commands/runs.js')],
  ['synthesize', () => import('./commands/synthesize.js')],
  ['ingest', () => import('./commands/ingest.js')],
  ['preprocess', () => import('./commands/preprocess.js')],
  ['doctor', () => import('./commands/doctor.js')],
  ['predict', () => import('./commands/predict.js')],
  ['evaluate', () => import('./commands/evaluate.js')],
  ['export-web', () => import('./commands/export-web.js')],
  ['serve', () => import('./commands/serve.js')],
  ['unit', () => import('./commands/unit.js')],
];

/** Global options that take a value (`--backend tensorflow`), as `createProgram` declares them. */
const VALUED_GLOBALS = new Set(['--backend', '--data-dir']);

/** The command `argv` (as process.argv) names, when it names one of ours before anything else. */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i];
    if (VALUED_GLOBALS.has(word)) i++;
    else if (!word.startsWith('-')) return COMMANDS.some(([name]) => name === word) ? word : undefined;
  }
  return undefined;
}

/**
 * Registers the command `argv` runs, or every command when it names none of them (help, a
 * version, a typo that commander answers with the list).
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const wanted = commandOf(argv);
  const modules = await Promise.all(
    COMMANDS.filter(([name]) => wanted === undefined || name === wanted).map(([, load]) => load()),
  );
  for (const { register } of modules) register(program);
}
