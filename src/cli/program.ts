import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands.js';
import { UsageError, exitCodeFor } from './exit.js';
import { packageVersion } from '../util/project.js';

/** The `gzh` program: global options and the command `argv` runs (every command for help). */
async function createProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name('gzh')
    .description('galaxy-zoo-hierarchy: predict Galaxy Zoo vote fractions with tree-aware CNNs')
    .version(packageVersion())
    .option('--backend <name>', 'compute backend: tensorflow | wasm | cpu (default: best available; env GZH_BACKEND)')
    .option('--data-dir <dir>', 'Galaxy Zoo data directory (default ../shared/data; env GZH_DATA_DIR)')
    .option('--json', 'machine-readable JSON output')
    .option('-q, --quiet', 'no progress bars or chatter');
  // Throw instead of exiting on usage errors (inherited by every command), so they exit with 2.
  program.exitOverride();
  await registerCommands(program, argv);
  return program;
}

/**
 * Runs `gzh` on `argv` (as process.argv) and returns its exit code: 0 ok, 1 failed, 2 bad usage,
 * or a code a command set itself (130 interrupted).
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await (await createProgram(argv)).parseAsync([...argv]);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    // Commander has already printed its own usage errors, help and version.
    if (!(error instanceof CommanderError)) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`gzh: ${message}\n`);
    }
    const set = Number(process.exitCode ?? 0);
    return error instanceof CommanderError || error instanceof UsageError || set === 0 ? exitCodeFor(error) : set;
  }
}
