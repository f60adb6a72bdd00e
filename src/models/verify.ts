import type * as tf from '@tensorflow/tfjs';
import { CorruptArtifactError } from '../errors.js';

/**
 * Checks of a saved model's artifacts before any tensor is made from them: the weight files hold
 * exactly the bytes the weights manifest describes, and every floating-point weight is finite.
 * A model that fails is refused with an error naming the file, never loaded with made-up weights.
 */
export const MODEL_REPAIR =
  'Restore the model folder from a good copy, or train it again (`gzh run … --resume <id>` retrains models ' +
  'that are missing)';

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = DTYPE_BYTES[dtype];
  if (bytes === undefined) throw new Error(`weight ${spec.name}: unsupported dtype ${dtype}`);
  return count * bytes;
}

/** Throws a CorruptArtifactError unless `data` holds exactly `specs`' bytes with finite float weights. */
export function verifyWeights(file: string, specs: readonly tf.io.WeightsManifestEntry[], data: ArrayBuffer): void {
  let expected = 0;
  for (const spec of specs) {
    if (
      typeof spec.name !== 'string' ||
      !Array.isArray(spec.shape) ||
      spec.shape.some((d) => !Number.isInteger(d) || d < 0)
    ) {
      throw new CorruptArtifactError(
        file,
        `weights manifest entry ${JSON.stringify(spec.name)} has no valid shape`,
        MODEL_REPAIR,
      );
    }
    expected += specBytes(spec);
  }
  if (data.byteLength !== expected) {
    throw new CorruptArtifactError(
      file,
      `holds ${data.byteLength} bytes but model.json's weights manifest describes ${expected} ` +
        `(${data.byteLength < expected ? 'truncated' : 'extra bytes'})`,
      MODEL_REPAIR,
    );
  }
  let offset = 0;
  for (const spec of specs) {
    const bytes = specBytes(spec);
    if (spec.dtype === 'float32' && !spec.quantization) {
      const values = new Float32Array(data, offset, bytes / 4);
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) {
          throw new CorruptArtifactError(
            file,
            `weight ${spec.name} holds a non-finite value (${values[i]}) at element ${i}`,
            MODEL_REPAIR,
          );
        }
      }
    }
    offset += bytes;
  }
}

/** Throws unless the model's input is [batch, ...inputShape] as its manifest says. */
export function verifyInputShape(file: string, model: tf.LayersModel, inputShape: readonly number[]): void {
  const shape = model.inputs[0]?.shape ?? [];
  const actual = shape.slice(1);
  if (model.inputs.length !== 1 || actual.length !== inputShape.length || actual.some((d, i) => d !== inputShape[i])) {
    throw new CorruptArtifactError(
      file,
      `manifest says input ${inputShape.join('×')} but model.json's model takes ` +
        `${model.inputs.length === 1 ? actual.join('×') : `${model.inputs.length} inputs`}`,
      MODEL_REPAIR,
    );
  }
}
