import type * as tf from '@tensorflow/tfjs';
import { buildFlatModel, type FlatModelOptions } from './flat.js';
import { buildHierarchicalModel, type HierarchicalOptions } from './hierarchical.js';
import { buildPerQuestionModel, type PerQuestionOptions } from './per-question.js';

/** Options of the seed Keras model (`src/models/flat.ts`). */
export type FlatOptions = FlatModelOptions;

/** What `buildModel` builds: the model kind and its options. */
export type ModelSpec =
  | ({
      /** The flat seed CNN. */
      readonly kind: 'flat';
    } & FlatOptions)
  | ({
      /** A shared trunk with one softmax head per question. */
      readonly kind: 'hierarchical';
    } & HierarchicalOptions)
  | ({
      /** 11 independent CNNs. */
      readonly kind: 'per-question';
    } & PerQuestionOptions);

/** The model kinds. */
export type ModelKind = ModelSpec['kind'];
/** Every model kind. */
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
