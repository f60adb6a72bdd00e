/**
 * Training on part of the training split (`data.trainFraction` of an experiment config): a seeded
 * choice of rows, and a BatchSource that streams only those. Validation and test splits are not
 * touched, so models trained on different fractions are scored on the same galaxies.
 */
import { Random } from '../util/random.js';
import type { Batch, BatchOptions, BatchSource, ImageShape, SplitName } from './batch.js';

/**
 * The rows (indices into a split of `length` galaxies) that `fraction` keeps: round(fraction ·
 * length) of them, at least one, chosen by `seed` and returned in split order. For one seed and
 * length the rows of a smaller fraction are a subset of a larger fraction's (both are prefixes of
 * the same seeded permutation), so a learning curve adds galaxies rather than drawing new ones.
 */
export function trainFractionRows(length: number, fraction: number, seed: number): number[] {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`trainFraction must be in (0, 1], got ${fraction}`);
  if (!Number.isInteger(length) || length < 0)
    throw new RangeError(`length must be a non-negative integer, got ${length}`);
  if (length === 0) return [];
  const count = Math.min(length, Math.max(1, Math.round(fraction * length)));
  return Random.derive(seed, 'trainFraction')
    .permutation(length)
    .slice(0, count)
    .sort((a, b) => a - b);
}

/** A BatchSource over some rows of another: the same batches API, shuffled among those rows only. */
class SubsetSource implements BatchSource {
  readonly split: SplitName;
  readonly shape: ImageShape;
  readonly length: number;
  readonly ids: readonly string[];
  readonly hasCounts: boolean;

  constructor(
    private readonly source: BatchSource,
    private readonly rows: readonly number[],
  ) {
    this.split = source.split;
    this.shape = source.shape;
    this.length = rows.length;
    this.ids = rows.map((r) => source.ids[r]);
    this.hasCounts = source.hasCounts;
  }

  batches(options: BatchOptions): AsyncIterable<Batch> {
    const rows = options.rows ? options.rows.map((r) => this.rows[r]) : this.rows;
    return this.source.batches({ ...options, rows });
  }
}

/**
 * `source` restricted to `fraction` of its galaxies (see {@link trainFractionRows}); the source itself when
 * fraction is 1.
 */
export function trainSubset(source: BatchSource, fraction: number, seed: number): BatchSource {
  if (fraction === 1) return source;
  return new SubsetSource(source, trainFractionRows(source.length, fraction, seed));
}
