import { mkdtempSync, rmSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCache, openCachedSource } from '../../src/data/cache.js';
import { Catalogue, writeCatalogue } from '../../src/data/catalogue.js';
import { ingest } from '../../src/data/ingest.js';
import { type KaggleFixture, makeGz2Fixture, makeKaggleFixture } from '../fixtures/data/make-fixture.js';

let work: string;
let fixture: KaggleFixture;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gzh-fixture-'));
  fixture = await makeKaggleFixture(join(work, 'kaggle'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ingest of a fixture with bad rows and files', () => {
  it('rejects exactly the bad rows, each with its reason', async () => {
    const path = join(work, 'fixture.sqlite');
    const report = await ingest(path, { format: 'kaggle', labels: fixture.labels, images: fixture.images });
    expect(report.accepted).toBe(fixture.goodIds.length);
    const catalogue = new Catalogue(path);
    const byReason: Record<string, string[]> = {};
    for (const r of catalogue.rejections()) (byReason[r.reason] ??= []).push(r.galaxyId!);
    expect(byReason).toEqual(fixture.expected);
    expect(
      catalogue
        .galaxies()
        .map((g) => g.id)
        .sort(),
    ).toEqual([...fixture.goodIds].sort());
    expect(report.rejected).toBe(9);
    const duplicate = catalogue.rejections().find((r) => r.reason === 'duplicate-id')!;
    expect(duplicate.detail).toMatch(/already on row 1/);
    expect(catalogue.rejections().find((r) => r.galaxyId === '200003')!.detail).toMatch(/Q1/);
    catalogue.close();
  });

  it('is idempotent: a re-run writes the same catalogue', async () => {
    const a = join(work, 'a.sqlite');
    await ingest(a, { format: 'kaggle', labels: fixture.labels, images: fixture.images, seed: 3 });
    const first = new Catalogue(a);
    const rowsA = first.galaxies();
    first.close();
    await ingest(a, { format: 'kaggle', labels: fixture.labels, images: fixture.images, seed: 3 });
    const second = new Catalogue(a);
    expect(second.galaxies()).toEqual(rowsA);
    second.close();
  });

  it('leaves the previous catalogue intact when writing fails half-way', async () => {
    const path = join(work, 'atomic.sqlite');
    await ingest(path, { format: 'kaggle', labels: fixture.labels, images: fixture.images });
    const before = new Catalogue(path);
    const rows = before.galaxies();
    before.close();
    const bad = { ...rows[0], id: 'zzz', conditional: new Float32Array(5) }; // fails inside the transaction
    expect(() => writeCatalogue(path, { galaxies: [...rows.slice(1), bad], rejections: [], meta: {} })).toThrow(
      /37 values/,
    );
    const after = new Catalogue(path);
    expect(after.galaxies()).toEqual(rows);
    after.close();
    expect(readdirSync(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('reports each broken image with a clear error and caches the rest', async () => {
    const path = join(work, 'cache.sqlite');
    await ingest(path, { format: 'kaggle', labels: fixture.labels, images: fixture.images });
    const result = await buildCache({
      catalogue: path,
      cacheDir: join(work, 'cache'),
      params: { mode: 'contour', size: 53, channels: 3, inputSize: 424 },
      workers: 0,
    });
    const failures = Object.fromEntries(result.manifest.failures.map((f) => [f.id, f.kind]));
    expect(failures).toEqual(fixture.badImages);
    expect(result.manifest.ids.length).toBe(fixture.goodIds.length - 2);
    for (const f of result.manifest.failures) expect(f.message.length).toBeGreaterThan(10);
    const source = openCachedSource({ catalogue: path, cacheDir: result.dir, split: 'train' });
    const missing = new Catalogue(path).galaxies('train').filter((g) => g.id in fixture.badImages).length;
    expect(source.missing).toBe(missing);
  });

  it('GZ2 format with a filename mapping: an unmapped row is reported', async () => {
    const gz2 = await makeGz2Fixture(join(work, 'gz2'));
    const path = join(work, 'gz2.sqlite');
    const report = await ingest(path, { format: 'gz2', labels: gz2.labels, images: gz2.images, mapping: gz2.mapping });
    expect(report.accepted).toBe(5);
    expect(report.rejectedByReason).toEqual({ 'no-image-mapping': 1 });
    expect(report.firstRejections[0].galaxyId).toBe(gz2.unmapped);
    expect(report.hasCounts).toBe(true);
    const catalogue = new Catalogue(path);
    const g = catalogue.galaxies()[0];
    expect(g.gz2Class).toBe('Sc2m');
    expect(g.imagePath).toMatch(/5000\.jpg$/);
    expect(catalogue.meta().strat_class_source).toBe('gz2_class');
    catalogue.close();
  });

  it('names the missing columns when a value kind is absent', async () => {
    const gz2 = await makeGz2Fixture(join(work, 'gz2b'));
    await expect(
      ingest(join(work, 'x.sqlite'), {
        format: 'gz2',
        labels: gz2.labels,
        images: gz2.images,
        mapping: gz2.mapping,
        values: 'fraction',
      }),
    ).rejects.toThrow(/37 of the 37 "fraction" columns are missing: t01_smooth_or_features_a01_smooth_fraction/);
    const report = await ingest(join(work, 'y.sqlite'), {
      format: 'gz2',
      labels: gz2.labels,
      images: gz2.images,
      mapping: gz2.mapping,
      values: 'fraction',
      fallbackValues: 'weighted_fraction',
    });
    expect(report.accepted).toBe(5);
    expect(report.meta.value_fallback).toMatch(/^weighted_fraction: /);
    expect(existsSync(join(work, 'x.sqlite'))).toBe(false);
  });

  it('asks for images or --labels-only', async () => {
    writeFileSync(join(work, 'empty.csv'), 'GalaxyID\n');
    await expect(ingest(join(work, 'z.sqlite'), { format: 'kaggle', labels: fixture.labels })).rejects.toThrow(
      /--labels-only/,
    );
  });
});
