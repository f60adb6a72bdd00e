/**
 * Equivariant trunks inside every model kind: outputs invariant to the D4 transforms each
 * architecture promises, save/load round trips through saveModel/loadModel and EnsemblePredictor,
 * and no tensors left behind by prediction or training steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/select.js';
import { EnsemblePredictor } from '../../../src/ensemble/predictor.js';
import { groupElements, transformSpatial } from '../../../src/models/equivariant/index.js';
import { loadModel, saveModel } from '../../../src/models/io.js';
import { createManifest } from '../../../src/models/manifest.js';
import { seedInitialWeights } from '../../../src/models/seed-weights.js';
import { buildModel, type ModelSpec } from '../../../src/models/registry.js';
import type { TrunkSpec } from '../../../src/models/trunk.js';
import { validateVector } from '../../../src/questions/index.js';
import { Random } from '../../../src/util/random.js';
import { saveTiny, writeJpegs } from '../../ensemble/helpers.js';
import { maxAbsDiff } from './reference.js';

const dir = mkdtempSync(join(tmpdir(), 'gzh-equivariant-'));
beforeAll(async () => {
  await initBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL = { filters: [3, 4], dense: 6, dropout: 0.1, batchNormMomentum: 0.5 } as const;

interface Case {
  readonly name: string;
  readonly trunk: TrunkSpec;
  /** The D4 elements the architecture promises invariance to. */
  readonly invariantTo: readonly number[];
}

const D4 = groupElements('d4');
const C4 = groupElements('c4');
const CASES: readonly Case[] = [
  { name: 'cyclic d4 with rolls', trunk: { kind: 'cyclic', group: 'd4', roll: true, ...SMALL }, invariantTo: D4 },
  { name: 'cyclic c4, rms pool', trunk: { kind: 'cyclic', group: 'c4', merge: 'rms', ...SMALL }, invariantTo: C4 },
  {
    name: 'views, mean merge',
    trunk: { kind: 'views', cropSize: 12, part: 8, merge: 'mean', ...SMALL },
    invariantTo: D4,
  },
  {
    name: 'views, concat merge (learned)',
    trunk: { kind: 'views', cropSize: 12, part: 8, ...SMALL },
    invariantTo: [0],
  },
  { name: 'gconv p4m', trunk: { kind: 'gconv', group: 'p4m', ...SMALL }, invariantTo: D4 },
  {
    name: 'gconv p4, mean group pool, two convs a block',
    trunk: { kind: 'gconv', group: 'p4', groupPool: 'mean', convsPerBlock: 2, ...SMALL },
    invariantTo: C4,
  },
];

/** Random weights, biases and BN statistics included, so no symmetry comes from zero biases. */
function randomize(model: tf.LayersModel, seed: number): void {
  const rng = new Random(seed);
  tf.tidy(() =>
    model.setWeights(
      model.weights.map((w) => {
        const positive = /moving_variance|gamma/.test(w.originalName);
        const shape = w.shape as number[];
        return tf.tensor(
          Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
            positive ? 0.5 + rng.next() : (rng.next() - 0.5) * 0.8,
          ),
          shape,
        );
      }),
    ),
  );
}

function spec(kind: ModelSpec['kind'], trunk: TrunkSpec): ModelSpec {
  return { kind, inputSize: 16, channels: 2, trunk } as ModelSpec;
}

describe.each(CASES)('$name', ({ trunk, invariantTo }) => {
  it.each(['hierarchical', 'flat', 'per-question'] as const)(
    '%s model: output invariant to the promised transforms; valid tree vectors',
    async (kind) => {
      // 11 branches: one trunk kind keeps this test quick
      if (kind === 'per-question' && trunk.kind !== 'gconv') return;
      const model = await buildModel(spec(kind, trunk));
      randomize(model, 3);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = tf.randomUniform([3, 16, 16, 2], 0, 1, 'float32', 9);
        const y = model.predict(x) as tf.Tensor2D;
        if (kind !== 'flat') {
          for (const row of y.arraySync())
            expect(validateVector(row, { convention: 'cumulative', tolerance: 1e-5, q6Reach: 'kaggle' })).toEqual([]);
        }
        for (const h of invariantTo) {
          const yh = model.predict(transformSpatial(x, h, 1)) as tf.Tensor;
          expect(maxAbsDiff(yh.arraySync(), y.arraySync())).toBeLessThan(2e-6);
        }
      });
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    },
  );
});

describe('what is not promised is not delivered by accident', () => {
  it('the plain deep trunk, and the views trunk with concat merge, do change under a quarter turn', async () => {
    for (const trunk of [{ kind: 'deep', ...SMALL } as TrunkSpec, CASES[3]!.trunk]) {
      const model = await buildModel(spec('hierarchical', trunk));
      randomize(model, 4);
      tf.tidy(() => {
        const x = tf.randomUniform([2, 16, 16, 2], 0, 1, 'float32', 2);
        const diff = maxAbsDiff(
          (model.predict(transformSpatial(x, 1, 1)) as tf.Tensor).arraySync(),
          (model.predict(x) as tf.Tensor).arraySync(),
        );
        expect(diff).toBeGreaterThan(1e-4);
      });
      model.dispose();
    }
  });
});

describe('serialization', () => {
  it.each(CASES.filter((c) => c.name !== 'views, concat merge (learned)'))(
    '$name: saveModel/loadModel round trip gives identical outputs',
    async ({ name, trunk }) => {
      const model = await buildModel(spec('hierarchical', trunk));
      randomize(model, 5);
      const out = join(dir, name.replace(/\W+/g, '-'));
      await saveModel(model, out, { manifest: createManifest(model, { kind: 'hierarchical', options: { trunk } }) });
      const loaded = await loadModel(out, { requireManifest: true });
      tf.tidy(() => {
        const x = tf.randomUniform([2, 16, 16, 2], 0, 1, 'float32', 4);
        expect(
          maxAbsDiff((loaded.model.predict(x) as tf.Tensor).arraySync(), (model.predict(x) as tf.Tensor).arraySync()),
        ).toBe(0);
      });
      expect(loaded.model.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      model.dispose();
      loaded.model.dispose();
    },
  );

  it(
    'EnsemblePredictor loads an equivariant member; its D4 test-time views agree, so their ' + 'spread is zero',
    async () => {
      const model = await buildModel({
        kind: 'hierarchical',
        inputSize: 16,
        channels: 1,
        trunk: { kind: 'gconv', group: 'p4m', ...SMALL },
      });
      randomize(model, 6);
      const memberDir = await saveTiny(model, join(dir, 'gconv-member'), 'hierarchical');
      model.dispose();
      const images = await writeJpegs(join(dir, 'jpegs'), 2, 48, 3);
      const predictor = await EnsemblePredictor.load(memberDir, { backend: 'cpu', tta: 'd4' });
      try {
        expect(predictor.views.length).toBe(8);
        for (const image of images) {
          const result = await predictor.predict(image);
          expect(
            validateVector(Array.from(result.cumulative), {
              convention: 'cumulative',
              tolerance: 1e-5,
              q6Reach: 'kaggle',
            }),
          ).toEqual([]);
          expect(Math.max(...result.uncertainty)).toBeLessThan(1e-5);
        }
      } finally {
        predictor.dispose();
      }
    },
  );
});

describe('seeded initial weights', () => {
  it('seedInitialWeights makes the group convolutions reproducible, and different seeds differ', async () => {
    const weights = async (seed: number) => {
      const model = await buildModel(spec('hierarchical', CASES[4]!.trunk));
      seedInitialWeights(model, seed);
      const kernel = model.layers
        .find((l) => l.getClassName() === 'GroupConv2D')!
        .getWeights()[0]!
        .arraySync();
      model.dispose();
      return kernel;
    };
    expect(maxAbsDiff(await weights(1), await weights(1))).toBe(0);
    expect(maxAbsDiff(await weights(1), await weights(2))).toBeGreaterThan(0);
  });
});

describe('training', () => {
  it('fit steps of each trunk lower the loss and leave no tensors behind', async () => {
    for (const c of CASES.filter(
      (k) => k.name.startsWith('cyclic c4') || k.name.startsWith('views, concat') || k.name === 'gconv p4m',
    )) {
      // seeded weights and no dropout: the steps are deterministic on the cpu backend
      const model = await buildModel({
        ...spec('hierarchical', { ...c.trunk, dropout: 0 }),
        learningRate: 0.003,
      } as ModelSpec);
      seedInitialWeights(model, 1);
      const x = tf.randomUniform([4, 16, 16, 2], 0, 1, 'float32', 1);
      const y = tf.tidy(() => model.predict(tf.randomUniform([4, 16, 16, 2], 0, 1, 'float32', 2)) as tf.Tensor);
      const step = async () =>
        (await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 })).history.loss![0] as number;
      await step();
      const before = tf.memory().numTensors;
      const first = await step();
      let last = first;
      for (let i = 0; i < 4; i++) last = await step();
      expect(tf.memory().numTensors).toBe(before);
      expect(Number.isFinite(last) && last < first, `${c.name}: loss ${first} → ${last}`).toBe(true);
      tf.dispose([x, y]);
      model.dispose();
    }
  });
});
