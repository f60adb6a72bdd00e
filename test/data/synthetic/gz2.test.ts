/**
 * The synthetic generator's GZ2 layout: the Hart16 columns, values that satisfy the tree and agree
 * with each other, the gz2class grammar, ingest of what it writes (with images through the
 * filename mapping, and labels only), prefixes, and labels-only data sets without images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalogue } from '../../../src/data/catalogue.js';
import { ingest } from '../../../src/data/ingest.js';
import { generateSyntheticDataset } from '../../../src/data/synthetic/index.js';
import { gz2Class } from '../../../src/data/synthetic/gz2-class.js';
import { ANSWERS, QUESTIONS, validateVector } from '../../../src/questions/index.js';
import { DATA } from '../../helpers/data.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gzh-synthetic-gz2-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The gzipped table as a header and rows of cells by column name. */
async function readTable(
  path: string,
): Promise<{ header: string[]; rows: Array<Record<string, string>>; lines: string[] }> {
  const lines = gunzipSync(await readFile(path))
    .toString('utf8')
    .trim()
    .split('\n');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((line) => Object.fromEntries(line.split(',').map((v, i) => [header[i], v])));
  return { header, rows, lines };
}

const family = (row: Record<string, string>, suffix: string) =>
  ANSWERS.map((a) => Number(row[`${a.gz2Column}_${suffix}`]));

/**
 * The gz2class grammar of Willett et al. (2013): A, E[ric], Se[rbn], S[B][dcba][1234+?][tml], odd feature in
 * brackets.
 */
const GZ2_CLASS = /^(A|(E[ric]|Se[rbn]|SB?[dcba](?:[1234+?][tml])?)(\([rldiomu]\))?)$/;

describe('synthetic GZ2 layout', () => {
  let counter = 0;
  const fresh = () => join(root, `set-${counter++}`);

  it("writes every Hart16 column family, in the real table's order", async () => {
    const set = await generateSyntheticDataset({
      outDir: fresh(),
      format: 'gz2',
      count: 2,
      rows: 4,
      seed: 5,
      size: 32,
    });
    const { header } = await readTable(set.labelsPath);
    const leading = [
      'dr7objid',
      'ra',
      'dec',
      'rastring',
      'decstring',
      'sample',
      'gz2class',
      'total_classifications',
      'total_votes',
    ];
    expect(header.slice(0, 9)).toEqual(leading);
    expect(header).toHaveLength(9 + 37 * 6);
    const description = join(dirname(DATA.stripe82Table), 'gz2_hart16.txt');
    if (existsSync(description)) {
      // the column list of the real table's description (one name per line, then its type)
      const column = /^(t\d\d_|dr7objid$|ra$|dec$|rastring$|decstring$|sample$|gz2class$|total_)/;
      const names = readFileSync(description, 'utf8')
        .split('\n')
        .map((l) => l.split(/\s+/)[0])
        .filter((n) => column.test(n));
      expect(header).toEqual(names);
    } else {
      console.warn(`gz2_hart16.txt not found at ${description}: the column order is checked against the tree only`);
    }
  });

  it('values satisfy the tree and agree with each other (property over seeds and volunteer counts)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 3, max: 60 }),
        async (seed, volunteers) => {
          const options = { format: 'gz2', count: 1, rows: 40, labelsOnly: true, seed, volunteers, size: 32 } as const;
          const set = await generateSyntheticDataset({ ...options, outDir: fresh() });
          const { rows } = await readTable(set.labelsPath);
          expect(rows).toHaveLength(40);
          for (const row of rows) {
            const count = family(row, 'count');
            const weight = family(row, 'weight');
            const fraction = family(row, 'fraction');
            const weighted = family(row, 'weighted_fraction');
            const debiased = family(row, 'debiased');
            const flag = family(row, 'flag');
            expect(validateVector(fraction, { convention: 'conditional', tolerance: 0.005 })).toEqual([]);
            expect(validateVector(weighted, { convention: 'conditional', tolerance: 0.005 })).toEqual([]);
            expect(Number(row.total_votes)).toBe(count.reduce((s, c) => s + c, 0));
            // every volunteer answers Q1
            expect(count[0] + count[1] + count[2]).toBe(Number(row.total_classifications));
            for (const q of QUESTIONS) {
              const answers = q.answers.map((a) => a.index);
              const total = answers.reduce((s, i) => s + count[i], 0);
              for (const i of answers) {
                expect(weight[i]).toBeLessThanOrEqual(count[i] + 1e-9);
                expect(weight[i]).toBeGreaterThanOrEqual(count[i] * 0.05 - 1e-3);
                expect(Math.abs(fraction[i] - (total > 0 ? count[i] / total : 0))).toBeLessThanOrEqual(0.0005 + 1e-12);
                expect(debiased[i]).toBeGreaterThanOrEqual(0);
                expect(debiased[i]).toBeLessThanOrEqual(1);
                if (total === 0) expect([fraction[i], weighted[i], debiased[i], flag[i]]).toEqual([0, 0, 0, 0]);
                expect(flag[i]).toBe(debiased[i] >= 0.8 && total >= 20 ? 1 : 0);
              }
            }
            expect(row.gz2class).toMatch(GZ2_CLASS);
            expect(row.gz2class).toBe(gz2Class(weighted));
            expect(['original', 'extra', 'stripe82']).toContain(row.sample);
            expect(row.rastring).toMatch(/^\d\d:\d\d:\d\d\.\d\d$/);
            expect(row.decstring).toMatch(/^[+-]\d\d:\d\d:\d\d\.\d$/);
          }
        },
      ),
      { numRuns: 6, seed: 14 },
    );
  }, 120_000);

  it('gz2class follows the majority answers down the tree', () => {
    const v = new Array<number>(37).fill(0);
    const set = (key: string, answer: string, value: number) => {
      v[ANSWERS.find((a) => a.gz2Column.startsWith(key) && a.key === answer)!.index] = value;
    };
    set('t01', 'smooth', 0.7);
    set('t01', 'features_or_disk', 0.3);
    set('t07', 'in_between', 0.6);
    set('t07', 'completely_round', 0.4);
    set('t06', 'no', 0.8);
    set('t06', 'yes', 0.2);
    expect(gz2Class(v)).toBe('Ei');
    set('t06', 'yes', 0.9);
    set('t08', 'merger', 0.5);
    set('t08', 'ring', 0.2);
    expect(gz2Class(v)).toBe('Ei(m)');
    set('t01', 'features_or_disk', 0.8);
    set('t02', 'no', 1);
    set('t03', 'bar', 0.6);
    set('t03', 'no_bar', 0.4);
    set('t04', 'spiral', 0.7);
    set('t05', 'obvious', 1);
    set('t11', 'two', 0.5);
    set('t10', 'medium', 0.6);
    expect(gz2Class(v)).toBe('SBb2m(m)');
    set('t02', 'yes', 2);
    set('t09', 'boxy', 1);
    expect(gz2Class(v)).toBe('Seb(m)');
    set('t01', 'star_or_artifact', 0.95);
    expect(gz2Class(v)).toBe('A');
  });

  it(
    'ingest accepts the data set: with images through the filename mapping, and labels only (every value ' + 'kind)',
    async () => {
      const set = await generateSyntheticDataset({
        outDir: fresh(),
        format: 'gz2',
        count: 30,
        rows: 45,
        seed: 3,
        size: 48,
      });
      expect(set.images).toBe(30);
      expect(set.rows).toBe(45);
      const withImages = await ingest(join(root, 'images.sqlite'), {
        format: 'gz2',
        labels: set.labelsPath,
        mapping: set.mappingPath!,
        images: set.imagesDir,
        split: [0.6, 0.2, 0.2],
      });
      expect(withImages.rows).toBe(45);
      expect(withImages.accepted).toBe(30);
      // the rows past `count` have no image, and only those are rejected
      expect(withImages.rejectedByReason).toEqual({ 'missing-image': 15 });
      expect(withImages.meta.strat_class_source).toBe('gz2_class');
      const catalogue = new Catalogue(withImages.catalogue);
      try {
        const galaxies = catalogue.galaxies();
        expect(galaxies.every((g) => g.imagePath !== null && existsSync(g.imagePath))).toBe(true);
        expect(galaxies.every((g) => g.counts !== null)).toBe(true);
      } finally {
        catalogue.close();
      }
      for (const values of ['weighted_fraction', 'fraction', 'debiased'] as const) {
        const options = { format: 'gz2', labels: set.labelsPath, labelsOnly: true, values } as const;
        const labels = await ingest(join(root, `labels-${values}.sqlite`), options);
        expect(labels.accepted, values).toBe(45);
        expect(labels.rejected, values).toBe(0);
      }
    },
    120_000,
  );

  it("a smaller count or fewer rows give a prefix of the Kaggle layout's images; labels only: none", async () => {
    const big = await generateSyntheticDataset({
      outDir: fresh(),
      format: 'gz2',
      count: 12,
      rows: 20,
      seed: 8,
      size: 32,
    });
    const small = await generateSyntheticDataset({
      outDir: fresh(),
      format: 'gz2',
      count: 5,
      rows: 9,
      seed: 8,
      size: 32,
    });
    const labelsOnly = { format: 'gz2', count: 12, rows: 20, seed: 8, size: 32, labelsOnly: true } as const;
    const labels = await generateSyntheticDataset({ ...labelsOnly, outDir: fresh() });
    const bigTable = (await readTable(big.labelsPath)).lines;
    expect((await readTable(small.labelsPath)).lines).toEqual(bigTable.slice(0, 10));
    expect((await readTable(labels.labelsPath)).lines).toEqual(bigTable);
    const mapping = (await readFile(big.mappingPath!, 'utf8')).trim().split('\n');
    expect((await readFile(small.mappingPath!, 'utf8')).trim().split('\n')).toEqual(mapping.slice(0, 10));
    const smallImages = (await readdir(small.imagesDir)).sort();
    expect(smallImages).toHaveLength(5);
    for (const file of smallImages) {
      expect((await readFile(join(small.imagesDir, file))).equals(await readFile(join(big.imagesDir, file)))).toBe(
        true,
      );
    }
    // galaxy i has the same pixels in both layouts: a GZ2 set can reuse a Kaggle set's images
    const kaggle = await generateSyntheticDataset({ outDir: fresh(), format: 'kaggle', count: 5, seed: 8, size: 32 });
    for (const file of smallImages) {
      expect((await readFile(join(kaggle.imagesDir, file))).equals(await readFile(join(small.imagesDir, file)))).toBe(
        true,
      );
    }
    expect(labels.images).toBe(0);
    expect(existsSync(labels.imagesDir)).toBe(false);
    const files = ['gz2_filename_mapping.csv', 'gz2_hart16.csv.gz', 'synthetic-manifest.json', 'truth.jsonl'];
    expect((await readdir(labels.outDir)).sort()).toEqual(files);
    // reused when asked again
    expect((await generateSyntheticDataset({ ...labelsOnly, outDir: labels.outDir })).reused).toBe(true);
  }, 120_000);

  it('refuses rows for the Kaggle layout and fewer rows than images, naming the option', async () => {
    await expect(generateSyntheticDataset({ outDir: fresh(), count: 5, rows: 9, seed: 1 })).rejects.toThrow(
      /rows .* gz2 format/,
    );
    await expect(
      generateSyntheticDataset({ outDir: fresh(), format: 'gz2', count: 5, rows: 3, seed: 1 }),
    ).rejects.toThrow(/rows must be an integer ≥ count/);
  });
});
