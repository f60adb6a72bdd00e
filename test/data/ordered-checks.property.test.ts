/**
 * Rows waiting for their image checks are handed on in the order they were added, each with its
 * own image's problem, whatever order the checker answers batches in; what waits stays bounded;
 * and a check that throws stops the rows exactly where checking them one by one would have.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckedBatch, JpegChecker } from '../../src/data/images/jpeg-check-pool.js';
import { OrderedChecks } from '../../src/data/ordered-checks.js';

/** A row: its image path ('bad…' has a problem, 'throw…' makes the check throw), or none. */
type Row = { readonly n: number; readonly path: string | null };

const problemOf = (path: string) => (path.startsWith('bad') ? `${path} is broken` : null);

/** A checker that answers each batch after its own delay, so batches complete out of order. */
function fakeChecker(workers: number, delays: readonly number[]): JpegChecker & { sent: number } {
  let batch = 0;
  const checker = {
    workers,
    threads: [],
    fallback: null,
    sent: 0,
    check(paths: readonly string[]): Promise<CheckedBatch> {
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
      const delay = delays[batch++ % delays.length];
      return new Promise((resolve) => setTimeout(() => resolve(error ? { problems, error } : { problems }), delay));
    },
    close: async () => {},
  };
  return checker;
}

const rows = fc
  .array(fc.constantFrom<string | null>(null, 'ok', 'bad', 'ok', 'ok'), { maxLength: 300 })
  .map((paths) => paths.map((p, n): Row => ({ n, path: p === null ? null : `${p}-${n}` })));

async function run(
  input: readonly Row[],
  checker: JpegChecker,
  batchSize: number,
): Promise<{ emitted: Array<[number, string | null]>; error?: unknown; maxWaiting: number }> {
  const emitted: Array<[number, string | null]> = [];
  const queue = new OrderedChecks<Row>(checker, (row, problem) => emitted.push([row.n, problem]), batchSize);
  let added = 0;
  let maxWaiting = 0;
  try {
    for (const row of input) {
      const wait = queue.add(row, row.path);
      added++;
      if (wait) await wait;
      maxWaiting = Math.max(maxWaiting, added - emitted.length);
    }
    await queue.finish();
  } catch (error) {
    return { emitted, error, maxWaiting };
  }
  return { emitted, maxWaiting };
}

describe('ordered image checks', () => {
  it('hands every row on in order with its own problem, with at most batch × (depth + 1) waiting', async () => {
    await fc.assert(
      fc.asyncProperty(
        rows,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }),
        async (input, batchSize, workers, delays) => {
          const checker = fakeChecker(workers, delays);
          const { emitted, error, maxWaiting } = await run(input, checker, batchSize);
          expect(error).toBeUndefined();
          expect(emitted).toEqual(input.map((r) => [r.n, r.path === null ? null : problemOf(r.path)]));
          expect(maxWaiting).toBeLessThanOrEqual(batchSize * (2 * workers + 1));
          expect(checker.sent).toBe(input.filter((r) => r.path !== null).length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stops where a check throws: every earlier row is handed on, then the error comes out', async () => {
    await fc.assert(
      fc.asyncProperty(
        rows.filter((r) => r.some((row) => row.path !== null)),
        fc.nat(),
        fc.integer({ min: 1, max: 40 }),
        async (input, pick, batchSize) => {
          const withPath = input.filter((r) => r.path !== null);
          const failing = withPath[pick % withPath.length];
          const rowsIn = input.map((r) => (r === failing ? { ...r, path: `throw-${r.n}` } : r));
          const { emitted, error } = await run(rowsIn, fakeChecker(1, [2, 0, 1]), batchSize);
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
    for (let n = 0; n < 10; n++) expect(queue.add(n, null)).toBeUndefined();
    expect(emitted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
