import * as tf from '@tensorflow/tfjs';
import { Random } from '../util/random.js';

/** A layer's weight and the initializer that made it (the tfjs-layers field pairs that exist). */
const WEIGHT_FIELDS = [
  ['kernel', 'kernelInitializer'],
  ['bias', 'biasInitializer'],
  ['depthwiseKernel', 'depthwiseInitializer'],
  ['pointwiseKernel', 'pointwiseInitializer'],
  ['embeddings', 'embeddingsInitializer'],
  ['recurrentKernel', 'recurrentInitializer'],
] as const;

interface WeightInitializer {
  getConfig(): tf.serialization.ConfigDict;
  apply(shape: number[], dtype?: tf.DataType): tf.Tensor;
}

type SeededInitializer = new (config: tf.serialization.ConfigDict) => WeightInitializer;

/**
 * Re-draws every randomly initialised weight of a freshly built model from `seed`, so the same
 * config and seed start from the same weights. tfjs-layers draws unseeded initial weights from
 * Math.random; here each random initializer (any whose config has a `seed`: Glorot, He,
 * LeCun, RandomNormal …) is rebuilt with its own seed derived from `seed` and the layer order,
 * and applied again: the same distributions, now reproducible. Constant initializers (zeros,
 * ones) are left alone. Call it before training.
 */
export function seedInitialWeights(model: tf.LayersModel, seed: number): void {
  const random = Random.derive(seed, 'initial-weights');
  for (const layer of allLayers(model)) {
    const fields = layer as unknown as Record<string, unknown>;
    for (const [weightField, initializerField] of WEIGHT_FIELDS) {
      const weight = fields[weightField] as tf.LayerVariable | undefined;
      const initializer = fields[initializerField] as WeightInitializer | undefined;
      if (!weight || !initializer || typeof weight.write !== 'function') continue;
      const config = initializer.getConfig();
      if (!('seed' in config)) continue;
      const seeded = new (initializer.constructor as SeededInitializer)({ ...config, seed: random.nextUint32() });
      tf.tidy(() => {
        weight.write(seeded.apply(weight.shape as number[], weight.dtype));
      });
    }
  }
}

/** Every layer, nested models' layers included, in a fixed order. */
function allLayers(container: { readonly layers: readonly tf.layers.Layer[] }): tf.layers.Layer[] {
  return container.layers.flatMap((layer) => {
    const nested = (layer as unknown as { layers?: readonly tf.layers.Layer[] }).layers;
    return nested ? [layer, ...allLayers({ layers: nested })] : [layer];
  });
}
