/**
 * EnsemblePredictor.load without a `backend` option: the fastest backend while TensorFlow.js has
 * none yet (not tfjs's pure-JS default), else the one already chosen. Its own file, as it resets
 * TensorFlow.js's engine, and nothing here may import tfjs-node, which chooses a backend on import.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, expect, it } from 'vitest';
import { currentBackend } from '../../src/backend/select.js';
import { EnsemblePredictor } from '../../src/ensemble/predictor.js';
import { saveTiny, tinyHierarchical, writeJpegs } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gzh-default-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(
  'EnsemblePredictor.load picks the fastest backend while TensorFlow.js has none, and keeps one chosen with ' +
    'tf.setBackend',
  async () => {
    await tf.setBackend('cpu');
    const [image] = await writeJpegs(join(dir, 'images'), 1);
    const model = tinyHierarchical(3);
    await saveTiny(model, join(dir, 'model'), 'hierarchical');
    model.dispose();
    const predictWith = async () => {
      const p = await EnsemblePredictor.load(join(dir, 'model'));
      await p.predict(image);
      p.dispose();
      return tf.getBackend();
    };
    // back to a TensorFlow.js that has chosen no backend, as in a fresh process
    tf.engine().reset();
    expect(tf.engine().backendName).toBeNull();
    const chosen = await predictWith();
    expect(chosen).toBe(currentBackend()?.name); // what initBackend() chose: native, else wasm
    if (!process.env.GZH_BACKEND) expect(chosen).not.toBe('cpu');
    await tf.setBackend('cpu');
    expect(await predictWith()).toBe('cpu');
  },
);
