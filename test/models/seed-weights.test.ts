/**
 * Seeded initial weights: the same seed gives the same starting weights for every model kind,
 * another seed other ones, drawn from the same distributions as unseeded ones, constants untouched.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { buildModel, type ModelSpec } from '../../src/models/registry.js';
import { seedInitialWeights } from '../../src/models/seed-weights.js';

await initBackend('cpu');

const SPECS: ModelSpec[] = [
  { kind: 'flat', inputSize: 24, channels: 1 },
  { kind: 'hierarchical', inputSize: 16, channels: 3, trunk: { kind: 'deep', filters: [4, 8] } },
  { kind: 'per-question', inputSize: 16, channels: 1, branch: { filters: [2, 4], dense: 8 } },
];

async function initialWeights(spec: ModelSpec, seed: number): Promise<Float32Array[]> {
  const model = await buildModel(spec);
  seedInitialWeights(model, seed);
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return weights;
}

describe('seedInitialWeights', () => {
  it('same seed → identical initial weights; another seed → different kernels (every model kind)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SPECS), fc.integer({ min: 0, max: 2 ** 31 }), async (spec, seed) => {
        const a = await initialWeights(spec, seed);
        const b = await initialWeights(spec, seed);
        const c = await initialWeights(spec, seed + 1);
        expect(a.map((w) => Array.from(w))).toEqual(b.map((w) => Array.from(w)));
        const differing = a.filter((w, i) => w.some((v, j) => v !== c[i]![j]));
        expect(differing.length).toBeGreaterThan(0);
      }),
      { numRuns: 6 },
    );
  });

  it(
    'keeps the initializers’ distributions (spread as the unseeded draw), distinct layers ' + 'distinct, biases zero',
    async () => {
      const stock = await buildModel({ kind: 'flat', inputSize: 24, channels: 1 });
      const model = await buildModel({ kind: 'flat', inputSize: 24, channels: 1 });
      seedInitialWeights(model, 42);
      const spread = (values: Float32Array) => Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
      const kernels: Float32Array[] = [];
      model.layers.forEach((layer, i) => {
        const [kernel, bias] = layer.getWeights();
        if (!kernel || !bias) return;
        const values = kernel.dataSync() as Float32Array;
        const reference = stock.layers[i]!.getWeights()[0]!.dataSync() as Float32Array;
        if (values.length >= 200) expect(spread(values) / spread(reference)).toBeGreaterThan(0.8);
        if (values.length >= 200) expect(spread(values) / spread(reference)).toBeLessThan(1.25);
        expect(Array.from(bias.dataSync()).every((v) => v === 0)).toBe(true);
        kernels.push(values);
      });
      expect(kernels.length).toBe(6);
      // Each layer has its own seed: no two kernels start with the same draws.
      const starts = new Set(kernels.map((k) => k[0]));
      expect(starts.size).toBe(kernels.length);
      model.dispose();
      stock.dispose();
    },
  );
});
