import * as tf from '@tensorflow/tfjs';
import { groupElements, groupOrder, inverse, transformSpatial, type GroupName } from './group.js';
import { firstInput, firstShape, type Kwargs, type LayerArgs } from './layer-util.js';

export interface CyclicSliceArgs extends LayerArgs {
  /** `c4`: 4 rotated copies; `d4`: 8 rotated and mirrored copies (default `d4`). */
  readonly group?: GroupName;
}

/**
 * Cyclic slice (Dieleman, De Fauw & Kavukcuoglu 2016): stacks transformed copies of an N×S×S×C
 * batch along the batch axis, copy-major: rows g·N … g·N + N − 1 hold T_g⁻¹(x) for element g.
 * Layers after it see G·N images and share their weights across the copies; a
 * {@link CyclicPool} folds the copies back. Transforming the input by h permutes the copies
 * (copy g becomes copy h⁻¹g), which is what makes slice → shared trunk → pool invariant.
 */
export class CyclicSlice extends tf.layers.Layer {
  static readonly className = 'CyclicSlice';
  readonly group: GroupName;

  constructor(args: CyclicSliceArgs = {}) {
    super(args);
    this.group = args.group ?? 'd4';
    groupOrder(this.group);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    if (shape.length !== 4 || shape[1] !== shape[2]) {
      throw new RangeError(`CyclicSlice expects square images [batch, S, S, channels], got [${shape.join(', ')}]`);
    }
    return [shape[0] === null ? null : shape[0] * groupOrder(this.group), shape[1], shape[2], shape[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = firstInput(inputs);
    return tf.tidy(() =>
      tf.concat(
        groupElements(this.group).map((g) => transformSpatial(x, inverse(g), 1)),
        0,
      ),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), group: this.group };
  }
}
tf.serialization.registerClass(CyclicSlice);
