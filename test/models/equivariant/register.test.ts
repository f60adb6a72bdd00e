/**
 * Loading a saved model needs only the loader: `src/models/io.ts` (used by loadModel and
 * EnsemblePredictor) registers the equivariant layers itself. This file imports nothing else of
 * the models, so a missing registration fails here.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../../src/ensemble/predictor.js';

describe('layer registration', () => {
  it('the model loader registers every equivariant layer class', () => {
    const known = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const name of ['CyclicSlice', 'CyclicRoll', 'CyclicPool', 'KaggleViews', 'GroupConv2D', 'GroupPool'])
      expect(known[name], name).toBeDefined();
  });
});
