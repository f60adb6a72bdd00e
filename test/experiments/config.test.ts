import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  answerIndex,
  deepMerge,
  loadExperimentConfig,
  parseExperimentConfig,
} from '../../src/experiments/config.js';

const EXPERIMENTS = resolve(__dirname, '../../experiments');

const minimal = () => ({
  name: 'tiny',
  data: { source: 'synthetic', synthetic: { count: 100, size: 32 } },
  preprocess: { size: 24 },
  model: { kind: 'flat' },
  training: { epochs: 1 },
});

function problemsOf(raw: unknown): string[] {
  try {
    parseExperimentConfig(raw, { dataDir: '/data' });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('shipped experiment configs', () => {
  const files = readdirSync(EXPERIMENTS).filter((f) => f.endsWith('.json'));
  it('ships the four required configs', () => {
    expect(files).toEqual(
      expect.arrayContaining(['demo.json', 'kaggle-sample-compare.json', 'gz2-sample.json', 'per-question.json']),
    );
  });
  for (const file of files) {
    it(`${file} validates`, () => {
      const exp = loadExperimentConfig(join(EXPERIMENTS, file), { dataDir: '/data' });
      expect(exp.variants.length).toBeGreaterThanOrEqual(1);
      expect(exp.hash).toMatch(/^[0-9a-f]{64}$/);
    });
  }
  it('demo is synthetic, flat vs hierarchical', () => {
    const exp = loadExperimentConfig(join(EXPERIMENTS, 'demo.json'));
    expect(exp.data.source).toBe('synthetic');
    expect(exp.variants.map((v) => v.settings.model.kind)).toEqual(['flat', 'hierarchical']);
    expect(exp.data.synthetic!.count).toBeLessThanOrEqual(2000);
  });
  it('kaggle compare resolves ${dataDir} and has flat, hierarchical and an ensemble', () => {
    const exp = loadExperimentConfig(join(EXPERIMENTS, 'kaggle-sample-compare.json'), { dataDir: '/data' });
    expect(exp.data.path).toBe(resolve('/data/kaggle-gz-sample'));
    expect(exp.data.convention).toBe('cumulative');
    expect(exp.variants.map((v) => [v.settings.model.kind, v.settings.ensemble.size])).toEqual([
      ['flat', 1],
      ['hierarchical', 1],
      ['hierarchical', 3],
    ]);
    // The ensemble's members differ in crop and loss; member 1 is the single hierarchical model's recipe.
    const members = exp.variants[2].members;
    expect(members[0].settings).toBe(exp.variants[2].settings);
    expect(members.map((m) => [m.settings.preprocess.centerCrop, m.settings.loss.kind])).toEqual([
      [207, 'mse'],
      [160, 'mse'],
      [207, 'cross-entropy'],
    ]);
    const other = loadExperimentConfig(join(EXPERIMENTS, 'kaggle-sample-compare.json'), { dataPath: '/full/kaggle' });
    expect(other.data.path).toBe(resolve('/full/kaggle'));
  });
  it('gz2 sample is conditional with debiased labels', () => {
    const exp = loadExperimentConfig(join(EXPERIMENTS, 'gz2-sample.json'), { dataDir: '/data' });
    expect(exp.data).toMatchObject({ source: 'gz2', convention: 'conditional', labels: 'debiased' });
  });
  it('per-question trains the per-question model', () => {
    const exp = loadExperimentConfig(join(EXPERIMENTS, 'per-question.json'), { dataDir: '/data' });
    expect(exp.variants[0].settings.model.kind).toBe('per-question');
  });
});

describe('config validation errors', () => {
  it('names the field and the allowed values of an enum', () => {
    const problems = problemsOf({ ...minimal(), model: { kind: 'flatt' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('model.kind');
    expect(problems[0]).toContain('"flatt"');
    expect(problems[0]).toContain('"flat", "hierarchical", "per-question"');
  });
  it('names unknown fields and lists the allowed ones', () => {
    const problems = problemsOf({ ...minimal(), training: { epochs: 1, epoch: 3 } });
    expect(problems[0]).toMatch(/^training: unknown field "epoch"; allowed fields: epochs, maxMinutes, batchSize$/);
  });
  it('lists the allowed fields of nested sections, array items and ensemble members', () => {
    expect(problemsOf({ ...minimal(), callbacks: { earlyStopping: { patience: 2, mode: 'min' } } })).toEqual([
      'callbacks.earlyStopping: unknown field "mode"; allowed fields: monitor, patience, minDelta',
    ]);
    expect(problemsOf({ ...minimal(), ensemble: { size: 2, members: [{}, { seed: 3 }] } })).toEqual([
      'ensemble.members[1]: unknown field "seed"; allowed fields: label, preprocess, model, augment, loss',
    ]);
    expect(problemsOf({ ...minimal(), variants: [{ name: 'a', model: { kind: 'flat', width: 3 } }] })).toEqual([
      expect.stringMatching(
        /^variants\[0\] \("a"\): model: unknown field "width"; allowed fields: kind, trunk, group, /,
      ),
    ]);
  });
  it('reports missing required fields and wrong types with the path', () => {
    const raw = minimal() as Record<string, unknown>;
    delete raw.training;
    const problems = problemsOf({ ...raw, seed: 'x', preprocess: { size: 24.5 } });
    expect(problems).toEqual(
      expect.arrayContaining([
        'training: is required (expected an object)',
        'seed: expected a number, got "x"',
        'preprocess.size: expected an integer, got 24.5',
      ]),
    );
  });
  it('reports ranges', () => {
    const problems = problemsOf({ ...minimal(), training: { epochs: 0 } });
    expect(problems).toEqual(['training.epochs: must be ≥ 1, got 0']);
  });
  it('prefixes problems that only a variant introduces with the variant', () => {
    const problems = problemsOf({
      ...minimal(),
      variants: [{ name: 'a' }, { name: 'b', model: { kind: 'tree' } }, { name: 'c', ensemble: { tta: 'd8' } }],
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^variants\[1\] \("b"\): model\.kind: "tree" is not allowed; allowed values: "flat"/);
    expect(problems[1]).toContain(
      'variants[2] ("c"): ensemble.tta: "d8" is not allowed; allowed values: "none", "flip", "rot4", "d4"',
    );
  });
  it('rejects variants that try to change the shared data, split or cache', () => {
    const problems = problemsOf({
      ...minimal(),
      variants: [{ name: 'a', data: { trainFraction: 0.5, split: { test: 0.3 } } }],
    });
    expect(problems[0]).toBe('variants[0].data: unknown field "split"; allowed fields: trainFraction');
    expect(problemsOf({ ...minimal(), variants: [{ name: 'a', data: { trainFraction: 0 } }] })[0]).toMatch(
      /^variants\[0\]\.data\.trainFraction: must be > 0/,
    );
    expect(problemsOf({ ...minimal(), data: { ...minimal().data, trainFraction: 1.5 } })[0]).toMatch(
      /^data\.trainFraction: must be ≤ 1/,
    );
    expect(problemsOf({ ...minimal(), variants: [{ name: 'a', preprocess: { cacheDir: '/x' } }] })).toEqual([
      'variants[0] ("a"): preprocess.cacheDir: variants share the experiment\'s cache directory; set it in the ' +
        'base preprocess',
    ]);
  });
  it('lets a variant set its own epoch budget and training fraction, the rest of the data staying shared', () => {
    const exp = parseExperimentConfig(
      {
        ...minimal(),
        training: { epochs: 6, batchSize: 8 },
        data: { ...minimal().data, trainFraction: 0.5 },
        variants: [{ name: 'half' }, { name: 'quarter-short', data: { trainFraction: 0.25 }, training: { epochs: 2 } }],
      },
      { dataDir: '/data' },
    );
    const [half, quarter] = exp.variants.map((v) => v.settings);
    expect([half.data.trainFraction, half.training.epochs, half.training.batchSize]).toEqual([0.5, 6, 8]);
    expect([quarter.data.trainFraction, quarter.training.epochs, quarter.training.batchSize]).toEqual([0.25, 2, 8]);
    expect(quarter.data.synthetic).toEqual(half.data.synthetic);
    expect(exp.data).not.toHaveProperty('trainFraction');
  });
  it('rejects an empty variant list, and --data-path on a config that generates synthetic data', () => {
    expect(problemsOf({ ...minimal(), variants: [] })[0]).toMatch(/^variants: /);
    const synthetic = { ...minimal(), data: { source: 'synthetic', synthetic: { count: 30, size: 16 } } };
    expect(() => parseExperimentConfig(synthetic, { dataPath: '/mine' })).toThrow(
      /--data-path: this config generates synthetic data .* which would replace \/mine/,
    );
  });

  it('rejects duplicate variant names and unknown report answers', () => {
    const problems = problemsOf({
      ...minimal(),
      report: { answers: ['Class1.1', 'Class12.1'] },
      variants: [{ name: 'a' }, { name: 'a' }],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'variants[1].name: duplicate variant name "a"',
        expect.stringContaining(
          'report.answers[1]: unknown answer "Class12.1"; allowed values: Kaggle ids Class1.1 … Class11.6',
        ),
      ]),
    );
  });
  it('checks cross-field rules', () => {
    expect(problemsOf({ ...minimal(), data: { source: 'synthetic' } })[0]).toContain(
      'data.synthetic: is required when data.source is "synthetic"',
    );
    expect(problemsOf({ ...minimal(), loss: { kind: 'cross-entropy' } })[0]).toContain('loss.kind');
  });
  it('reports unknown placeholders', () => {
    const problems = problemsOf({ ...minimal(), output: { dir: '${nowhere}/runs' } });
    expect(problems[0]).toContain('output.dir: unknown placeholder ${nowhere}');
  });
  it('reports unreadable files and bad JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-config-'));
    writeFileSync(join(dir, 'bad.json'), '{ "name": ');
    expect(() => loadExperimentConfig(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
    expect(() => loadExperimentConfig(join(dir, 'missing.json'))).toThrow(/cannot read the file/);
  });
});

describe('config resolution', () => {
  it('fills defaults and makes one variant from the base when none are listed', () => {
    const exp = parseExperimentConfig(minimal(), { configDir: '/cfg', dataDir: '/data' });
    expect(exp.variants).toHaveLength(1);
    const s = exp.variants[0].settings;
    expect(s.optimizer).toMatchObject({ kind: 'adam', learningRate: 1e-3 });
    expect(s.training.batchSize).toBe(32);
    expect(s.ensemble).toEqual({ size: 1, tta: 'none' });
    expect(exp.data.path).toContain('synthetic');
  });
  it('resolves relative paths against the config directory', () => {
    const exp = parseExperimentConfig(
      { ...minimal(), data: { source: 'kaggle', path: 'data/k' }, output: { dir: 'out' } },
      { configDir: '/cfg' },
    );
    expect(exp.data.path).toBe(resolve('/cfg/data/k'));
    expect(exp.outputDir).toBe(resolve('/cfg/out'));
  });
  it('merges variant overrides deeply over the base', () => {
    const exp = parseExperimentConfig(
      {
        ...minimal(),
        model: { kind: 'flat', filters: [8, 16], dropout: 0.1 },
        variants: [{ name: 'h', model: { kind: 'hierarchical', dropout: 0.5 } }],
      },
      {},
    );
    expect(exp.variants[0].settings.model).toEqual({ kind: 'hierarchical', filters: [8, 16], dropout: 0.5 });
  });
  it('lets a variant have its own preprocessing', () => {
    const exp = parseExperimentConfig(
      { ...minimal(), variants: [{ name: 'a' }, { name: 'b', preprocess: { centerCrop: 160, channels: 1 } }] },
      {},
    );
    expect(exp.variants[1].settings.preprocess).toMatchObject({
      method: 'center',
      size: 24,
      centerCrop: 160,
      channels: 1,
    });
    expect(exp.variants[1].settings.preprocess.cacheDir).toBe(exp.variants[0].settings.preprocess.cacheDir);
    expect(exp.variants[1].members[0].settings).toBe(exp.variants[1].settings);
  });
  it('resolves per-member overrides of an ensemble; members past the list keep the variant settings', () => {
    const exp = parseExperimentConfig(
      {
        ...minimal(),
        model: { kind: 'hierarchical' },
        variants: [
          {
            name: 'ens',
            ensemble: {
              size: 3,
              tta: 'd4',
              members: [{}, { preprocess: { method: 'contour', size: 20 }, model: { dropout: 0.3 } }],
            },
          },
        ],
      },
      { dataDir: '/data' },
    );
    const [first, second, third] = exp.variants[0].members;
    expect(exp.variants[0].members).toHaveLength(3);
    expect(first.settings).toBe(exp.variants[0].settings);
    expect(first.label).toBe('');
    expect(second.settings.preprocess).toMatchObject({ method: 'contour', size: 20, channels: 3, centerCrop: 207 });
    expect(second.settings.preprocess.cacheDir).toBe(first.settings.preprocess.cacheDir);
    expect(second.settings.model).toEqual({ kind: 'hierarchical', dropout: 0.3 });
    expect(second.settings.training).toEqual(first.settings.training);
    expect(second.label).toBe('preprocess.method contour, preprocess.size 20, model.dropout 0.3');
    expect(third.settings).toBe(exp.variants[0].settings);
    const labelled = parseExperimentConfig(
      { ...minimal(), ensemble: { size: 2, members: [{ label: 'wide crop', preprocess: { centerCrop: 300 } }] } },
      {},
    );
    expect(labelled.variants[0].members.map((m) => m.label)).toEqual(['wide crop', '']);
    // Member settings are part of the run's identity.
    const plain = parseExperimentConfig({ ...minimal(), ensemble: { size: 2 } }, {});
    expect(labelled.hash).not.toBe(plain.hash);
  });
  it('reports bad member overrides with the variant and member', () => {
    expect(problemsOf({ ...minimal(), ensemble: { size: 2, members: [{}, {}, {}] } })).toEqual([
      'ensemble.members: lists 3 members but size is 2',
    ]);
    const problems = problemsOf({
      ...minimal(),
      variants: [
        {
          name: 'e',
          ensemble: { size: 2, members: [{}, { preprocess: { method: 'blur' }, augment: { outputSize: 99 } }] },
        },
      ],
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^variants\[0\] \("e"\): ensemble\.members\[1\]: preprocess\.method: "blur" is not allowed; allowed values: "contour", "center"/,
      ),
    ]);
    expect(problemsOf({ ...minimal(), ensemble: { size: 2, members: [{}, { augment: { outputSize: 99 } }] } })).toEqual(
      ['variants[0] ("flat"): ensemble.members[1]: augment.outputSize: must be ≤ preprocess.size (24), got 99'],
    );
    expect(
      problemsOf({ ...minimal(), ensemble: { size: 2, members: [{ preprocess: { cacheDir: '/x' } }] } })[0],
    ).toContain("ensemble.members[0].preprocess.cacheDir: members share the experiment's cache directory");
    expect(problemsOf({ ...minimal(), ensemble: { size: 2, members: [{ training: { epochs: 9 } }] } })[0]).toContain(
      'ensemble.members[0]: unknown field "training"',
    );
  });
  it('hash depends on settings, not on descriptions or machine paths', () => {
    const a = parseExperimentConfig(minimal(), { dataDir: '/a' }).hash;
    const b = parseExperimentConfig(
      { ...minimal(), description: 'x' },
      { dataDir: '/b', outputDir: '/elsewhere' },
    ).hash;
    const c = parseExperimentConfig({ ...minimal(), seed: 1 }, {}).hash;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
  it('answer ids and merging helpers', () => {
    expect(answerIndex('Class1.1')).toBe(0);
    expect(answerIndex('q1.smooth')).toBe(0);
    expect(answerIndex('Class11.6')).toBe(36);
    expect(answerIndex('nope')).toBeUndefined();
    expect(deepMerge({ a: { b: 1, c: [1] } }, { a: { c: [2] } })).toEqual({ a: { b: 1, c: [2] } });
  });
});
