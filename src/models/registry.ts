import type * as tf from '@tensorflow/tfjs';
import { buildFlatModel, type FlatModelOptions } from './flat.js';
import { buildHierarchicalModel, type HierarchicalOptions } from './hierarchical.js';
import { buildPerQuestionModel, type PerQuestionOptions } from './per-question.js';

/** Options of the seed Keras model (`src/models/flat.ts`). */
export type FlatOptions = FlatModelOptions;

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

/** Builds a model by kind name with typed options (configs and the CLI go through here). */
export async function buildModel(spec: ModelSpec): Promise<tf.LayersModel> {
  const { kind, ...options } = spec;
  switch (kind) {
    case 'flat':
      return buildFlatModel(options as FlatOptions);
    case 'hierarchical':
      return buildHierarchicalModel(options as HierarchicalOptions);
    case 'per-question':
      return buildPerQuestionModel(options as PerQuestionOptions);
    default:
      throw new RangeError(`unknown model kind ${JSON.stringify(kind)}; known kinds: ${MODEL_KINDS.join(', ')}`);
  }
}
