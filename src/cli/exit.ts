import { type Command, CommanderError } from 'commander';
import { ConfigError, InputError, InterruptedError } from '../errors.js';

/** Exit codes of every command: ok, failed (e.g. some images unreadable), bad usage or config, interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/**
 * A command was called wrongly (options, arguments, inputs that name nothing): exit code 2, as is any error with
 * `exitCode: 2`.
 */
export class UsageError extends InputError {
  readonly exitCode = EXIT.usage;
}

/** The exit code an error thrown out of a command should end the process with. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof InputError || error instanceof ConfigError) return EXIT.usage;
  if ((error as { exitCode?: unknown } | null)?.exitCode === EXIT.usage) return EXIT.usage;
  if (error instanceof InterruptedError) return EXIT.interrupted;
  return EXIT.failed;
}

/**
 * Commander usage errors exit with 2 (bad usage), help and version with 0: they are thrown (never
 * `process.exit`), and `runCli` returns the code `exitCodeFor` gives them.
 */
export function usageExitCodes(cmd: Command): Command {
  return cmd.exitOverride();
}
