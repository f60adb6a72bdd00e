import * as tf from '@tensorflow/tfjs';
import { compose, groupElements, groupOrder, transformSpatial, type GroupName } from './group.js';
import { firstInput, firstShape, splitCopies, type Kwargs, type LayerArgs } from './layer-util.js';

export interface CyclicRollArgs extends LayerArgs {
  /** The group of the {@link CyclicSlice} that stacked the copies (default `d4`). */
  readonly group?: GroupName;
}

/**
 * Cyclic roll (Dieleman et al. 2016): on a copy-major stack of G·N feature maps, copy g becomes
 * the channel-wise concatenation over the group elements u (in order) of copy g∘u's features,
 * brought into copy g's orientation by T_u. Channels grow G-fold; each copy sees how the galaxy
 * looks from every orientation. A transformed input permutes the output copies exactly as it
 * permutes the input copies, so a later {@link CyclicPool} stays invariant. Works on N×H×W×C
 * maps (H = W) and on N×F feature vectors (no spatial re-orientation).
 */
export class CyclicRoll extends tf.layers.Layer {
  static readonly className = 'CyclicRoll';
  readonly group: GroupName;

  constructor(args: CyclicRollArgs = {}) {
    super(args);
    this.group = args.group ?? 'd4';
    groupOrder(this.group);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    if (!(shape.length === 2 || (shape.length === 4 && shape[1] === shape[2]))) {
      throw new RangeError(
        `CyclicRoll expects [batch, S, S, channels] or [batch, features], got [${shape.join(', ')}]`,
      );
    }
    const last = shape[shape.length - 1]!;
    return [...shape.slice(0, -1), last === null ? null : last * groupOrder(this.group)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = firstInput(inputs);
    const elements = groupElements(this.group);
    return tf.tidy(() => {
      const parts = splitCopies(x, elements.length, this.name);
      const rolled = elements.map((g) =>
        tf.concat(
          elements.map((u) => (x.rank === 4 ? transformSpatial(parts[compose(g, u)]!, u, 1) : parts[compose(g, u)]!)),
          -1,
        ),
      );
      return tf.concat(rolled, 0);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), group: this.group };
  }
}
tf.serialization.registerClass(CyclicRoll);
