/**
 * The parts of tfjs-node's NodeJSKernelBackend the project's native kernels and layers use to run
 * TensorFlow ops directly, and small helpers around them.
 */
import * as tf from '@tensorflow/tfjs';

export interface OpAttr {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
}

export interface NodeBackend {
  readonly binding: {
    readonly TF_ATTR_TYPE: number;
    readonly TF_ATTR_BOOL: number;
    readonly TF_ATTR_FLOAT: number;
    readonly TF_ATTR_INT: number;
    readonly TF_ATTR_STRING: number;
    readonly TF_BOOL: number;
  };
  getDTypeInteger(dtype: tf.DataType): number;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

/** True when the active backend is tfjs-node's `tensorflow`, where TensorFlow ops can be run directly. */
export function onNativeBackend(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/** The active backend as tfjs-node's (call only when {@link onNativeBackend}). */
export function nodeBackend(): NodeBackend {
  return tf.backend() as unknown as NodeBackend;
}

/** A dtype attribute (`T`, `dtype`, …). */
export function typeAttr(backend: NodeBackend, name: string, dtype: tf.DataType): OpAttr {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.getDTypeInteger(dtype) };
}
