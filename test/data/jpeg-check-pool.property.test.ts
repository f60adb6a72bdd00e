/**
 * A batch of JPEG checks in shared memory gives exactly what checking its files one by one on this
 * thread gives (the same problems, the same error at the same file), whatever part of it a worker
 * took, finished, found fine or left half-done when it died. Worker threads themselves are tested
 * from compiled JavaScript in test/faults/ingest-check-workers.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegProblem } from '../../src/data/images/jpeg-check.js';
import { DONE, FINE, NEXT, REPORT, SharedBatch, createJpegChecker } from '../../src/data/images/jpeg-check-pool.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-jpeg-check-pool-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const files: string[] = [];

beforeAll(() => {
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 7), Buffer.from([0xff, 0xd9])]);
  const write = (name: string, bytes: Buffer) => {
    writeFileSync(join(work, name), bytes);
    files.push(join(work, name));
  };
  for (let i = 0; i < 4; i++) write(`fine-${i}.jpg`, jpeg);
  write('empty.jpg', Buffer.alloc(0));
  write('png.jpg', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  write('truncated.jpg', jpeg.subarray(0, 200));
  files.push(join(work, 'missing.jpg'));
  mkdirSync(join(work, 'folder.jpg'));
  files.push(join(work, 'folder.jpg')); // its check throws (EISDIR)
});

/** What checking `paths` one by one on this thread gives: the problems up to the first error. */
function oneByOne(paths: readonly string[]): { problems: Array<string | null>; error?: string } {
  const problems: Array<string | null> = [];
  for (const path of paths) {
    try {
      problems.push(jpegProblem(path));
    } catch (error) {
      return { problems, error: (error as Error).message };
    }
  }
  return { problems };
}

function fine(path: string): boolean {
  try {
    return jpegProblem(path) === null;
  } catch {
    return false;
  }
}

describe('JPEG check batches in shared memory', () => {
  it('give what checks one by one give, whatever a worker did with them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.nat({ max: 40 }),
        fc.boolean(),
        (picks, taken, diedMidFile) => {
          const paths = picks.map((p) => files[p % files.length]);
          const batch = new SharedBatch(paths);
          const control = new Int32Array(batch.shared, 0, 2);
          const status = new Uint8Array(batch.shared, 8);
          // a worker takes `taken` files (or all), and may die holding the last one it took
          for (let k = 0; k < taken; k++) {
            const i = Atomics.add(control, NEXT, 1);
            if (i >= paths.length) break;
            if (diedMidFile && k === taken - 1) break;
            Atomics.store(status, i, fine(paths[i]) ? FINE : REPORT);
            Atomics.add(control, DONE, 1);
          }
          const expected = oneByOne(paths);
          const { problems, error } = batch.result();
          expect(problems).toEqual(expected.problems);
          expect(error === undefined ? undefined : (error as Error).message).toBe(expected.error);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is ready once every file is checked; a checker without workers checks on this thread', async () => {
    const checker = createJpegChecker(2); // from the sources: no worker threads
    expect(checker.workers).toBe(0);
    const paths = files.filter((f) => !f.endsWith('folder.jpg'));
    const pending = checker.check(paths);
    expect(pending.ready).toBe(false);
    expect(pending.result()).toEqual({ problems: paths.map((p) => jpegProblem(p)) });
    expect(pending.ready).toBe(true);
    expect(checker.check([]).ready).toBe(true);
    await checker.close();
  });
});
