import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-index-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('public API (src/index.ts)', () => {
  it('exports the predictor, the tree, models, training, metrics, data and synthetic entry points', () => {
    for (const name of [
      'EnsemblePredictor',
      'PredictInputError',
      'writeEnsembleDir',
      'readEnsembleDir',
      'projectToTree',
      'convexCombination',
      'resolveTta',
      'QUESTIONS',
      'ANSWERS',
      'KAGGLE_COLUMNS',
      'TREE_VERSION',
      'toCumulative',
      'toConditional',
      'validateVector',
      'buildModel',
      'buildHierarchicalModel',
      'buildPerQuestionModel',
      'buildFlatModel',
      'DecisionTreeLayer',
      'saveModel',
      'loadModel',
      'fileSystemHandler',
      'createManifest',
      'train',
      'evaluate',
      'MetricsAccumulator',
      'computeMetrics',
      'runExperiment',
      'loadExperimentConfig',
      'initBackend',
      'ingest',
      'preprocessFile',
      'resolveParams',
      'buildCache',
      'generateSyntheticDataset',
      'D4_ELEMENTS',
      'applyD4',
    ]) {
      expect(lib, name).toHaveProperty(name);
    }
    expect(lib.questionTotals([...new Array(37).fill(0)])).toBeInstanceOf(Float64Array);
  });

  it('names what it exports: no export *, no renamed exports, no internals', () => {
    const source = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/export \*/);
    expect(source).not.toMatch(/\b\w+ as \w+/);
    const internals = [
      'forward',
      'imagesToTensor',
      'modelView',
      'paramsKey',
      'configureSharp',
      'targetsOf',
      'checkModelAndData',
      'questionTotalsTensor',
      'readCacheManifest',
      'packageRoot',
    ];
    for (const name of internals) expect(lib, name).not.toHaveProperty(name);
  });

  it('package.json exports the built entry point with its types', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['.']).toEqual({ types: './dist/src/index.d.ts', import: './dist/src/index.js' });
  });

  it(
    'plain tf.loadLayersModel reads a saved hierarchical member (custom layers registered by ' + 'the import)',
    async () => {
      const model = lib.buildHierarchicalModel({
        inputSize: 12,
        channels: 1,
        trunk: { kind: 'deep', filters: [4], dense: 8, batchNorm: false, pooling: 'gap' },
        heads: 'fused',
      });
      const target = join(dir, 'member');
      await lib.saveModel(model, target, { manifest: lib.createManifest(model, { kind: 'hierarchical' }) });
      // only standard TensorFlow.js from here on: model.json + weights.bin through tf.io.fromMemory
      const modelJson = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      expect(modelJson.format).toBe('layers-model');
      expect(modelJson.weightsManifest[0].paths).toEqual(['./weights.bin']);
      const bin = readFileSync(join(target, 'weights.bin'));
      const loaded = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: modelJson.modelTopology,
          weightSpecs: modelJson.weightsManifest[0].weights,
          weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
        }),
      );
      const x = tf.randomUniform([2, 12, 12, 1], 0, 1, 'float32', 3);
      const a = model.predict(x) as tf.Tensor;
      const b = loaded.predict(x) as tf.Tensor;
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      expect(loaded.layers.some((l) => l.getClassName() === 'DecisionTreeLayer')).toBe(true);
      tf.dispose([x, a, b]);
      model.dispose();
      loaded.dispose();
    },
  );
});
