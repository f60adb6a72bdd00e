import * as tf from '@tensorflow/tfjs';
import { groupOrder, type GroupName } from './group.js';
import { firstInput, firstShape, type Kwargs, type LayerArgs } from './layer-util.js';

export interface GroupPoolArgs extends LayerArgs {
  readonly group?: GroupName;
  /** Default `max`. */
  readonly mode?: 'max' | 'mean';
}

/**
 * Group pooling: reduces each field of a group-major feature map (channel g·C + c, from
 * {@link GroupConv2D}) over its G orientations, leaving C channels that transform like an image
 * (no orientation axis left). Followed by global spatial pooling it gives invariant features.
 */
export class GroupPool extends tf.layers.Layer {
  static readonly className = 'GroupPool';
  readonly group: GroupName;
  readonly mode: 'max' | 'mean';

  constructor(args: GroupPoolArgs = {}) {
    super(args);
    this.group = args.group ?? 'p4m';
    this.mode = args.mode ?? 'max';
    groupOrder(this.group);
    if (this.mode !== 'max' && this.mode !== 'mean')
      throw new RangeError(`GroupPool mode must be max or mean, got ${JSON.stringify(this.mode)}`);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    const last = shape[shape.length - 1];
    const g = groupOrder(this.group);
    if (last === null || last === undefined || last % g !== 0)
      throw new RangeError(`GroupPool: ${last} channels are not ${g} orientations of whole fields`);
    return [...shape.slice(0, -1), last / g];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = firstInput(inputs);
    return tf.tidy(() => {
      const g = groupOrder(this.group);
      const last = x.shape[x.rank - 1]!;
      const split = tf.reshape(x, [...x.shape.slice(0, -1), g, last / g]);
      return this.mode === 'max' ? tf.max(split, x.rank - 1) : tf.mean(split, x.rank - 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), group: this.group, mode: this.mode };
  }
}
tf.serialization.registerClass(GroupPool);
