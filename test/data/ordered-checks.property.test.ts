/**
 * Rows waiting for their image checks are handed on in the order they were added, each with its
 * own image's problem, whatever order the checker's batches get ready in; what waits stays bounded;
 * and a check that throws stops the rows exactly where checking them one by one would have.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckedBatch, JpegChecker, PendingCheck } from '../../src/data/images/jpeg-check-pool.js';
import { OrderedChecks } from '../../src/data/ordered-checks.js';

/** A row: its image path ('bad…' has a problem, 'throw…' makes the check throw), or none. */
type Row = { readonly n: number; readonly path: string | null };

const problemOf = (path: string) => (path.startsWith('bad') ? `${path} is broken` : null);

/**
 * A checker whose batches become ready out of order: batch k is ready once `lags[k]` more batches
 * were handed over (a worker lagging behind); its result is there at once when asked for, as the
 * main thread finishes a batch itself.
 */
function fakeChecker(workers: number, lags: readonly number[]): JpegChecker & { sent: number } {
  let handed = 0;
  const checker = {
    workers,
    threads: [],
    fallback: null,
    checkedHere: 0,
    sent: 0,
    check(paths: readonly string[]): PendingCheck {
      checker.sent += paths.length;
      const problems: Array<string | null> = [];
      let error: unknown;
      for (const path of paths) {
        if (path.startsWith('throw')) {
          error = new Error(`cannot check ${path}`);
          break;
        }
        problems.push(problemOf(path));
      }
      const readyAt = handed + lags[handed % lags.length];
      handed++;
      return {
        get ready() {
          return handed > readyAt;
        },
        result: (): CheckedBatch => (error ? { problems, error } : { problems }),
      };
    },
    close: async () => {},
  };
  return checker;
}

const rows = fc
  .array(fc.constantFrom<string | null>(null, 'ok', 'bad', 'ok', 'ok'), { maxLength: 300 })
  .map((paths) => paths.map((p, n): Row => ({ n, path: p === null ? null : `${p}-${n}` })));

function run(
  input: readonly Row[],
  checker: JpegChecker,
  batchSize: number,
): { emitted: Array<[number, string | null]>; error?: unknown; maxWaiting: number } {
  const emitted: Array<[number, string | null]> = [];
  const queue = new OrderedChecks<Row>(checker, (row, problem) => emitted.push([row.n, problem]), batchSize);
  let added = 0;
  let maxWaiting = 0;
  try {
    for (const row of input) {
      queue.add(row, row.path);
      added++;
      maxWaiting = Math.max(maxWaiting, added - emitted.length);
    }
    queue.finish();
  } catch (error) {
    return { emitted, error, maxWaiting };
  }
  return { emitted, maxWaiting };
}

describe('ordered image checks', () => {
  it('hands every row on in order with its own problem, with at most batch × (depth + 1) waiting', () => {
    fc.assert(
      fc.property(
        rows,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 5 }),
        (input, batchSize, workers, lags) => {
          const checker = fakeChecker(workers, lags);
          const { emitted, error, maxWaiting } = run(input, checker, batchSize);
          expect(error).toBeUndefined();
          expect(emitted).toEqual(input.map((r) => [r.n, r.path === null ? null : problemOf(r.path)]));
          expect(maxWaiting).toBeLessThanOrEqual(batchSize * (2 * workers + 1));
          expect(checker.sent).toBe(input.filter((r) => r.path !== null).length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stops where a check throws: every earlier row is handed on, then the error comes out', () => {
    fc.assert(
      fc.property(
        rows.filter((r) => r.some((row) => row.path !== null)),
        fc.nat(),
        fc.integer({ min: 1, max: 40 }),
        (input, pick, batchSize) => {
          const withPath = input.filter((r) => r.path !== null);
          const failing = withPath[pick % withPath.length];
          const rowsIn = input.map((r) => (r === failing ? { ...r, path: `throw-${r.n}` } : r));
          const { emitted, error } = run(rowsIn, fakeChecker(1, [2, 0, 1]), batchSize);
          expect((error as Error).message).toBe(`cannot check throw-${failing.n}`);
          const before = rowsIn.filter((r) => r.n < failing.n);
          expect(emitted).toEqual(before.map((r) => [r.n, r.path === null ? null : problemOf(r.path)]));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('hands rows without an image on at once while nothing waits (label-only ingests)', () => {
    const emitted: number[] = [];
    const queue = new OrderedChecks<number>(fakeChecker(1, [0]), (n) => emitted.push(n), 4);
    for (let n = 0; n < 10; n++) queue.add(n, null);
    expect(emitted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
