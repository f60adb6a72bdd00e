/**
 * Ingest with its JPEG checks on worker threads (compiled JavaScript in a child process) writes the
 * catalogue byte for byte as the checks on the main thread do (vitest runs the sources, where they
 * run on the main thread), over several batches of rows with every kind of rejection; a worker
 * terminated mid-ingest loses no row and does not hang; without the worker's entry file the checks
 * run on the main thread; a check that throws fails the ingest with the same error.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestReport, ingest } from '../../src/data/ingest.js';
import { KAGGLE_COLUMNS, toCumulative } from '../../src/questions/index.js';
import { Random } from '../../src/util/random.js';
import { randomConditional } from '../fixtures/data/make-fixture.js';
import { transpileForNode } from '../train/helpers/transpile.js';
import { ROOT, spawnNode } from './helpers.js';

const ROWS = 3000; // about three batches of checks
const work = mkdtempSync(join(tmpdir(), 'gzh-faults-ingest-workers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface LabelledSet {
  readonly labels: string;
  readonly images: string;
}

/**
 * ROWS label rows with tiny JPEGs, and rows and files of every kind ingest rejects spread through
 * them: empty, truncated, PNG and text files named .jpg, missing images, images without a row,
 * duplicate ids, non-numbers, broken trees, `.JPEG` names. With `directoryAt`, that row's "image" is
 * a folder, whose check throws.
 */
async function labelledSet(dir: string, directoryAt?: number): Promise<LabelledSet> {
  const images = join(dir, 'images');
  mkdirSync(images, { recursive: true });
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#203040' } })
    .jpeg()
    .toBuffer();
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  const broken = [Buffer.alloc(0), png, jpeg.subarray(0, jpeg.length - 40), Buffer.from('not an image\n')];
  const random = new Random(5);
  const lines = [['GalaxyID', ...KAGGLE_COLUMNS].join(',')];
  for (let i = 0; i < ROWS; i++) {
    const id = String(100000 + 7 * i);
    const values: Array<number | string> = Array.from(toCumulative(randomConditional(random), { q6Reach: 'kaggle' }));
    if (i % 173 === 5) values[3] = 'nan';
    if (i % 211 === 9) values[0] = Number(values[0]) + 0.3;
    lines.push([i % 149 === 148 ? String(100000 + 7 * (i - 100)) : id, ...values].join(','));
    if (i === directoryAt) mkdirSync(join(images, `${id}.jpg`));
    else if (i % 131 === 17)
      continue; // missing
    else if (i % 97 === 40) writeFileSync(join(images, `${id}.jpg`), broken[(i / 97) & 3]);
    else writeFileSync(join(images, i % 50 === 3 ? `${id}.JPEG` : `${id}.jpg`), jpeg);
  }
  for (let k = 0; k < 6; k++) writeFileSync(join(images, `${100000 + 7 * 400 * k + 3}.jpg`), jpeg); // orphans
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, lines.join('\n') + '\n');
  return { labels, images };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

let set: LabelledSet;
let child: string;
let reference: IngestReport;
const referencePath = join(work, 'reference.sqlite');

beforeAll(async () => {
  set = await labelledSet(join(work, 'set'));
  child = transpileForNode(join(ROOT, 'test/faults/fixtures/ingest-child.ts'), ROOT, join(work, 'build'));
  transpileForNode(join(ROOT, 'src/data/images/jpeg-check-worker.ts'), ROOT, join(work, 'build'));
  reference = await ingest(referencePath, { format: 'kaggle', labels: set.labels, images: set.images });
}, 120_000);

interface ChildReport {
  readonly report?: IngestReport;
  readonly error?: string;
  readonly workers: number;
  readonly fallback?: string | null;
}

async function ingestInChild(labels: string, images: string, catalogue: string, mode: string): Promise<ChildReport> {
  const exit = await spawnNode(child, [labels, images, catalogue, mode]).done;
  expect(exit.code, exit.err).toBe(0);
  return JSON.parse(exit.out) as ChildReport;
}

const withoutPath = (report: IngestReport) => ({ ...report, catalogue: undefined });

describe('ingest with its JPEG checks on worker threads', () => {
  it('the reference set has every kind of rejection, over several batches', () => {
    expect(reference.rows).toBe(ROWS);
    expect(Object.keys(reference.rejectedByReason).sort()).toEqual([
      'corrupt-image',
      'duplicate-id',
      'invalid-value',
      'missing-image',
      'orphan-image',
      'tree-violation',
    ]);
    expect(reference.rejectedByReason['corrupt-image']).toBeGreaterThan(20);
  });

  it.each(['1', '2'])('with %s worker(s) writes the same catalogue, byte for byte', async (workers) => {
    const catalogue = join(work, `workers-${workers}.sqlite`);
    const result = await ingestInChild(set.labels, set.images, catalogue, workers);
    expect(result.error).toBeUndefined();
    expect(result.workers).toBe(Number(workers));
    expect(result.fallback).toBeNull();
    expect(withoutPath(result.report!)).toEqual(withoutPath(reference));
    expect(sha256(catalogue)).toBe(sha256(referencePath));
  });

  it('a worker terminated as it is handed batches: they are checked on the main thread, nothing is lost', async () => {
    const catalogue = join(work, 'killed.sqlite');
    const result = await ingestInChild(set.labels, set.images, catalogue, 'kill');
    expect(result.error).toBeUndefined();
    expect(result.workers).toBe(1);
    expect(result.fallback).toMatch(/a JPEG check worker stopped/);
    expect(withoutPath(result.report!)).toEqual(withoutPath(reference));
    expect(sha256(catalogue)).toBe(sha256(referencePath));
  });

  it('without the compiled worker entry beside it, the checks run on the main thread', async () => {
    const bare = transpileForNode(join(ROOT, 'test/faults/fixtures/ingest-child.ts'), ROOT, join(work, 'bare'));
    rmSync(join(work, 'bare/src/data/images/jpeg-check-worker.js'));
    const catalogue = join(work, 'bare.sqlite');
    const exit = await spawnNode(bare, [set.labels, set.images, catalogue, '1']).done;
    expect(exit.code, exit.err).toBe(0);
    const result = JSON.parse(exit.out) as ChildReport;
    expect(result.workers).toBe(0);
    expect(sha256(catalogue)).toBe(sha256(referencePath));
  });

  it('a check that throws (a folder named .jpg) fails the ingest with the same error as on one thread', async () => {
    const bad = await labelledSet(join(work, 'with-folder'), 2500);
    const catalogue = join(work, 'folder.sqlite');
    const inline = await ingest(catalogue, { format: 'kaggle', labels: bad.labels, images: bad.images }).then(
      () => 'no error',
      (error: Error) => error.message,
    );
    expect(inline).toMatch(/EISDIR/);
    const result = await ingestInChild(bad.labels, bad.images, catalogue, '1');
    expect(result.error).toBe(inline);
  });
});
