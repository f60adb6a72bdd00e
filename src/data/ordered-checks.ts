/**
 * Rows waiting for their image checks, handed on in the order they were added. Ingest adds each
 * parsed row with its image path (or none: a rejected row, a labels-only catalogue); the paths go
 * to the JPEG checker a batch at a time while parsing goes on, and `emit` receives every row, in
 * the order added, with its image's problem once its batch is checked. At most `depth` batches
 * are in flight, so what waits is bounded by `batchSize × (depth + 1)` rows whatever the input's
 * size. A row without a path, added while nothing waits, is handed on at once.
 */
import type { CheckedBatch, JpegChecker } from './images/jpeg-check-pool.js';

/** Rows per batch of paths sent to the checker. */
export const CHECK_BATCH = 1024;
/** Batches in flight per check worker (one being checked, one queued behind it). */
const DEPTH_PER_WORKER = 2;

interface Batch<T> {
  readonly items: T[];
  /** Index into `paths` of each item's image, -1 when it has none. */
  readonly pathOf: number[];
  readonly paths: string[];
  checked?: CheckedBatch;
  answer?: Promise<CheckedBatch>;
}

/** See the module comment. */
export class OrderedChecks<T> {
  private current: Batch<T> = emptyBatch();
  private readonly inFlight: Array<Batch<T>> = [];
  private readonly depth: number;

  /**
   * @param checker - checks the paths.
   * @param emit - receives each item with its image's problem (null: fine, or no image).
   * @param batchSize - items per batch.
   */
  constructor(
    private readonly checker: JpegChecker,
    private readonly emit: (item: T, problem: string | null) => void,
    private readonly batchSize = CHECK_BATCH,
  ) {
    this.depth = DEPTH_PER_WORKER * Math.max(1, checker.workers);
  }

  /**
   * Adds an item and the path of its image to check (null: none). Returns a promise to await
   * before adding more when too many batches are in flight, else undefined. Throws what emitting
   * an earlier item threw, or the error a check of an earlier item's image threw.
   */
  add(item: T, path: string | null): Promise<void> | undefined {
    if (path === null && this.current.items.length === 0 && this.inFlight.length === 0) {
      this.emit(item, null);
      return undefined;
    }
    const batch = this.current;
    batch.items.push(item);
    batch.pathOf.push(path === null ? -1 : batch.paths.push(path) - 1);
    if (batch.items.length < this.batchSize) return undefined;
    this.dispatch();
    this.emitChecked();
    return this.inFlight.length > this.depth ? this.emitHead() : undefined;
  }

  /** Sends what is left, waits for every check and emits every item. */
  async finish(): Promise<void> {
    if (this.current.items.length > 0) this.dispatch();
    while (this.inFlight.length > 0) await this.emitHead();
  }

  private dispatch(): void {
    const batch = this.current;
    this.current = emptyBatch();
    this.inFlight.push(batch);
    if (batch.paths.length === 0) batch.checked = { problems: [] };
    else {
      batch.answer = this.checker.check(batch.paths);
      void batch.answer.then((checked) => (batch.checked = checked));
    }
  }

  /** Emits the leading batches already checked. */
  private emitChecked(): void {
    while (this.inFlight.length > 0 && this.inFlight[0].checked) this.emitBatch(this.inFlight.shift()!);
  }

  /** Waits for the oldest batch, emits it and any checked behind it. */
  private async emitHead(): Promise<void> {
    const head = this.inFlight[0];
    if (!head.checked) head.checked = await head.answer!;
    this.emitChecked();
  }

  private emitBatch(batch: Batch<T>): void {
    const { problems, error } = batch.checked!;
    for (let i = 0; i < batch.items.length; i++) {
      const p = batch.pathOf[i];
      if (p >= problems.length) throw error;
      this.emit(batch.items[i], p < 0 ? null : problems[p]);
    }
  }
}

function emptyBatch<T>(): Batch<T> {
  return { items: [], pathOf: [], paths: [] };
}
