/**
 * Option-value parsers for Commander: a bad value is a usage error (exit code 2) that Commander
 * reports with the option's name.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { SplitRatios } from '../data/split.js';
import { parseSplitRatios } from '../data/split.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

/** An integer in [min, max]. */
export function intInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number in [0, 1]');
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number');
  return n;
}

/** `0.8,0.1,0.1`: train, validation, test ratios. */
export function splitRatios(value: string): SplitRatios {
  try {
    return parseSplitRatios(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A repeatable option: each occurrence appends its value (e.g. `--sbatch --qos=long --sbatch …`). */
export function appendTo(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Adds the Slurm options to `cmd`; `task` names what one array task runs (for the help), and
 * `configured` says that a config's `slurm` section supplies their defaults.
 */
export function addSlurmOptions(cmd: Command, task: string, configured: boolean): Command {
  const orConfig = (key: string): string => (configured ? ` (else config slurm.${key})` : '');
  return cmd
    .option('--partition <name>', `slurm: partition${orConfig('partition')}`)
    .option('--account <name>', `slurm: account${orConfig('account')}`)
    .option('--time <limit>', `slurm: time limit per ${task}, e.g. 2:00:00${orConfig('time')}`)
    .option(
      '--cpus-per-task <n>',
      `slurm: CPUs (and TensorFlow threads) per ${task}${orConfig('cpusPerTask')}`,
      positiveInt,
    )
    .option('--mem <size>', `slurm: memory per ${task}, e.g. 8G${orConfig('mem')}`)
    .option(
      '--sbatch <line>',
      `slurm: an extra #SBATCH line, e.g. --qos=long (repeatable${configured ? '; added to config slurm.extra' : ''})`,
      appendTo,
    );
}
