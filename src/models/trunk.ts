import * as tf from '@tensorflow/tfjs';
import { conv2d } from './conv2d.js';
import { dropout as dropoutLayer } from './dropout.js';
import { ConfigError } from '../errors.js';
import { batchNormalization } from './batch-normalization.js';
import {
  cyclicTrunk,
  groupConvTrunk,
  viewsTrunk,
  type CyclicTrunkSpec,
  type GroupConvTrunkSpec,
  type ViewsTrunkSpec,
} from './equivariant/trunks.js';

/** The seed Keras model's feature extractor: three Conv-ReLU-MaxPool blocks, dropout, two dense layers. */
export interface SeedTrunkSpec {
  /** Trunk kind. */
  readonly kind: 'seed';
  /** Dropout after the conv blocks and after Dense(128) (default 0.2, as in the seed). */
  readonly dropout?: number;
}

/**
 * A deeper configurable trunk: one block per entry of `filters`, each
 * Conv-BN-ReLU (twice when `convsPerBlock` is 2) then MaxPool 2, then global average pooling or
 * flatten, dropout, and a dense layer.
 */
export interface DeepTrunkSpec {
  /** Trunk kind. */
  readonly kind: 'deep';
  /** Filters per block (default [32, 64, 128, 128]: four blocks). */
  readonly filters?: readonly number[];
  /** Convolutions per block (default 1). */
  readonly convsPerBlock?: 1 | 2;
  /** Kernel size (default 3). */
  readonly kernelSize?: number;
  /** Batch normalisation after every convolution (default true). */
  readonly batchNorm?: boolean;
  /**
   * Momentum of the BatchNorm moving statistics used at inference (default 0.99, as Keras). Short
   * runs need less (e.g. 0.9): with few steps the moving averages are still near their start.
   */
  readonly batchNormMomentum?: number;
  /** How the last feature map becomes a vector (default `flatten`). */
  readonly pooling?: 'flatten' | 'gap';
  /** Width of the dense layer after pooling; 0 for none (default 128). */
  readonly dense?: number;
  /** Dropout before (and after) the dense layer (default 0.2). */
  readonly dropout?: number;
}

/**
 * The shared feature extractor of a tree model: the seed CNN's, a configurable deep one, or a rotation-equivariant
 * one.
 */
export type TrunkSpec = SeedTrunkSpec | DeepTrunkSpec | CyclicTrunkSpec | ViewsTrunkSpec | GroupConvTrunkSpec;

/** Every trunk kind. */
export const TRUNK_KINDS: readonly TrunkSpec['kind'][] = ['seed', 'deep', 'cyclic', 'views', 'gconv'];

/** Defaults of the deep trunk's fields. */
export const DEFAULT_DEEP_TRUNK: Readonly<Required<Omit<DeepTrunkSpec, 'kind'>>> = {
  filters: [32, 64, 128, 128],
  convsPerBlock: 1,
  kernelSize: 3,
  batchNorm: true,
  batchNormMomentum: 0.99,
  pooling: 'flatten',
  dense: 128,
  dropout: 0.2,
};

export function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/**
 * Throws when the conv blocks shrank the input to nothing: tfjs would build the model and fail
 * only later, inside a kernel, with a shape message that names no layer.
 */
export function checkFeatureMap(x: tf.SymbolicTensor, input: tf.SymbolicTensor, trunk: string, minimum: string): void {
  const [, h, w] = x.shape;
  if ((h ?? 1) < 1 || (w ?? 1) < 1) {
    throw new RangeError(
      `a ${input.shape[1]}×${input.shape[2]} input is too small for the ${trunk} trunk: its conv blocks leave ` +
        `a ${h}×${w} feature map (${minimum})`,
    );
  }
}

/** The seed trunk up to its Dense(64, relu) feature layer (the seed model minus its output layer). */
export function seedTrunk(
  input: tf.SymbolicTensor,
  spec: SeedTrunkSpec = { kind: 'seed' },
  prefix = '',
): tf.SymbolicTensor {
  const dropout = spec.dropout ?? 0.2;
  let x = input;
  for (const [i, filters] of [32, 64, 128].entries()) {
    x = apply(conv2d({ filters, kernelSize: 3, activation: 'relu', name: `${prefix}conv${i + 1}` }), x);
    x = apply(tf.layers.maxPooling2d({ poolSize: 2, name: `${prefix}pool${i + 1}` }), x);
  }
  checkFeatureMap(x, input, 'seed', 'it needs at least 22 pixels');
  x = apply(dropoutLayer({ rate: dropout, name: `${prefix}dropout1` }), x);
  x = apply(tf.layers.flatten({ name: `${prefix}flatten` }), x);
  x = apply(tf.layers.dense({ units: 128, activation: 'relu', name: `${prefix}dense1` }), x);
  x = apply(dropoutLayer({ rate: dropout, name: `${prefix}dropout2` }), x);
  x = apply(tf.layers.dense({ units: 64, activation: 'relu', name: `${prefix}dense2` }), x);
  return x;
}

/** Resolved deep-trunk options (every field set). */
export type DeepTrunkOptions = Required<Omit<DeepTrunkSpec, 'kind'>>;

/** The deep trunk's defaults under the given spec's fields. */
export function deepOptions(
  spec: Partial<Omit<DeepTrunkSpec, 'kind'>>,
  defaults: DeepTrunkOptions = DEFAULT_DEEP_TRUNK,
): DeepTrunkOptions {
  const given = spec as Record<string, unknown>;
  const o = { ...defaults } as Record<string, unknown>;
  for (const key of Object.keys(defaults)) if (given[key] !== undefined) o[key] = given[key];
  const options = o as DeepTrunkOptions;
  if (options.filters.length === 0) throw new RangeError('a deep trunk needs at least one block (filters is empty)');
  return options;
}

/**
 * The deep trunk's conv blocks: per entry of `filters`, Conv-BN-ReLU (`convsPerBlock` times) then
 * MaxPool 2; `afterBlock` may transform the map between blocks (not after the last).
 */
export function convBlocks(
  input: tf.SymbolicTensor,
  o: DeepTrunkOptions,
  prefix = '',
  afterBlock?: (x: tf.SymbolicTensor, block: number) => tf.SymbolicTensor,
): tf.SymbolicTensor {
  let x = input;
  o.filters.forEach((filters, b) => {
    for (let c = 0; c < o.convsPerBlock; c++) {
      const name = `${prefix}block${b + 1}_conv${c + 1}`;
      x = apply(conv2d({ filters, kernelSize: o.kernelSize, padding: 'same', useBias: !o.batchNorm, name }), x);
      if (o.batchNorm) x = apply(batchNormalization({ momentum: o.batchNormMomentum, name: `${name}_bn` }), x);
      x = apply(tf.layers.activation({ activation: 'relu', name: `${name}_relu` }), x);
    }
    x = apply(tf.layers.maxPooling2d({ poolSize: 2, name: `${prefix}block${b + 1}_pool` }), x);
    if (afterBlock && b < o.filters.length - 1) x = afterBlock(x, b);
  });
  checkFeatureMap(x, input, 'deep', `${o.filters.length} blocks need at least ${2 ** o.filters.length} pixels`);
  return x;
}

/** Feature map → vector (flatten or global average pooling). */
export function poolFeatures(x: tf.SymbolicTensor, pooling: 'flatten' | 'gap', prefix = ''): tf.SymbolicTensor {
  return pooling === 'gap'
    ? apply(tf.layers.globalAveragePooling2d({ name: `${prefix}gap` }), x)
    : apply(tf.layers.flatten({ name: `${prefix}flatten` }), x);
}

/** Dropout, the dense feature layer, dropout (each only when configured). */
export function denseHead(
  x: tf.SymbolicTensor,
  o: Pick<DeepTrunkOptions, 'dense' | 'dropout'>,
  prefix = '',
): tf.SymbolicTensor {
  let y = x;
  if (o.dropout > 0) y = apply(dropoutLayer({ rate: o.dropout, name: `${prefix}dropout1` }), y);
  if (o.dense > 0) {
    y = apply(tf.layers.dense({ units: o.dense, activation: 'relu', name: `${prefix}dense` }), y);
    if (o.dropout > 0) y = apply(dropoutLayer({ rate: o.dropout, name: `${prefix}dropout2` }), y);
  }
  return y;
}

/** The deeper trunk; returns the feature vector. */
export function deepTrunk(
  input: tf.SymbolicTensor,
  spec: DeepTrunkSpec = { kind: 'deep' },
  prefix = '',
): tf.SymbolicTensor {
  const o = deepOptions(spec);
  return denseHead(poolFeatures(convBlocks(input, o, prefix), o.pooling, prefix), o, prefix);
}

export function buildTrunk(input: tf.SymbolicTensor, spec: TrunkSpec, prefix = ''): tf.SymbolicTensor {
  switch (spec.kind) {
    case 'seed':
      return seedTrunk(input, spec, prefix);
    case 'deep':
      return deepTrunk(input, spec, prefix);
    case 'cyclic':
      return cyclicTrunk(input, spec, prefix);
    case 'views':
      return viewsTrunk(input, spec, prefix);
    case 'gconv':
      return groupConvTrunk(input, spec, prefix);
    default:
      throw new RangeError(`unknown trunk kind ${String((spec as { kind: unknown }).kind)}`);
  }
}

/** A config's model section as far as trunks go (`src/experiments/config.ts`: every field optional). */
export interface TrunkFields extends Omit<DeepTrunkSpec, 'kind'> {
  readonly trunk?: TrunkSpec['kind'];
  readonly group?: 'c4' | 'd4' | 'p4' | 'p4m';
  readonly roll?: boolean;
  readonly merge?: 'mean' | 'rms' | 'concat';
  readonly viewCrop?: number;
  readonly viewCropSize?: number;
  readonly viewPart?: number;
  readonly groupPool?: 'max' | 'mean';
}

/** The trunks that build rotation invariance in (flat and per-question models take only these from a config). */
export const EQUIVARIANT_TRUNKS: readonly TrunkSpec['kind'][] = ['cyclic', 'views', 'gconv'];

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The trunk a config's model section describes (default `seed`). Fields of other trunks are ignored
 * (variants inherit the base model's fields); a group that the chosen trunk cannot use throws a
 * ConfigError naming the field.
 */
export function trunkFromFields(m: TrunkFields): TrunkSpec {
  const kind = m.trunk ?? 'seed';
  if (kind === 'seed') return { kind, ...defined({ dropout: m.dropout }) };
  const deep = defined({
    filters: m.filters,
    convsPerBlock: m.convsPerBlock,
    kernelSize: m.kernelSize,
    batchNorm: m.batchNorm,
    batchNormMomentum: m.batchNormMomentum,
    pooling: m.pooling,
    dense: m.dense,
    dropout: m.dropout,
  });
  if (kind === 'deep') return { kind, ...deep };
  if (kind === 'cyclic') {
    if (m.group === 'p4' || m.group === 'p4m')
      throw new ConfigError(`model.group of the cyclic trunk is c4 or d4, got "${m.group}"`);
    if (m.merge === 'concat')
      throw new ConfigError('model.merge of the cyclic trunk is mean or rms (concat is for the views trunk)');
    return {
      kind,
      ...deep,
      ...defined({
        group: m.group as 'c4' | 'd4' | undefined,
        roll: m.roll,
        merge: m.merge as 'mean' | 'rms' | undefined,
      }),
    };
  }
  if (kind === 'views')
    return {
      kind,
      ...deep,
      ...defined({ crop: m.viewCrop, cropSize: m.viewCropSize, part: m.viewPart, merge: m.merge }),
    };
  if (m.group === 'c4' || m.group === 'd4')
    throw new ConfigError(`model.group of the gconv trunk is p4 or p4m, got "${m.group}"`);
  return { kind, ...deep, ...defined({ group: m.group as 'p4' | 'p4m' | undefined, groupPool: m.groupPool }) };
}
