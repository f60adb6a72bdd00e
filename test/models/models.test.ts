import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { validateVector, TREE_VERSION } from '../../src/questions/index.js';
import { buildHierarchicalModel } from '../../src/models/hierarchical.js';
import { buildPerQuestionModel } from '../../src/models/per-question.js';
import { DecisionTreeLayer, findTreeLayer } from '../../src/models/decision-tree-layer.js';
import { buildModel, MODEL_KINDS } from '../../src/models/registry.js';
import { fileSystemHandler, loadModel, saveModel } from '../../src/models/io.js';
import { createManifest, MANIFEST_FILE, readManifest } from '../../src/models/manifest.js';

const dir = mkdtempSync(join(tmpdir(), 'gzh-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function images(n: number, size: number, channels = 1): tf.Tensor4D {
  return tf.randomUniform([n, size, size, channels], 0, 1, 'float32', 11) as tf.Tensor4D;
}

describe('hierarchical model', () => {
  it('seed trunk: valid cumulative vectors from a 24×24 image', () => {
    const model = buildHierarchicalModel({ inputSize: 24, channels: 1 });
    const x = images(3, 24);
    const y = model.predict(x) as tf.Tensor2D;
    expect(y.shape).toEqual([3, 37]);
    for (const row of y.arraySync()) {
      expect(validateVector(row, { convention: 'cumulative', tolerance: 1e-5, q6Reach: 'kaggle' })).toEqual([]);
    }
    expect(findTreeLayer(model)?.convention).toBe('cumulative');
    tf.dispose([x, y]);
    model.dispose();
  });

  it('deep trunk with BatchNorm and separate heads; conditional output', () => {
    const model = buildHierarchicalModel({
      inputSize: 16,
      channels: 3,
      trunk: { kind: 'deep', filters: [4, 8], convsPerBlock: 2, pooling: 'gap', dense: 8 },
      heads: 'separate',
      output: 'conditional',
    });
    expect(model.layers.filter((l) => l.name.startsWith('head_q')).length).toBe(11);
    expect(model.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(true);
    const x = images(2, 16, 3);
    const y = model.predict(x) as tf.Tensor2D;
    for (const row of y.arraySync()) {
      expect(validateVector(row, { convention: 'conditional', tolerance: 1e-5 })).toEqual([]);
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('refuses inputs its trunk would shrink to nothing, naming the minimum', () => {
    expect(() => buildHierarchicalModel({ inputSize: 20, channels: 1 })).toThrow(
      'a 20×20 input is too small for the seed trunk: its conv blocks leave a 0×0 feature map (it needs at ' +
        'least 22 pixels)',
    );
    buildHierarchicalModel({ inputSize: 22, channels: 1 }).dispose();
    expect(() =>
      buildHierarchicalModel({ inputSize: 7, channels: 1, trunk: { kind: 'deep', filters: [4, 4, 4] } }),
    ).toThrow(/7×7 input is too small for the deep trunk.*3 blocks need at least 8 pixels/);
    buildHierarchicalModel({ inputSize: 8, channels: 1, trunk: { kind: 'deep', filters: [4, 4, 4] } }).dispose();
  });
});

describe('per-question model', () => {
  it('has 11 independent branches combined by the tree layer', () => {
    const model = buildPerQuestionModel({ inputSize: 16, branch: { filters: [4], dense: 4 } });
    const branches = new Set(model.layers.filter((l) => /^q\d+_conv1$/.test(l.name)).map((l) => l.name));
    expect(branches.size).toBe(11);
    // No weight is shared between branches: every trainable weight belongs to exactly one question.
    for (const w of model.trainableWeights) expect(w.name).toMatch(/^q\d+_/);
    const x = images(2, 16);
    const y = model.predict(x) as tf.Tensor2D;
    for (const row of y.arraySync()) {
      expect(validateVector(row, { convention: 'cumulative', tolerance: 1e-5, q6Reach: 'kaggle' })).toEqual([]);
    }
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('registry', () => {
  it('builds by kind and rejects unknown kinds', async () => {
    expect(MODEL_KINDS).toContain('hierarchical');
    const model = await buildModel({ kind: 'per-question', inputSize: 16, branch: { filters: [2], dense: 0 } });
    expect(findTreeLayer(model)).toBeInstanceOf(DecisionTreeLayer);
    model.dispose();
    await expect(buildModel({ kind: 'nope' } as never)).rejects.toThrow(/unknown model kind/);
  });
});

describe('save and load', () => {
  it('round-trips a hierarchical model with identical predictions and a manifest', async () => {
    const model = buildHierarchicalModel({
      inputSize: 16,
      trunk: { kind: 'deep', filters: [4, 8], dense: 8 },
      q6Reach: 'tree',
    });
    const x = images(3, 16);
    const before = (model.predict(x) as tf.Tensor).arraySync();
    const manifest = createManifest(model, {
      kind: 'hierarchical',
      options: { inputSize: 16 },
      preprocessing: { crop: 207 },
    });
    const target = join(dir, 'h1');
    await saveModel(model, target, { manifest });
    expect(existsSync(join(target, 'model.json'))).toBe(true);
    expect(existsSync(join(target, 'weights.bin'))).toBe(true);

    // Plain tf.loadLayersModel with the registered custom layers loads it.
    const plain = await tf.loadLayersModel(fileSystemHandler(target));
    const loaded = await loadModel(target);
    expect(loaded.manifest).toMatchObject({
      kind: 'hierarchical',
      inputShape: [16, 16, 1],
      convention: 'cumulative',
      q6Reach: 'tree',
      treeVersion: TREE_VERSION,
      preprocessing: { crop: 207 },
    });
    for (const m of [plain, loaded.model]) {
      const after = (m.predict(x) as tf.Tensor).arraySync();
      expect(after).toEqual(before);
      expect(findTreeLayer(m)?.q6Reach).toBe('tree');
      m.dispose();
    }
    // Saving again replaces the directory atomically.
    await saveModel(model, target, { manifest });
    expect(existsSync(`${target}.old`)).toBe(false);
    x.dispose();
    model.dispose();
  });

  it('refuses a manifest from another tree version, naming the file', async () => {
    const model = buildPerQuestionModel({ inputSize: 16, branch: { filters: [2], dense: 0 } });
    const target = join(dir, 'pq');
    await saveModel(model, target, { manifest: createManifest(model, { kind: 'per-question' }) });
    const file = join(target, MANIFEST_FILE);
    const m = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...m, treeVersion: 'gz2-kaggle-37/0' }));
    await expect(readManifest(target)).rejects.toThrow(file);
    await expect(loadModel(target)).rejects.toThrow(/decision tree version "gz2-kaggle-37\/0"/);
    model.dispose();
  });
});
