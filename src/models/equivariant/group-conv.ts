import * as tf from '@tensorflow/tfjs';
import { compose, groupElements, groupOrder, inverse, transformSpatial } from './group.js';
import { firstInput, firstShape, type Kwargs, type LayerArgs } from './layer-util.js';

export interface GroupConv2DArgs extends LayerArgs {
  /** Output fields; the layer outputs `filters`·G channels, group-major (channel g·filters + o). */
  readonly filters: number;
  /** Odd square kernel side (default 3). */
  readonly kernelSize?: number;
  /** `p4` rotations or `p4m` rotations and mirrors (default `p4m`). */
  readonly group?: 'p4' | 'p4m';
  /** True for the first layer, whose input is a plain image (Z² → G lifting convolution). */
  readonly lifting?: boolean;
  readonly padding?: 'same' | 'valid';
  /** One bias per field, shared by its G orientations (default true). */
  readonly useBias?: boolean;
}

/**
 * Group-equivariant convolution (Cohen & Welling 2016) for p4 or p4m. One learned kernel per
 * (input channel, input orientation, output field); the G orientations of every output field use
 * that kernel transformed by T_g on its spatial axes and, for group input, with its input
 * orientations permuted (h → g⁻¹h). The transformed kernels share the weights, and the whole
 * bank runs as one conv2d. Group feature maps are laid out group-major: channel g·C + c.
 * Transforming the input by h transforms every output field by h spatially and moves orientation
 * g to h∘g. Exact on square maps with an odd kernel.
 */
export class GroupConv2D extends tf.layers.Layer {
  static readonly className = 'GroupConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly group: 'p4' | 'p4m';
  readonly lifting: boolean;
  readonly padding: 'same' | 'valid';
  readonly useBias: boolean;
  /** Read by `seedInitialWeights`, which redraws `kernel` from a seeded copy of it. */
  readonly kernelInitializer = tf.initializers.heNormal({});
  readonly biasInitializer = tf.initializers.zeros();
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: GroupConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize ?? 3;
    this.group = args.group ?? 'p4m';
    this.lifting = args.lifting ?? false;
    this.padding = args.padding ?? 'same';
    this.useBias = args.useBias ?? true;
    if (!Number.isInteger(this.filters) || this.filters < 1)
      throw new RangeError(`GroupConv2D filters must be a positive integer, got ${this.filters}`);
    if (!Number.isInteger(this.kernelSize) || this.kernelSize % 2 !== 1)
      throw new RangeError(`GroupConv2D kernelSize must be odd, got ${this.kernelSize}`);
    if (this.group !== 'p4' && this.group !== 'p4m')
      throw new RangeError(`GroupConv2D group must be p4 or p4m, got ${JSON.stringify(this.group)}`);
  }

  private get order(): number {
    return groupOrder(this.group);
  }

  /** Input orientations per channel: 1 for a lifting layer, G otherwise. */
  private inputOrientations(): number {
    return this.lifting ? 1 : this.order;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const channels = firstShape(inputShape)[3];
    if (channels === null || channels === undefined || channels % this.inputOrientations() !== 0) {
      throw new RangeError(
        `${this.name}: ${channels} input channels are not ${this.inputOrientations()} orientations of whole fields`,
      );
    }
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels, this.filters], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = firstShape(inputShape);
    const shrink = this.padding === 'valid' ? this.kernelSize - 1 : 0;
    return [
      n ?? null,
      h === null || h === undefined ? null : h - shrink,
      w === null || w === undefined ? null : w - shrink,
      this.filters * this.order,
    ];
  }

  /** The full filter bank k×k×C_in×(G·filters) built from the shared kernel. */
  filterBank(kernel: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [k, , cin, f] = kernel.shape;
      const gin = this.inputOrientations();
      const fields = tf.reshape(kernel, [k, k, gin, cin / gin, f]);
      const bank = groupElements(this.group).map((g) => {
        const permuted = this.lifting
          ? fields
          : tf.gather(
              fields,
              groupElements(this.group).map((h) => compose(inverse(g), h)),
              2,
            );
        return transformSpatial(tf.reshape(permuted, [k, k, cin, f]), g, 0);
      });
      return tf.reshape(tf.stack(bank, 3), [k, k, cin, this.order * f]) as tf.Tensor4D;
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = firstInput(inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const bank = this.filterBank(this.kernel!.read() as tf.Tensor4D);
      const y = tf.conv2d(x, bank, 1, this.padding);
      return this.bias ? tf.add(y, tf.tile(this.bias.read(), [this.order])) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      group: this.group,
      lifting: this.lifting,
      padding: this.padding,
      useBias: this.useBias,
    };
  }
}
tf.serialization.registerClass(GroupConv2D);
