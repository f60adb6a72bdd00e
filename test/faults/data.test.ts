/**
 * Corrupt data artifacts (cache shards, cache index, catalogues, registries, label files, images)
 * are detected on read with an error naming the file, and rebuilt where they can be rebuilt.
 */
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/data/batch.js';
import { buildCache, openCachedSource } from '../../src/data/cache.js';
import { Catalogue, verifyCatalogue } from '../../src/data/catalogue.js';
import { corrupt } from '../../src/data/images/preprocess.js';
import { ingest } from '../../src/data/ingest.js';
import { CorruptArtifactError, InputError } from '../../src/errors.js';
import { RunRegistry } from '../../src/experiments/registry.js';
import { tinyKaggle } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-data-'));
let data: { labels: string; images: string };
let catalogue: string;
const params = { mode: 'center', size: 16, channels: 1, centerCrop: 40 } as const;

beforeAll(async () => {
  data = await tinyKaggle(join(work, 'kaggle'));
  catalogue = join(work, 'catalogue.sqlite');
  await ingest(catalogue, { format: 'kaggle', labels: data.labels, images: data.images });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function pixels(cacheDir: string): Promise<Uint8Array[]> {
  const source = openCachedSource({ catalogue, cacheDir, split: 'train' });
  const out: Uint8Array[] = [];
  for await (const b of source.batches({ batchSize: 8, shuffle: false, seed: 1, epoch: 0 }) as AsyncIterable<Batch>)
    out.push(b.images);
  return out;
}

describe('image cache', () => {
  const build = (cache: string) => buildCache({ catalogue, cacheDir: cache, params, workers: 0, shardRecords: 10 });

  it.each([
    [
      'overwritten with other bytes of the same size',
      (f: string) => writeFileSync(f, Buffer.alloc(statSync(f).size, 7)),
      /checksum/,
    ],
    ['truncated', (f: string) => truncateSync(f, statSync(f).size - 5), /bytes, \d+ were written/],
    ['deleted', (f: string) => rmSync(f), /shard missing/],
  ])('a shard %s is refused when read and rebuilt by the next build', async (_what, damage, problem) => {
    const cache = join(work, `cache-${_what.split(' ')[0]}`);
    const first = await build(cache);
    const good = await pixels(first.dir);
    const shard = join(first.dir, first.manifest.shards[1]);
    damage(shard);
    expect(() => openCachedSource({ catalogue, cacheDir: first.dir, split: 'train' })).toThrow(CorruptArtifactError);
    expect(() => openCachedSource({ catalogue, cacheDir: first.dir, split: 'train' })).toThrow(
      new RegExp(`^${shard}: .*${problem.source}.*gzh preprocess`),
    );
    const again = await build(cache);
    expect(again.reused).toBe(false);
    expect(again.rebuiltBecause).toContain(shard);
    expect(await pixels(again.dir)).toEqual(good);
    expect((await build(cache)).reused).toBe(true);
  });

  it('an unreadable index.json is named when read and rebuilt by the next build', async () => {
    const cache = join(work, 'cache-index');
    const first = await build(cache);
    writeFileSync(join(first.dir, 'index.json'), '{"format": "gzh-image-cache/2", "ids": [');
    expect(() => openCachedSource({ catalogue, cacheDir: first.dir, split: 'train' })).toThrow(
      join(first.dir, 'index.json'),
    );
    const again = await build(cache);
    expect(again.reused).toBe(false);
    expect(again.rebuiltBecause).toMatch(/not a readable cache index/);
  });

  it('six concurrent builds of a cold cache all succeed with the same cache, and leave no temporary', async () => {
    const cache = join(work, 'cache-concurrent');
    const results = await Promise.all(Array.from({ length: 6 }, () => build(cache)));
    const digests = results.map((r) => r.manifest.shardSha256);
    for (const d of digests) expect(d).toEqual(digests[0]);
    expect(readdirSync(cache)).toEqual([results[0].dir.split('/').pop()]);
    expect((await pixels(results[0].dir)).length).toBeGreaterThan(0);
  });

  it("a killed builder's temporary folder is removed by the next build once its process is gone", async () => {
    const cache = join(work, 'cache-stale');
    const first = await build(cache);
    const stale = join(cache, `.${first.dir.split('/').pop()}.tmp-999999999-1-0`);
    mkdirSync(stale);
    writeFileSync(join(stale, 'shard-000.bin'), 'partial');
    const again = await build(cache);
    expect(again.reused).toBe(true);
    expect(existsSync(stale)).toBe(false);
  });
});

describe('catalogue', () => {
  it('a truncated catalogue is named, with the repair, and fails verification', () => {
    const copy = join(work, 'truncated.sqlite');
    copyFileSync(catalogue, copy);
    truncateSync(copy, Math.floor(statSync(copy).size / 2));
    expect(() => new Catalogue(copy)).toThrow(CorruptArtifactError);
    expect(() => new Catalogue(copy)).toThrow(new RegExp(`^${copy}: .*gzh ingest`));
    expect(verifyCatalogue(copy).ok).toBe(false);
  });

  it('a file that is not a database is named', () => {
    const text = join(work, 'text.sqlite');
    writeFileSync(text, 'GalaxyID,Class1.1\n'.repeat(300));
    expect(() => new Catalogue(text)).toThrow(new RegExp(`^${text}: not a readable catalogue`));
  });

  it('the run registry names its path when it is not a database', () => {
    const file = join(work, 'registry.sqlite');
    writeFileSync(file, 'not a database '.repeat(400));
    expect(() => RunRegistry.open(file)).toThrow(new RegExp(`^${file}: not a readable run registry`));
  });
});

describe('ingest', () => {
  it(
    'zero-byte, truncated, PNG-as-JPEG and text-as-JPEG images are rejected as ' + 'corrupt-image, the rest kept',
    async () => {
      const images = join(work, 'hostile');
      mkdirSync(images);
      for (const f of readdirSync(data.images)) copyFileSync(join(data.images, f), join(images, f));
      const files = readdirSync(images).sort();
      const [empty, cut, png, text] = files.slice(0, 4);
      writeFileSync(join(images, empty), '');
      const bytes = readFileSync(join(images, cut));
      writeFileSync(join(images, cut), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      writeFileSync(join(images, png), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
      writeFileSync(join(images, text), 'this is not an image\n');
      const path = join(work, 'hostile.sqlite');
      const report = await ingest(path, { format: 'kaggle', labels: data.labels, images });
      expect(report.rejectedByReason).toEqual({ 'corrupt-image': 4 });
      const cat = new Catalogue(path);
      const rejected = Object.fromEntries(cat.rejections().map((r) => [`${r.galaxyId}.jpg`, r.detail]));
      cat.close();
      expect(rejected[empty]).toMatch(/empty file/);
      expect(rejected[cut]).toMatch(/truncated JPEG/);
      expect(rejected[png]).toMatch(/not a JPEG \(a PNG file\)/);
      expect(rejected[text]).toMatch(/not a JPEG/);
      expect(report.accepted).toBe(files.length - 4);
    },
  );

  it(
    'a header-only labels file or an empty image folder fails and leaves the previous ' + 'catalogue as it was',
    async () => {
      const path = join(work, 'keep.sqlite');
      await ingest(path, { format: 'kaggle', labels: data.labels, images: data.images });
      const before = readFileSync(path);
      const headerOnly = join(work, 'header-only.csv');
      writeFileSync(headerOnly, readFileSync(data.labels, 'utf8').split('\n')[0] + '\n');
      await expect(ingest(path, { format: 'kaggle', labels: headerOnly, images: data.images })).rejects.toThrow(
        InputError,
      );
      await expect(ingest(path, { format: 'kaggle', labels: headerOnly, images: data.images })).rejects.toThrow(
        /has no data rows; no catalogue written/,
      );
      const emptyDir = join(work, 'no-images');
      mkdirSync(emptyDir);
      await expect(ingest(path, { format: 'kaggle', labels: data.labels, images: emptyDir })).rejects.toThrow(
        /none of the 30 rows .* was accepted \(30 missing-image\)/,
      );
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(readdirSync(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
    },
  );

  it('a malformed CSV and a broken gzip file are named in the error', async () => {
    const bad = join(work, 'bad.csv');
    writeFileSync(bad, readFileSync(data.labels, 'utf8') + '123,"unterminated\n');
    await expect(
      ingest(join(work, 'x.sqlite'), { format: 'kaggle', labels: bad, images: data.images }),
    ).rejects.toThrow(new RegExp(`^${bad}: malformed CSV`));
    const gz = join(work, 'bad.csv.gz');
    const zipped = gzipSync(readFileSync(data.labels));
    writeFileSync(gz, zipped.subarray(0, zipped.length - 40));
    appendFileSync(gz, Buffer.alloc(40, 0xff));
    await expect(ingest(join(work, 'y.sqlite'), { format: 'kaggle', labels: gz, images: data.images })).rejects.toThrow(
      new RegExp(`^${gz}: not a readable gzip file`),
    );
  });
});

describe('decoder errors', () => {
  it('TensorFlow status codes become what is wrong with the image', () => {
    expect(corrupt(new Error('Invalid TF_Status: 3\nMessage: Invalid JPEG data or crop window.')).message).toBe(
      'JPEG cannot be decoded: Invalid JPEG data or crop window.',
    );
    expect(corrupt(new Error('Invalid TF_Status: 3')).message).toBe(
      'JPEG cannot be decoded: the data is not a valid JPEG stream',
    );
  });
});
