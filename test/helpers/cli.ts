import { Command } from 'commander';
import { captureOutput } from './capture.js';

/** What a `gzh` command run in a test printed, and its exit code. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** A `gzh` program with the global options and the given commands, which throws instead of exiting. */
export function testProgram(...registers: ReadonlyArray<(program: Command) => void>): Command {
  const p = new Command();
  p.exitOverride().option('--backend <name>').option('--json').option('-q, --quiet');
  for (const register of registers) register(p);
  return p;
}

/**
 * `gzh <args> --backend cpu` in this process, with its output and exit code (process.exitCode is
 * put back afterwards). An error the command throws propagates, unless `onError` takes it.
 */
export async function runInProcess(
  program: Command,
  args: readonly string[],
  onError?: (error: unknown) => void,
): Promise<CliResult> {
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    const {
      value: exitCode,
      stdout,
      stderr,
    } = await captureOutput(async () => {
      try {
        await program.parseAsync(['node', 'gzh', ...args, '--backend', 'cpu']);
      } catch (error) {
        if (!onError) throw error;
        onError(error);
      }
      return Number(process.exitCode ?? 0);
    });
    return { stdout, stderr, exitCode };
  } finally {
    process.exitCode = before;
  }
}
