import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnsemblePredictor, PredictInputError } from '../../src/ensemble/predictor.js';
import { writeEnsembleDir } from '../../src/ensemble/ensemble-dir.js';
import { ANSWER_COUNT, TREE_VERSION, validateVector } from '../../src/questions/index.js';
import { saveTiny, tinyFlat, tinyHierarchical, writeJpegs } from './helpers.js';

let dir: string;
let images: string[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-predictor-'));
  images = await writeJpegs(join(dir, 'images'), 5);
  for (let m = 0; m < 3; m++) {
    const model = tinyHierarchical(10 + m);
    await saveTiny(model, join(dir, 'ens', `member-${m}`), 'hierarchical');
    model.dispose();
  }
  await writeEnsembleDir(join(dir, 'ens'), {
    members: [0, 1, 2].map((m) => ({ dir: join(dir, 'ens', `member-${m}`), weight: m + 1 })),
    tta: 'd4',
  });
  // the seed CNN needs ≥ 22 px: its own preprocessing, so the mixed ensemble preprocesses twice
  const flat = tinyFlat(5, 24);
  await saveTiny(flat, join(dir, 'flat'), 'flat', { mode: 'center', size: 24, channels: 1, centerCrop: 280 });
  flat.dispose();
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EnsemblePredictor', () => {
  it('loads a single saved model and predicts identically from a path, a Buffer and a Uint8Array', async () => {
    const p = await EnsemblePredictor.load(join(dir, 'ens', 'member-0'), { backend: 'cpu' });
    try {
      expect(p.members).toHaveLength(1);
      expect(p.views).toHaveLength(1);
      const bytes = readFileSync(images[0]);
      const fromPath = await p.predict(images[0]);
      const fromBuffer = await p.predict(bytes);
      const fromArray = await p.predict(
        new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      );
      expect(fromPath.source).toBe(images[0]);
      expect(Array.from(fromBuffer.cumulative)).toEqual(Array.from(fromPath.cumulative));
      expect(Array.from(fromArray.cumulative)).toEqual(Array.from(fromPath.cumulative));
      expect(fromPath.cumulative).toBeInstanceOf(Float32Array);
      expect(fromPath.cumulative).toHaveLength(ANSWER_COUNT);
      expect(fromPath.answers.q1.smooth).toBe(fromPath.cumulative[0]);
      expect(fromPath.answers.q11.cant_tell).toBe(fromPath.cumulative[36]);
      expect(Array.from(fromPath.uncertainty)).toEqual(new Array(ANSWER_COUNT).fill(0)); // one member, one view
      expect(
        validateVector(fromPath.cumulative, { convention: 'cumulative', tolerance: 1e-5, q6Reach: 'kaggle' }),
      ).toEqual([]);
      expect(validateVector(fromPath.conditional, { convention: 'conditional', tolerance: 1e-5 })).toEqual([]);
    } finally {
      p.dispose();
    }
  });

  it('averages members in cumulative space with their weights over the D4 views, and reports the spread', async () => {
    const ens = await EnsemblePredictor.load(join(dir, 'ens'));
    const singles = await Promise.all(
      [0, 1, 2].map((m) => EnsemblePredictor.load(join(dir, 'ens', `member-${m}`), { tta: 'd4' })),
    );
    try {
      expect(ens.members.map((m) => m.weight)).toEqual([1 / 6, 2 / 6, 3 / 6]);
      expect(ens.viewCount).toBe(24);
      const [e] = await ens.predictMany([images[1]]);
      const parts = await Promise.all(singles.map((s) => s.predict(images[1])));
      if (!e.ok) throw e.error;
      for (let a = 0; a < ANSWER_COUNT; a++) {
        const want = (1 * parts[0].cumulative[a] + 2 * parts[1].cumulative[a] + 3 * parts[2].cumulative[a]) / 6;
        expect(e.prediction.cumulative[a]).toBeCloseTo(want, 6);
      }
      expect(Math.max(...e.prediction.uncertainty)).toBeGreaterThan(0);
      expect(
        validateVector(e.prediction.cumulative, { convention: 'cumulative', tolerance: 1e-5, q6Reach: 'kaggle' }),
      ).toEqual([]);
      const cond = await EnsemblePredictor.load(join(dir, 'ens'), { convention: 'conditional' });
      const c = await cond.predict(images[1]);
      expect(c.answers.q2.yes).toBeCloseTo(c.conditional[3], 7);
      expect(c.answers.q2.yes + c.answers.q2.no).toBeCloseTo(1, 5);
      cond.dispose();
    } finally {
      ens.dispose();
      for (const s of singles) s.dispose();
    }
  });

  it('projects a flat member onto the tree before averaging it with hierarchical members', async () => {
    const mixed = join(dir, 'mixed');
    await writeEnsembleDir(mixed, { members: [join(dir, 'flat'), join(dir, 'ens', 'member-0')] });
    const p = await EnsemblePredictor.load(mixed);
    try {
      expect(p.members.map((m) => [m.kind, m.projected])).toEqual([
        ['flat', true],
        ['hierarchical', false],
      ]);
      expect(p.preprocessings.map((q) => q.size)).toEqual([24, 16]);
      const r = await p.predict(images[2]);
      expect(validateVector(r.cumulative, { convention: 'cumulative', tolerance: 1e-5, q6Reach: 'kaggle' })).toEqual(
        [],
      );
    } finally {
      p.dispose();
    }
  });

  it('batches many inputs, in order, and one bad image does not lose the others', async () => {
    const corrupt = join(dir, 'corrupt.jpg');
    const bytes = readFileSync(images[0]);
    writeFileSync(corrupt, bytes.subarray(0, 200));
    const notJpeg = join(dir, 'notes.jpg');
    writeFileSync(notJpeg, 'hello');
    const missing = join(dir, 'missing.jpg');
    const p = await EnsemblePredictor.load(join(dir, 'ens'), { tta: 'none' });
    try {
      const progress: number[] = [];
      const inputs = [images[0], missing, images[1], corrupt, notJpeg, images[2], { name: 'mem.jpg', data: bytes }];
      const out = await p.predictMany(inputs, { batchSize: 3, onProgress: (done) => progress.push(done) });
      expect(out.map((o) => o.ok)).toEqual([true, false, true, false, false, true, true]);
      expect(progress).toEqual([3, 6, 7]);
      expect(out.map((o) => o.source)).toEqual([images[0], missing, images[1], corrupt, notJpeg, images[2], 'mem.jpg']);
      const errors = out.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.error.message));
      expect(errors[0]).toMatch(new RegExp(`^${missing}: cannot read file: ENOENT`));
      expect(errors[1]).toMatch(new RegExp(`^${corrupt}: `));
      expect(errors[2]).toMatch(new RegExp(`^${notJpeg}: not a JPEG`));
      const alone = await p.predict(images[1]);
      const batched = out[2];
      if (!batched.ok) throw batched.error;
      for (let a = 0; a < ANSWER_COUNT; a++)
        expect(batched.prediction.cumulative[a]).toBeCloseTo(alone.cumulative[a], 6);
      await expect(p.predict(missing)).rejects.toBeInstanceOf(PredictInputError);
      await expect(p.predict(Buffer.from('nope'))).rejects.toThrow(/^buffer #0: not a JPEG/);
    } finally {
      p.dispose();
    }
  });

  it('D4 TTA on a rotation- and mirror-invariant image gives zero spread', async () => {
    const p = await EnsemblePredictor.load(join(dir, 'ens', 'member-1'), { tta: 'd4' });
    try {
      // symmetric under all 8 square symmetries: a function of the sorted |offsets| from the centre
      const S = 16;
      const pixels = new Uint8Array(S * S);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const dx = Math.abs(x - (S - 1) / 2);
          const dy = Math.abs(y - (S - 1) / 2);
          pixels[y * S + x] = Math.round(255 * Math.exp(-(dx * dx + dy * dy) / 20) + 10 * Math.min(dx, dy));
        }
      }
      const [r] = await p.predictPixels([pixels], 1);
      expect(r.views).toBe(8);
      expect(Math.max(...r.uncertainty)).toBeLessThan(1e-6);
      expect(Math.max(...r.conditionalUncertainty)).toBeLessThan(1e-5);
      // and a non-symmetric image does spread
      const ramp = pixels.map((_, i) => (i % S) * 16);
      const [s] = await p.predictPixels([ramp], 1);
      expect(Math.max(...s.uncertainty)).toBeGreaterThan(1e-4);
    } finally {
      p.dispose();
    }
  });

  it('supports a configured rotations × flips × zooms TTA grid', async () => {
    const p = await EnsemblePredictor.load(join(dir, 'ens', 'member-0'), {
      tta: { rotations: [0, 45, 90], flips: true, zooms: [1, 1.1] },
    });
    try {
      expect(p.views).toHaveLength(12);
      const r = await p.predict(images[3]);
      expect(r.views).toBe(12);
      expect(validateVector(r.cumulative, { convention: 'cumulative', tolerance: 1e-5, q6Reach: 'kaggle' })).toEqual(
        [],
      );
    } finally {
      p.dispose();
    }
  });
});

describe('bad options and inputs', () => {
  it(
    'refuses bad load options at load, bad predictMany options at the call, and reports a non-image input as a ' +
      'failed entry',
    async () => {
      const member = join(dir, 'ens', 'member-0');
      await expect(EnsemblePredictor.load(member, { predictBatchSize: 0 })).rejects.toThrow(
        /predictBatchSize must be a positive integer, got 0/,
      );
      await expect(EnsemblePredictor.load(member, { q6Reach: 'bogus' as 'tree' })).rejects.toThrow(
        /q6Reach must be kaggle or tree, got bogus/,
      );
      const p = await EnsemblePredictor.load(member);
      try {
        await expect(p.predictMany([images[0]], { concurrency: Number.NaN })).rejects.toThrow(
          /concurrency must be a positive integer, got NaN/,
        );
        await expect(p.predictMany(images[0] as unknown as string[])).rejects.toThrow(/takes an array of inputs/);
        const out = await p.predictMany([
          null as unknown as string,
          new ArrayBuffer(4) as unknown as Uint8Array,
          images[0],
        ]);
        expect(out.map((o) => o.ok)).toEqual([false, false, true]);
        expect(out.slice(0, 2).map((o) => (o.ok ? '' : o.error.message))).toEqual([
          'input #0: not a path, Buffer, Uint8Array or { name, data: Uint8Array }',
          'input #1: not a path, Buffer, Uint8Array or { name, data: Uint8Array }',
        ]);
      } finally {
        p.dispose();
      }
    },
  );

  it('takes the path of a model.json, manifest.json or ensemble.json as its folder', async () => {
    for (const file of [
      join(dir, 'ens', 'member-0', 'model.json'),
      join(dir, 'ens', 'member-0', 'manifest.json'),
      join(dir, 'ens', 'ensemble.json'),
    ]) {
      const p = await EnsemblePredictor.load(file);
      expect(p.members.length, file).toBe(file.endsWith('ensemble.json') ? 3 : 1);
      p.dispose();
    }
  });
});

describe('bad model directories', () => {
  it('names the missing directory or file', async () => {
    await expect(EnsemblePredictor.load(join(dir, 'nowhere'))).rejects.toThrow(
      new RegExp(`${join(dir, 'nowhere')}: no such model or ensemble directory`),
    );
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    await expect(EnsemblePredictor.load(empty)).rejects.toThrow(new RegExp(`^${empty}: neither ensemble.json`));
    const noManifest = join(dir, 'no-manifest');
    mkdirSync(noManifest, { recursive: true });
    copyFileSync(join(dir, 'ens', 'member-0', 'model.json'), join(noManifest, 'model.json'));
    await expect(EnsemblePredictor.load(noManifest)).rejects.toThrow(
      new RegExp(`${join(noManifest, 'manifest.json')}: missing`),
    );
  });

  it('refuses a manifest from another tree version, naming the file', async () => {
    const other = join(dir, 'other-tree');
    const model = tinyHierarchical(3);
    await saveTiny(model, other, 'hierarchical', undefined, { treeVersion: 'gz2-kaggle-37/0' });
    model.dispose();
    const file = join(other, 'manifest.json');
    await expect(EnsemblePredictor.load(other)).rejects.toThrow(
      new RegExp(
        `^${file}: model was saved for decision tree version "gz2-kaggle-37/0", but this build uses "${TREE_VERSION}"`,
      ),
    );
    // also when it is one member of an ensemble
    const ens = join(dir, 'ens-bad');
    await writeEnsembleDir(ens, { members: [join(dir, 'ens', 'member-0')] });
    const spec = JSON.parse(readFileSync(join(ens, 'ensemble.json'), 'utf8'));
    spec.members.push({ dir: '../other-tree' });
    writeFileSync(join(ens, 'ensemble.json'), JSON.stringify(spec));
    await expect(EnsemblePredictor.load(ens)).rejects.toThrow(
      new RegExp(`^${file}: model was saved for decision tree version`),
    );
  });

  it('names a corrupt ensemble.json, a corrupt model.json and a model without recorded preprocessing', async () => {
    const bad = join(dir, 'bad-ens');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'ensemble.json'), '{ not json');
    await expect(EnsemblePredictor.load(bad)).rejects.toThrow(
      new RegExp(`^${join(bad, 'ensemble.json')}: cannot read ensemble description`),
    );
    writeFileSync(
      join(bad, 'ensemble.json'),
      JSON.stringify({ format: 'gzh-ensemble', formatVersion: 1, members: [{ dir: 'x', weight: -1 }] }),
    );
    await expect(EnsemblePredictor.load(bad)).rejects.toThrow(/members\[0\]\.weight must be a finite number ≥ 0/);

    const brokenModel = join(dir, 'broken-model');
    const model = tinyHierarchical(4);
    await saveTiny(model, brokenModel, 'hierarchical');
    model.dispose();
    writeFileSync(join(brokenModel, 'model.json'), '{"modelTopology": 1');
    await expect(EnsemblePredictor.load(brokenModel)).rejects.toThrow(
      new RegExp(`^${join(brokenModel, 'model.json')}: not a readable model.json`),
    );

    const raw = join(dir, 'raw-model');
    const m2 = tinyHierarchical(5);
    await saveTiny(m2, raw, 'hierarchical', null);
    m2.dispose();
    await expect(EnsemblePredictor.load(raw)).rejects.toThrow(
      new RegExp(`^${join(raw, 'manifest.json')}: no preprocessing recorded`),
    );
    const p = await EnsemblePredictor.load(raw, {
      preprocessing: { mode: 'center', size: 16, channels: 1, centerCrop: 300 },
    });
    expect((await p.predict(images[0])).cumulative).toHaveLength(ANSWER_COUNT);
    p.dispose();
  });
});
