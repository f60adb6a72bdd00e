/**
 * Rows waiting for their image checks, handed on in the order they were added. Ingest adds each
 * parsed row with its image path (or none: a rejected row, a labels-only catalogue); the paths go
 * to the JPEG checker a batch at a time while parsing goes on, and `emit` receives every row, in
 * the order added, with its image's problem once its batch is checked. Batches the workers have
 * finished are handed on as soon as they lead; when more than `depth` batches (two per worker) are
 * out, the oldest is finished on this thread (see jpeg-check-pool.ts), so what waits is bounded by
 * `batchSize × (depth + 1)` rows whatever the input's size. A row without a path, added while
 * nothing waits, is handed on at once.
 */
import type { CheckedBatch, JpegChecker, PendingCheck } from './images/jpeg-check-pool.js';

/** Rows per batch of paths sent to the checker. */
const CHECK_BATCH = 1024;
/** Batches out per check worker (one being checked, one queued behind it). */
const DEPTH_PER_WORKER = 2;

interface Batch<T> {
  readonly items: T[];
  /** Index into `paths` of each item's image, -1 when it has none. */
  readonly pathOf: number[];
  readonly paths: string[];
  pending?: PendingCheck;
}

const NOTHING_TO_CHECK: CheckedBatch = { problems: [] };

/** See the module comment. */
export class OrderedChecks<T> {
  private current: Batch<T> = emptyBatch();
  private readonly out: Array<Batch<T>> = [];
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
    this.depth = DEPTH_PER_WORKER * checker.workers; // none: nothing to wait for
  }

  /**
   * Adds an item and the path of its image to check (null: none). Throws what emitting an earlier
   * item threw, or the error the check of an earlier item's image threw.
   */
  add(item: T, path: string | null): void {
    if (path === null && this.current.items.length === 0 && this.out.length === 0) {
      this.emit(item, null);
      return;
    }
    const batch = this.current;
    batch.items.push(item);
    batch.pathOf.push(path === null ? -1 : batch.paths.push(path) - 1);
    if (batch.items.length < this.batchSize) return;
    this.dispatch();
    while (this.out.length > 0 && (this.out.length > this.depth || (this.out[0].pending?.ready ?? true))) {
      this.emitBatch(this.out.shift()!);
    }
  }

  /** Checks what is left and emits every item. */
  finish(): void {
    if (this.current.items.length > 0) this.dispatch();
    while (this.out.length > 0) this.emitBatch(this.out.shift()!);
  }

  private dispatch(): void {
    const batch = this.current;
    this.current = emptyBatch();
    if (batch.paths.length > 0) batch.pending = this.checker.check(batch.paths);
    this.out.push(batch);
  }

  private emitBatch(batch: Batch<T>): void {
    const { problems, error } = batch.pending?.result() ?? NOTHING_TO_CHECK;
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
