/**
 * Throughput probes of the seed CNN on the active backend (used by `gzh doctor` and
 * `npm run bench:backend`). Random inputs, fixed batch; all tensors are disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { buildFlatModel } from '../models/flat.js';

export interface ThroughputOptions {
  /** Image side in pixels (default 64). */
  readonly inputSize?: number;
  /** Batch size (default 64). */
  readonly batchSize?: number;
  /** Measure for at least this long (default 5 s), after warm-up. */
  readonly seconds?: number;
  /** Never fewer than this many timed steps (default 2). */
  readonly minSteps?: number;
  /** Warm-up steps, not timed (default 1). */
  readonly warmupSteps?: number;
}

export interface Throughput {
  readonly imagesPerSecond: number;
  readonly steps: number;
  readonly seconds: number;
}

interface Fixture {
  readonly model: tf.LayersModel;
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor2D;
  dispose(): void;
}

function fixture(inputSize: number, batchSize: number): Fixture {
  const model = buildFlatModel({ inputSize });
  const x = tf.randomUniform([batchSize, inputSize, inputSize, 1], 0, 1, 'float32') as tf.Tensor4D;
  const y = tf.randomUniform([batchSize, 37], 0, 1, 'float32') as tf.Tensor2D;
  return {
    model,
    x,
    y,
    dispose() {
      model.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

async function timeLoop(step: () => Promise<void>, options: ThroughputOptions, batchSize: number): Promise<Throughput> {
  const seconds = options.seconds ?? 5;
  const minSteps = options.minSteps ?? 2;
  for (let i = 0; i < (options.warmupSteps ?? 1); i++) await step();
  let steps = 0;
  const start = performance.now();
  let elapsed = 0;
  while (steps < minSteps || elapsed < seconds) {
    await step();
    steps++;
    elapsed = (performance.now() - start) / 1000;
  }
  return { imagesPerSecond: (steps * batchSize) / elapsed, steps, seconds: elapsed };
}

/** Training throughput (images/s) of the seed CNN: Adam + MSE, `trainOnBatch` on one batch. */
export async function measureTrainThroughput(options: ThroughputOptions = {}): Promise<Throughput> {
  const batchSize = options.batchSize ?? 64;
  const f = fixture(options.inputSize ?? 64, batchSize);
  try {
    return await timeLoop(
      async () => {
        await f.model.trainOnBatch(f.x, f.y);
      },
      options,
      batchSize,
    );
  } finally {
    f.dispose();
  }
}

/** Inference throughput (images/s) of the seed CNN, including reading the predictions back. */
export async function measurePredictThroughput(options: ThroughputOptions = {}): Promise<Throughput> {
  const batchSize = options.batchSize ?? 64;
  const f = fixture(options.inputSize ?? 64, batchSize);
  try {
    return await timeLoop(
      async () => {
        const out = f.model.predict(f.x) as tf.Tensor;
        await out.data();
        out.dispose();
      },
      options,
      batchSize,
    );
  } finally {
    f.dispose();
  }
}
