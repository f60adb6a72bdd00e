import * as tf from '@tensorflow/tfjs';
import { ANSWER_COUNT, type Convention, type Q6Reach } from '../questions/index.js';
import { cumulativeFromConditional } from './tree-ops.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

/** Arguments of a DecisionTreeLayer. */
export interface DecisionTreeLayerArgs extends LayerArgs {
  /**
   * `cumulative` (default): answer × reach probability of its question (Kaggle convention);
   * `conditional`: the per-question distributions unchanged (GZ2 convention).
   */
  output?: Convention;
  /** How Q6's reach is defined for cumulative output (default `kaggle`: always 1). */
  q6Reach?: Q6Reach;
}

/**
 * Turns N×37 per-question conditional distributions (each question's segment sums to 1) into the
 * 37 cumulative outputs by multiplying each question by its reach probability, computed in
 * topological order from the tree in `src/questions`. No weights; serializable.
 */
export class DecisionTreeLayer extends tf.layers.Layer {
  /** Name under which the layer is serialised. */
  static readonly className = 'DecisionTreeLayer';
  /** What the layer outputs (config key `output`). */
  readonly convention: Convention;
  /** How Q6 is reached (see DecisionTreeLayerArgs.q6Reach). */
  readonly q6Reach: Q6Reach;

  constructor(args: DecisionTreeLayerArgs = {}) {
    super(args);
    this.convention = args.output ?? 'cumulative';
    this.q6Reach = args.q6Reach ?? 'kaggle';
    if (this.convention !== 'cumulative' && this.convention !== 'conditional') {
      throw new RangeError(
        `DecisionTreeLayer output must be 'cumulative' or 'conditional', got ${String(this.convention)}`,
      );
    }
    if (this.q6Reach !== 'kaggle' && this.q6Reach !== 'tree') {
      throw new RangeError(`DecisionTreeLayer q6Reach must be 'kaggle' or 'tree', got ${String(this.q6Reach)}`);
    }
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 2 || (shape[1] !== null && shape[1] !== ANSWER_COUNT)) {
      throw new RangeError(`DecisionTreeLayer expects input [batch, ${ANSWER_COUNT}], got [${shape.join(', ')}]`);
    }
    return [shape[0], ANSWER_COUNT];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      return this.convention === 'conditional' ? tf.clone(x) : cumulativeFromConditional(x, this.q6Reach);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), output: this.convention, q6Reach: this.q6Reach };
  }
}
tf.serialization.registerClass(DecisionTreeLayer);

/** The model's DecisionTreeLayer when it is the final layer, else null (e.g. the flat model). */
export function findTreeLayer(model: tf.LayersModel): DecisionTreeLayer | null {
  const last = model.layers[model.layers.length - 1];
  return last instanceof DecisionTreeLayer ? last : null;
}

/** Options of `treeModel`. */
export interface TreeModelOptions {
  /** Convention of the model's output (default cumulative). */
  readonly output?: Convention;
  /** How Q6 is reached (default `kaggle`). */
  readonly q6Reach?: Q6Reach;
  /** Learning rate of the compiled model's Adam optimiser. */
  readonly learningRate?: number;
}

/**
 * Closes a tree model: per-question conditional distributions (N×37) → DecisionTreeLayer →
 * a model compiled with Adam + MSE, the form every tree-aware model kind shares.
 */
export function treeModel(
  input: tf.SymbolicTensor,
  conditional: tf.SymbolicTensor,
  name: string,
  options: TreeModelOptions,
): tf.LayersModel {
  const output = new DecisionTreeLayer({
    name: 'decision_tree',
    output: options.output ?? 'cumulative',
    q6Reach: options.q6Reach ?? 'kaggle',
  }).apply(conditional) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name });
  model.compile({ optimizer: tf.train.adam(options.learningRate ?? 1e-3), loss: 'meanSquaredError' });
  return model;
}
