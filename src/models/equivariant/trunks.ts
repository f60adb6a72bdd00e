/**
 * The rotation-equivariant trunks: `cyclic` (slice → shared deep trunk with optional rolls → pool),
 * `views` (the Kaggle winner's 16 views through one conv stack) and `gconv` (p4/p4m group
 * convolutions with group pooling). Each returns a feature vector for the model's heads.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from '../batch-normalization.js';
import {
  apply,
  checkFeatureMap,
  convBlocks,
  deepOptions,
  denseHead,
  poolFeatures,
  DEFAULT_DEEP_TRUNK,
  type DeepTrunkOptions,
  type DeepTrunkSpec,
} from '../trunk.js';
import { CyclicPool, type PoolMode } from './cyclic-pool.js';
import { CyclicRoll } from './cyclic-roll.js';
import { CyclicSlice } from './cyclic-slice.js';
import { groupOrder } from './group.js';
import { GroupConv2D } from './group-conv.js';
import { GroupPool } from './group-pool.js';
import { KaggleViews } from './kaggle-views.js';
import { VIEW_COUNT } from './view-geometry.js';

type DeepFields = Omit<DeepTrunkSpec, 'kind'>;

/**
 * Dieleman et al. 2016: the deep trunk applied to every rotated (and mirrored) copy, pooled over copies. Invariant to
 * D4 (`d4`) or to quarter turns (`c4`).
 */
export interface CyclicTrunkSpec extends DeepFields {
  /** Trunk kind. */
  readonly kind: 'cyclic';
  /** Copies: `c4` 4 rotations, `d4` also mirrored, 8 (default `d4`). */
  readonly group?: 'c4' | 'd4';
  /**
   * Cyclic roll after every conv block but the last (default false; multiplies the next block's input channels by G).
   */
  readonly roll?: boolean;
  /** How the copies' dense features are pooled (default `mean`). */
  readonly merge?: 'mean' | 'rms';
}

/** The 2014 Kaggle winner's view architecture: 16 corner views of two crops, one shared conv stack, merged features. */
export interface ViewsTrunkSpec extends DeepFields {
  /** Trunk kind. */
  readonly kind: 'views';
  /** Centre region side, input pixels (default: whole input; the 45° crop reads 0 beyond the image). */
  readonly crop?: number;
  /** Side the crop is resampled to (default `crop`). */
  readonly cropSize?: number;
  /** Corner part side (default 45/69 of cropSize). */
  readonly part?: number;
  /** `concat` (the winner's, default): learned; `mean`/`rms`: invariant to quarter turns and mirrors. */
  readonly merge?: PoolMode;
}

/** Group-equivariant convolutions (Cohen & Welling 2016): p4 or p4m fields, group BN, group pooling, global pooling. */
export interface GroupConvTrunkSpec extends DeepFields {
  /** Trunk kind. */
  readonly kind: 'gconv';
  /** Default `p4m`. */
  readonly group?: 'p4' | 'p4m';
  /** Reduction over the orientations at the end (default `max`). */
  readonly groupPool?: 'max' | 'mean';
}

/**
 * Defaults of the group-convolution trunk: fewer fields than the deep trunk (each has G
 * orientations), global average pooling. A function: trunk.ts and this module import each other.
 */
export function gconvDefaults(): DeepTrunkOptions {
  return { ...DEFAULT_DEEP_TRUNK, filters: [8, 16, 32, 32], pooling: 'gap' };
}

export function cyclicTrunk(input: tf.SymbolicTensor, spec: CyclicTrunkSpec, prefix = ''): tf.SymbolicTensor {
  const o = deepOptions(spec);
  const group = spec.group ?? 'd4';
  const copies = apply(new CyclicSlice({ group, name: `${prefix}cyclic_slice` }), input);
  const roll = spec.roll
    ? (x: tf.SymbolicTensor, b: number) => apply(new CyclicRoll({ group, name: `${prefix}cyclic_roll${b + 1}` }), x)
    : undefined;
  const features = denseHead(poolFeatures(convBlocks(copies, o, prefix, roll), o.pooling, prefix), o, prefix);
  return apply(
    new CyclicPool({ copies: groupOrder(group), mode: spec.merge ?? 'mean', name: `${prefix}cyclic_pool` }),
    features,
  );
}

export function viewsTrunk(input: tf.SymbolicTensor, spec: ViewsTrunkSpec, prefix = ''): tf.SymbolicTensor {
  const o = deepOptions(spec);
  const args = {
    ...(spec.crop ? { crop: spec.crop } : {}),
    ...(spec.cropSize ? { cropSize: spec.cropSize } : {}),
    ...(spec.part ? { part: spec.part } : {}),
  };
  const views = apply(new KaggleViews({ ...args, name: `${prefix}views` }), input);
  const features = poolFeatures(convBlocks(views, o, prefix), o.pooling, prefix);
  const merged = apply(
    new CyclicPool({ copies: VIEW_COUNT, mode: spec.merge ?? 'concat', name: `${prefix}view_merge` }),
    features,
  );
  return denseHead(merged, o, prefix);
}

/** BatchNorm with one mean/variance/γ/β per field, shared by its orientations (keeps equivariance). */
function groupBatchNorm(x: tf.SymbolicTensor, order: number, momentum: number, name: string): tf.SymbolicTensor {
  const [, h, w, channels] = x.shape as number[];
  const fields = channels! / order;
  let y = apply(tf.layers.reshape({ targetShape: [h!, w! * order, fields], name: `${name}_split` }), x);
  y = apply(batchNormalization({ momentum, name }), y);
  return apply(tf.layers.reshape({ targetShape: [h!, w!, channels!], name: `${name}_join` }), y);
}

export function groupConvTrunk(input: tf.SymbolicTensor, spec: GroupConvTrunkSpec, prefix = ''): tf.SymbolicTensor {
  const o = deepOptions(spec, gconvDefaults());
  const group = spec.group ?? 'p4m';
  const order = groupOrder(group);
  let x = input;
  o.filters.forEach((filters, b) => {
    for (let c = 0; c < o.convsPerBlock; c++) {
      const name = `${prefix}gblock${b + 1}_conv${c + 1}`;
      const lifting = b === 0 && c === 0;
      x = apply(new GroupConv2D({ filters, kernelSize: o.kernelSize, group, lifting, useBias: !o.batchNorm, name }), x);
      if (o.batchNorm) x = groupBatchNorm(x, order, o.batchNormMomentum, `${name}_bn`);
      x = apply(tf.layers.activation({ activation: 'relu', name: `${name}_relu` }), x);
    }
    x = apply(tf.layers.maxPooling2d({ poolSize: 2, name: `${prefix}gblock${b + 1}_pool` }), x);
  });
  checkFeatureMap(x, input, 'gconv', `${o.filters.length} blocks need at least ${2 ** o.filters.length} pixels`);
  x = apply(new GroupPool({ group, mode: spec.groupPool ?? 'max', name: `${prefix}group_pool` }), x);
  return denseHead(poolFeatures(x, o.pooling, prefix), o, prefix);
}
