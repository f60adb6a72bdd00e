import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_ID_START, generateSyntheticDataset, formatFraction } from '../../../src/data/synthetic/index.js';
import { KAGGLE_COLUMNS, validateVector } from '../../../src/questions/index.js';
import { DATA } from '../../helpers/data.js';

let root: string;
const base = { count: 24, seed: 77, size: 48 } as const;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gzh-synthetic-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readDataset(dir: string) {
  const images = (await readdir(join(dir, 'images_training_rev1'))).sort();
  const bytes = await Promise.all(images.map((f) => readFile(join(dir, 'images_training_rev1', f))));
  return {
    csv: await readFile(join(dir, 'training_solutions_rev1.csv'), 'utf8'),
    counts: await readFile(join(dir, 'vote_counts.csv'), 'utf8'),
    truth: await readFile(join(dir, 'truth.jsonl'), 'utf8'),
    images,
    bytes,
  };
}

describe('synthetic dataset writer', () => {
  it('writes a Kaggle-format directory: header, numeric ids, one JPEG per row, valid rows', async () => {
    const out = join(root, 'a');
    const result = await generateSyntheticDataset({ ...base, outDir: out });
    expect(result.reused).toBe(false);
    const ds = await readDataset(out);
    const lines = ds.csv.trim().split('\n');
    expect(lines[0]).toBe(['GalaxyID', ...KAGGLE_COLUMNS].join(','));
    if (existsSync(DATA.kaggleSolutions)) {
      expect(lines[0]).toBe(readFileSync(DATA.kaggleSolutions, 'utf8').split('\n')[0].trim());
    }
    expect(lines).toHaveLength(base.count + 1);
    const ids = lines.slice(1).map((l) => l.split(',')[0]);
    expect(ids).toEqual(Array.from({ length: base.count }, (_, i) => String(SYNTHETIC_ID_START + i)));
    expect(ds.images).toEqual([...ids].sort().map((id) => `${id}.jpg`));
    for (const line of lines.slice(1)) {
      const values = line.split(',').slice(1).map(Number);
      expect(values).toHaveLength(37);
      expect(line).not.toMatch(/e-|NaN/);
      expect(validateVector(values, { convention: 'cumulative', q6Reach: 'kaggle', tolerance: 1e-6 })).toEqual([]);
    }
    const truth = ds.truth
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; kind: string });
    expect(truth.map((g) => String(g.id))).toEqual(ids);
    expect(ds.counts.trim().split('\n')).toHaveLength(base.count + 1);
  });

  it('writes 3-channel JPEGs of the requested size', async () => {
    const dir = join(root, 'a', 'images_training_rev1');
    for (const file of (await readdir(dir)).slice(0, 5)) {
      const meta = await sharp(join(dir, file)).metadata();
      expect(meta.format).toBe('jpeg');
      expect(meta.width).toBe(base.size);
      expect(meta.height).toBe(base.size);
      expect(meta.channels).toBe(3);
    }
  });

  it('is deterministic: the same parameters give byte-identical files; a smaller count is a prefix', async () => {
    const a = await readDataset(join(root, 'a'));
    await generateSyntheticDataset({ ...base, outDir: join(root, 'b') });
    const b = await readDataset(join(root, 'b'));
    expect(b.csv).toBe(a.csv);
    expect(b.counts).toBe(a.counts);
    expect(b.truth).toBe(a.truth);
    expect(b.images).toEqual(a.images);
    b.bytes.forEach((bytes, i) => expect(bytes.equals(a.bytes[i])).toBe(true));

    await generateSyntheticDataset({ ...base, count: 10, outDir: join(root, 'prefix') });
    const p = await readDataset(join(root, 'prefix'));
    expect(p.csv.trim().split('\n')).toEqual(a.csv.trim().split('\n').slice(0, 11));
    p.bytes.forEach((bytes, i) => expect(bytes.equals(a.bytes[i])).toBe(true));
  });

  it('reuses a complete dataset with the same parameters and regenerates on a change', async () => {
    const out = join(root, 'a');
    const again = await generateSyntheticDataset({ ...base, outDir: out });
    expect(again.reused).toBe(true);
    const before = await readFile(join(out, 'training_solutions_rev1.csv'), 'utf8');
    const changed = await generateSyntheticDataset({ ...base, seed: 78, outDir: out });
    expect(changed.reused).toBe(false);
    expect(await readFile(join(out, 'training_solutions_rev1.csv'), 'utf8')).not.toBe(before);
    // No temporary directories are left behind.
    expect((await readdir(root)).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
  });

  it('writes labels only: the same label files, no image folder', async () => {
    const out = join(root, 'labels-only');
    const result = await generateSyntheticDataset({ ...base, outDir: out, labelsOnly: true });
    expect(result.images).toBe(0);
    expect(existsSync(result.imagesDir)).toBe(false);
    const files = ['synthetic-manifest.json', 'training_solutions_rev1.csv', 'truth.jsonl', 'vote_counts.csv'];
    expect((await readdir(out)).sort()).toEqual(files);
    const full = await readDataset(join(root, 'b'));
    expect(await readFile(join(out, 'training_solutions_rev1.csv'), 'utf8')).toBe(full.csv);
    expect(await readFile(join(out, 'vote_counts.csv'), 'utf8')).toBe(full.counts);
  });

  it('refuses to overwrite a directory that is not a synthetic dataset', async () => {
    const foreign = join(root, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'keep me');
    await expect(generateSyntheticDataset({ ...base, count: 2, outDir: foreign })).rejects.toThrow(/refusing/);
    expect(await readFile(join(foreign, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('formats fractions like the Kaggle CSV: plain decimals, no exponents', () => {
    expect(formatFraction(0)).toBe('0');
    expect(formatFraction(1)).toBe('1');
    expect(formatFraction(0.5)).toBe('0.5');
    expect(formatFraction(1 / 3)).toBe('0.333333333');
    expect(formatFraction(1e-12)).toBe('0');
    expect(formatFraction(2.5e-7)).toBe('0.00000025');
  });
});
