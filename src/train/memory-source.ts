import { ANSWER_COUNT, toConditional } from '../questions/index.js';
import type { Batch, BatchOptions, BatchSource, ImageShape, SplitName } from '../data/batch.js';
import { Random } from '../util/random.js';

/** Images and targets held in memory, for a {@link MemoryBatchSource}. */
export interface MemoryData {
  /** uint8 NHWC pixels of all galaxies. */
  readonly images: Uint8Array;
  /** Shape of one image. */
  readonly shape: ImageShape;
  /** N×37 cumulative targets. */
  readonly cumulative: Float32Array;
  /** N×37 conditional targets (default: derived from `cumulative`, unreached questions uniform). */
  readonly conditional?: Float32Array;
  /** N×37 raw vote counts. */
  readonly counts?: Float32Array;
  /** Galaxy ids (default "0", "1", …). */
  readonly ids?: readonly string[];
}

/** Order of one epoch: the identity, or a permutation that depends only on (seed, epoch). */
export function epochOrder(length: number, seed: number, epoch: number, shuffle: boolean): number[] {
  return shuffle ? Random.derive(seed, 'batches', epoch).permutation(length) : Array.from({ length }, (_, i) => i);
}

/**
 * A BatchSource over arrays held in memory (tests, small datasets, library users). Batches are
 * copied out of the arrays one at a time; shuffling is a pure function of (seed, epoch).
 */
export class MemoryBatchSource implements BatchSource {
  /** Which split this is. */
  readonly split: SplitName;
  /** Shape of one image. */
  readonly shape: ImageShape;
  readonly length: number;
  readonly ids: readonly string[];
  /** Whether batches carry vote counts. */
  readonly hasCounts: boolean;
  private readonly data: MemoryData;
  private readonly conditional: Float32Array;
  private readonly pixels: number;

  constructor(data: MemoryData, split: SplitName = 'train') {
    this.pixels = data.shape[0] * data.shape[1] * data.shape[2];
    const n = data.cumulative.length / ANSWER_COUNT;
    if (!Number.isInteger(n))
      throw new RangeError(`cumulative length ${data.cumulative.length} is not a multiple of ${ANSWER_COUNT}`);
    if (data.images.length !== n * this.pixels) {
      throw new RangeError(
        `images hold ${data.images.length / this.pixels} galaxies of [${data.shape.join('×')}] but targets hold ${n}`,
      );
    }
    for (const [name, arr] of [
      ['conditional', data.conditional],
      ['counts', data.counts],
    ] as const) {
      if (arr && arr.length !== n * ANSWER_COUNT) throw new RangeError(`${name} must hold ${n}×${ANSWER_COUNT} values`);
    }
    if (data.ids && data.ids.length !== n) throw new RangeError(`ids must hold ${n} values`);
    for (const [name, arr] of [
      ['cumulative', data.cumulative],
      ['conditional', data.conditional],
    ] as const) {
      const bad = arr?.findIndex((v) => !(v >= -1e-6 && v <= 1 + 1e-6)) ?? -1;
      if (bad >= 0) {
        const galaxy = Math.floor(bad / ANSWER_COUNT);
        throw new RangeError(
          `${name} target ${bad % ANSWER_COUNT} of galaxy ${data.ids?.[galaxy] ?? galaxy} is ${arr![bad]}: ` +
            'targets are vote fractions in [0, 1]',
        );
      }
    }
    this.data = data;
    this.split = split;
    this.shape = data.shape;
    this.length = n;
    this.ids = data.ids ?? Array.from({ length: n }, (_, i) => String(i));
    this.hasCounts = data.counts !== undefined;
    this.conditional = data.conditional ?? deriveConditional(data.cumulative, n);
  }

  /** The galaxies at `indices` (in that order) as a new in-memory source. */
  subset(indices: readonly number[], split: SplitName = this.split): MemoryBatchSource {
    const pick = (arr: Float32Array) => gatherRows(arr, indices, ANSWER_COUNT);
    return new MemoryBatchSource(
      {
        images: gatherRows(this.data.images, indices, this.pixels),
        shape: this.shape,
        cumulative: pick(this.data.cumulative),
        conditional: pick(this.conditional),
        counts: this.data.counts ? pick(this.data.counts) : undefined,
        ids: indices.map((i) => this.ids[i]),
      },
      split,
    );
  }

  /** The batches of one epoch, in the order `options` give. */
  async *batches(options: BatchOptions): AsyncIterable<Batch> {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const all = epochOrder(options.rows?.length ?? this.length, options.seed, options.epoch, options.shuffle);
    const order = options.rows ? all.map((i) => options.rows![i]) : all;
    for (let start = (options.skipBatches ?? 0) * batchSize; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      yield {
        ids: rows.map((i) => this.ids[i]),
        size: rows.length,
        images: gatherRows(this.data.images, rows, this.pixels),
        cumulative: gatherRows(this.data.cumulative, rows, ANSWER_COUNT),
        conditional: gatherRows(this.conditional, rows, ANSWER_COUNT),
        ...(this.data.counts ? { counts: gatherRows(this.data.counts, rows, ANSWER_COUNT) } : {}),
      };
    }
  }
}

/** Options of {@link splitMemory}. */
export interface MemorySplitOptions {
  /** Fraction of the galaxies for validation. */
  readonly validation: number;
  /** Fraction of the galaxies for testing. */
  readonly test: number;
  /** Seed of the split. */
  readonly seed: number;
}

/** Seeded random train/validation/test split of in-memory data (fractions of the whole). */
export function splitMemory(
  data: MemoryData,
  options: MemorySplitOptions,
): {
  /** The training split. */
  train: MemoryBatchSource;
  /** The validation split. */
  validation: MemoryBatchSource;
  /** The test split. */
  test: MemoryBatchSource;
} {
  const all = new MemoryBatchSource(data);
  const order = Random.derive(options.seed, 'split').permutation(all.length);
  const nVal = Math.round(all.length * options.validation);
  const nTest = Math.round(all.length * options.test);
  return {
    validation: all.subset(order.slice(0, nVal), 'validation'),
    test: all.subset(order.slice(nVal, nVal + nTest), 'test'),
    train: all.subset(order.slice(nVal + nTest), 'train'),
  };
}

function deriveConditional(cumulative: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * ANSWER_COUNT);
  for (let r = 0; r < n; r++) {
    out.set(toConditional(cumulative.subarray(r * ANSWER_COUNT, (r + 1) * ANSWER_COUNT)), r * ANSWER_COUNT);
  }
  return out;
}

function gatherRows<T extends Uint8Array | Float32Array>(source: T, rows: readonly number[], width: number): T {
  const out = new (source.constructor as new (n: number) => T)(rows.length * width);
  rows.forEach((row, i) => out.set(source.subarray(row * width, (row + 1) * width), i * width));
  return out;
}
