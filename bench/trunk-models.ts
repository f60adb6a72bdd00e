/**
 * The models `npm run bench:backend -- --models …` times: the seed CNN, and each trunk followed by
 * Dense(37, sigmoid) (the flat model kind with a trunk), 1 channel, as bench/keras-reference.py
 * builds their Keras equivalents. The trunk settings are those of
 * experiments/kaggle-sample-equivariant.json, so the table prices the compared models.
 */
import * as tf from '@tensorflow/tfjs';
import { buildFlatModel } from '../src/models/flat.js';
import type { TrunkSpec } from '../src/models/trunk.js';

export const BENCH_TRUNKS: Readonly<Record<string, TrunkSpec>> = {
  deep: { kind: 'deep' },
  cyclic: { kind: 'cyclic', group: 'c4', roll: true, filters: [16, 32, 64, 64], pooling: 'gap' },
  views: { kind: 'views', cropSize: 45, filters: [32, 64, 128], pooling: 'gap' },
  gconv: { kind: 'gconv', group: 'p4m', filters: [8, 16, 32, 32] },
};

export const BENCH_MODELS = ['seed', ...Object.keys(BENCH_TRUNKS)];

export function benchModel(name: string, inputSize: number): tf.LayersModel {
  if (name === 'seed') return buildFlatModel({ inputSize });
  const trunk = BENCH_TRUNKS[name];
  if (!trunk) throw new Error(`unknown bench model ${name}; known: ${BENCH_MODELS.join(', ')}`);
  return buildFlatModel({ inputSize, trunk });
}

/** Images/s of `steps` trainOnBatch steps (after one untimed step) and of `steps` predictions, batch 64. */
export async function timeModel(
  model: tf.LayersModel,
  inputSize: number,
  steps: number,
): Promise<{ train: number; predict: number }> {
  const batch = 64;
  const x = tf.randomUniform([batch, inputSize, inputSize, 1], 0, 1, 'float32');
  const y = tf.randomUniform([batch, 37], 0, 1, 'float32');
  try {
    await model.trainOnBatch(x, y);
    let start = performance.now();
    for (let s = 0; s < steps; s++) await model.trainOnBatch(x, y);
    const train = (steps * batch * 1000) / (performance.now() - start);
    start = performance.now();
    for (let s = 0; s < steps; s++) {
      const out = model.predict(x) as tf.Tensor;
      await out.data();
      out.dispose();
    }
    return { train, predict: (steps * batch * 1000) / (performance.now() - start) };
  } finally {
    tf.dispose([x, y]);
  }
}
