/**
 * The contract between the data pipeline and training: a source of preprocessed galaxies that
 * streams fixed-size batches without holding the whole dataset in memory.
 */

/** Which split a galaxy belongs to; assigned once, seeded, and stored in the catalogue. */
export type SplitName = 'train' | 'validation' | 'test';

/** Shape of one preprocessed image: [height, width, channels] (channels 1 = gray, 3 = RGB). */
export type ImageShape = readonly [number, number, number];

/** One batch, row-major, ready to become tensors. */
export interface Batch {
  /** Galaxy ids, one per row. */
  readonly ids: readonly string[];
  /** Number of rows (the last batch of an epoch may be short). */
  readonly size: number;
  /** Pixels, uint8, NHWC. */
  readonly images: Uint8Array;
  /** 37 cumulative (Kaggle-convention) targets per row. */
  readonly cumulative: Float32Array;
  /** 37 conditional (GZ2-convention) targets per row. */
  readonly conditional: Float32Array;
  /** 37 raw vote counts per row where the catalogue has them, else undefined. */
  readonly counts?: Float32Array;
}

/** How a BatchSource streams one epoch. */
export interface BatchOptions {
  /** Galaxies per batch (the last batch may be smaller). */
  readonly batchSize: number;
  /** Shuffle order within the split; the permutation is a pure function of (seed, epoch). */
  readonly shuffle: boolean;
  /** Seed of the shuffle. */
  readonly seed: number;
  /** Epoch number (0-based): each epoch has its own order. */
  readonly epoch: number;
  /** Skip this many whole batches (used to resume mid-epoch). */
  readonly skipBatches?: number;
  /**
   * Stream only these rows (indices into `ids`), in this order, or shuffled among themselves
   * (the permutation a pure function of (seed, epoch)); default every row.
   */
  readonly rows?: readonly number[];
}

/** A split of a dataset that can be streamed in batches. */
export interface BatchSource {
  /** Which split this is. */
  readonly split: SplitName;
  /** Shape of one image. */
  readonly shape: ImageShape;
  /** Number of galaxies in this split. */
  readonly length: number;
  /** Galaxy ids in split order (the order of unshuffled batches). */
  readonly ids: readonly string[];
  /** Whether batches carry vote counts. */
  readonly hasCounts: boolean;
  /** The batches of one epoch, in the order `options` give. */
  batches(options: BatchOptions): AsyncIterable<Batch>;
}
