import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSplitFile, readSplitFile, writeSplitFile } from '../../src/experiments/split-file.js';

const dir = mkdtempSync(join(tmpdir(), 'gzh-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('split.json', () => {
  it('round-trips, and is found from a model folder or file up to four levels below the run', () => {
    const run = join(dir, 'run');
    const model = join(run, 'variants', 'v', 'member-0', 'model');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'model.json'), '{}');
    const ids = { train: ['1', '2'], validation: ['3'], test: ['4', '5'] };
    const file = writeSplitFile(run, { catalogue: '/c.sqlite', seed: 7, ids });
    expect(readSplitFile(file)).toEqual({
      format: 'gzh-split',
      formatVersion: 1,
      catalogue: '/c.sqlite',
      seed: 7,
      ids,
    });
    expect(findSplitFile(model)).toBe(file);
    expect(findSplitFile(join(model, 'model.json'))).toBe(file);
    expect(findSplitFile(join(model, 'deeper'), 4)).toBeNull(); // five levels below
    expect(findSplitFile(join(dir, 'elsewhere'))).toBeNull();
  });

  it('names the file when it is unreadable or not a split', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => readSplitFile(bad)).toThrow(new RegExp(`^${bad}: cannot read the split`));
    writeFileSync(
      bad,
      JSON.stringify({ format: 'gzh-split', formatVersion: 1, ids: { train: [], validation: [], test: [1] } }),
    );
    expect(() => readSplitFile(bad)).toThrow(/ids\.test must be a list of GalaxyIDs/);
    writeFileSync(bad, JSON.stringify({ format: 'other' }));
    expect(() => readSplitFile(bad)).toThrow(/not a gzh-split file/);
    expect(() => readSplitFile(join(dir, 'missing.json'))).toThrow(/cannot read the split: ENOENT/);
  });
});
