/**
 * Equivariant trunks from experiment configs: the schema accepts exactly the trunk names, groups
 * and merge modes the models know, the shipped comparison config resolves to the intended trunks,
 * and options that contradict the trunk are refused with the field named.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { loadExperimentConfig, parseExperimentConfig } from '../../../src/experiments/config.js';
import { inputSize, modelSpec } from '../../../src/experiments/recipe.js';
import { GROUP_NAMES, POOL_MODES } from '../../../src/models/equivariant/index.js';
import { TRUNK_KINDS, trunkFromFields } from '../../../src/models/trunk.js';
import { packageRoot } from '../../../src/util/project.js';

function withModel(model: Record<string, unknown>) {
  return parseExperimentConfig({
    name: 'eq',
    data: { source: 'synthetic', synthetic: { count: 30, size: 32 } },
    preprocess: { size: 32 },
    model,
    training: { epochs: 1 },
  });
}

describe('model schema', () => {
  it('accepts every trunk kind, group and merge mode the models define, and nothing else', () => {
    for (const trunk of TRUNK_KINDS) expect(() => withModel({ kind: 'hierarchical', trunk })).not.toThrow();
    for (const group of GROUP_NAMES)
      expect(() => withModel({ kind: 'hierarchical', trunk: 'cyclic', group })).not.toThrow();
    for (const merge of POOL_MODES)
      expect(() => withModel({ kind: 'hierarchical', trunk: 'views', merge })).not.toThrow();
    expect(() => withModel({ kind: 'hierarchical', trunk: 'p8' })).toThrow(
      /model\.trunk: "p8" is not allowed; allowed values: "seed", "deep", "cyclic", "views", "gconv"/,
    );
    expect(() => withModel({ kind: 'hierarchical', trunk: 'gconv', group: 'c8' })).toThrow(/model\.group/);
  });
});

describe('trunkFromFields', () => {
  it('maps config fields onto each trunk and refuses a group the trunk cannot use', () => {
    expect(trunkFromFields({})).toEqual({ kind: 'seed' });
    expect(trunkFromFields({ trunk: 'cyclic', group: 'c4', roll: true, filters: [4], viewPart: 9 })).toEqual({
      kind: 'cyclic',
      group: 'c4',
      roll: true,
      filters: [4],
    });
    expect(trunkFromFields({ trunk: 'views', viewCrop: 60, viewCropSize: 45, viewPart: 29, merge: 'rms' })).toEqual({
      kind: 'views',
      crop: 60,
      cropSize: 45,
      part: 29,
      merge: 'rms',
    });
    expect(trunkFromFields({ trunk: 'gconv', group: 'p4', groupPool: 'mean', dense: 0 })).toEqual({
      kind: 'gconv',
      group: 'p4',
      groupPool: 'mean',
      dense: 0,
    });
    expect(() => trunkFromFields({ trunk: 'gconv', group: 'd4' })).toThrow(
      new ConfigError('model.group of the gconv trunk is p4 or p4m, got "d4"'),
    );
    expect(() => trunkFromFields({ trunk: 'cyclic', group: 'p4m' })).toThrow(
      /model\.group of the cyclic trunk is c4 or d4/,
    );
    expect(() => trunkFromFields({ trunk: 'cyclic', merge: 'concat' })).toThrow(/concat is for the views trunk/);
  });

  it('flat and per-question models keep their own CNNs unless the trunk is equivariant', () => {
    const plain = withModel({ kind: 'hierarchical', trunk: 'deep' });
    const settings = plain.variants[0]!.settings;
    expect(modelSpec({ ...settings, model: { ...settings.model, kind: 'flat' } }, 32)).not.toHaveProperty('trunk');
    expect(modelSpec({ ...settings, model: { ...settings.model, kind: 'per-question' } }, 32)).not.toHaveProperty(
      'trunk',
    );
    const gconv = { ...settings.model, trunk: 'gconv' as const };
    expect(modelSpec({ ...settings, model: { ...gconv, kind: 'flat' } }, 32)).toMatchObject({
      kind: 'flat',
      trunk: { kind: 'gconv' },
    });
    expect(modelSpec({ ...settings, model: { ...gconv, kind: 'per-question' } }, 32)).toMatchObject({
      kind: 'per-question',
      trunk: { kind: 'gconv' },
    });
  });
});

describe('experiments/kaggle-sample-equivariant.json', () => {
  it('compares the cyclic, views and p4m gconv trunks with the plain deep trunk on one split, on epoch budgets', () => {
    const exp = loadExperimentConfig(join(packageRoot(), 'experiments', 'kaggle-sample-equivariant.json'));
    const trunks = exp.variants.map((v) => {
      const spec = modelSpec(v.settings, inputSize(v.settings));
      return spec.kind === 'hierarchical' ? spec.trunk?.kind : undefined;
    });
    expect(trunks).toEqual(['cyclic', 'views', 'gconv', 'deep']);
    // Epoch budgets, not a wall-clock cap, so the figures do not depend on the machine's load.
    expect(exp.variants.map((v) => v.settings.training.epochs)).toEqual([22, 28, 27, 60]);
    for (const v of exp.variants) {
      expect(v.settings.training.maxMinutes).toBeUndefined();
      expect(v.settings.preprocess).toEqual(exp.variants[0]!.settings.preprocess);
    }
  });
});
