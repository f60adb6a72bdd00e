/**
 * The typed errors library code throws. Each kind says what went wrong in the user's terms; only
 * the CLI (`src/cli/exit.ts`) turns a kind into an exit code.
 */

/** Base class of every error the framework throws on purpose. */
export class GzhError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller passed something unusable: an option, an argument, an input that names nothing. */
export class InputError extends GzhError {}

/** An experiment config (or a value derived from one) is invalid. */
export class ConfigError extends GzhError {}

/**
 * An artifact on disk (model, cache shard, catalogue, run file, part file) failed verification
 * when read: wrong size or checksum, not a database, non-finite weights. Names the file and says
 * how to repair it.
 */
export class CorruptArtifactError extends GzhError {
  /**
   * @param path - the damaged file.
   * @param problem - what verification found.
   * @param repair - how to repair it (restore it, rebuild it, …).
   * @param options - the error that revealed the damage, as `cause`.
   */
  constructor(
    readonly path: string,
    problem: string,
    readonly repair: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${problem}. ${repair}`, options);
  }
}

/** Work was stopped by a stop request (Ctrl-C, SIGTERM) before it completed. */
export class InterruptedError extends GzhError {
  constructor(message = 'interrupted') {
    super(message);
  }
}

/** A computation produced a value that cannot be a valid answer (NaN, ±Infinity). */
export class NonFiniteError extends GzhError {}
