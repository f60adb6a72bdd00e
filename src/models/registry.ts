import type * as tf from '@tensorflow/tfjs';
import { buildHierarchicalModel, type HierarchicalOptions } from './hierarchical.js';
import { buildPerQuestionModel, type PerQuestionOptions } from './per-question.js';

/** Options of the seed Keras model (`src/models/flat.ts`). */
export interface FlatOptions {
  readonly inputSize?: number;
  readonly channels?: number;
  readonly learningRate?: number;
}

export type ModelSpec =
  | ({ readonly kind: 'flat' } & FlatOptions)
  | ({ readonly kind: 'hierarchical' } & HierarchicalOptions)
  | ({ readonly kind: 'per-question' } & PerQuestionOptions);

export type ModelKind = ModelSpec['kind'];
export const MODEL_KINDS: readonly ModelKind[] = ['flat', 'hierarchical', 'per-question'];

/** Loss each kind is meant to be trained with (see `src/train/losses.ts`). */
export function defaultLossKind(kind: ModelKind): 'mse' | 'cross-entropy' {
  return kind === 'per-question' ? 'cross-entropy' : 'mse';
}

interface FlatModule {
  buildFlatModel(options: FlatOptions): tf.LayersModel;
}

// Resolved at run time so this module does not depend on flat.ts at compile time.
const FLAT_MODULE = './flat.js';

/** Builds a model by kind name with typed options (configs and the CLI go through here). */
export async function buildModel(spec: ModelSpec): Promise<tf.LayersModel> {
  const { kind, ...options } = spec;
  switch (kind) {
    case 'flat': {
      const flat = (await import(FLAT_MODULE)) as FlatModule;
      return flat.buildFlatModel(options as FlatOptions);
    }
    case 'hierarchical':
      return buildHierarchicalModel(options as HierarchicalOptions);
    case 'per-question':
      return buildPerQuestionModel(options as PerQuestionOptions);
    default:
      throw new RangeError(`unknown model kind ${JSON.stringify(kind)}; known kinds: ${MODEL_KINDS.join(', ')}`);
  }
}
