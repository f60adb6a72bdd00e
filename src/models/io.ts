import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
// Register the custom layers so every saved model can be loaded again.
import './decision-tree-layer.js';
import './question-softmax.js';
import './equivariant/register.js';
import { writeDirAtomic, resolveAtomicDir } from '../util/atomic.js';
import { CorruptArtifactError } from '../errors.js';
import { MANIFEST_FILE, readManifest, writeManifest, type ModelManifest } from './manifest.js';
import { MODEL_REPAIR, verifyInputShape, verifyWeights } from './verify.js';

/** File name of a saved model's topology and weights manifest. */
export const MODEL_JSON = 'model.json';
/** File name of a saved model's weights. */
export const WEIGHTS_BIN = 'weights.bin';

function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return tf.io.CompositeArrayBuffer.join(data);
}

/** Writes model artifacts in the standard tfjs layers format: model.json + one weights.bin. */
export async function writeArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): Promise<void> {
  const weights = joinWeightData(artifacts.weightData);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  await writeFile(join(dir, MODEL_JSON), JSON.stringify(modelJson));
  await writeFile(join(dir, WEIGHTS_BIN), new Uint8Array(weights));
}

/**
 * Reads artifacts written by `writeArtifacts` (or any single-directory tfjs layers model) and
 * verifies them (`verifyWeights`): a file that is missing, unparseable, of the wrong size or with
 * non-finite weights is a CorruptArtifactError naming it.
 */
export async function readArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const file = join(dir, MODEL_JSON);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new CorruptArtifactError(file, `not a readable model.json (${(error as Error).message})`, MODEL_REPAIR, {
      cause: error,
    });
  }
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology) {
    throw new CorruptArtifactError(file, 'no model topology', MODEL_REPAIR);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of modelJson.weightsManifest ?? []) {
    const groupBuffers: ArrayBuffer[] = [];
    for (const path of group.paths) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(dir, path));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new CorruptArtifactError(join(dir, path), `cannot read weights (${code})`, MODEL_REPAIR, {
          cause: error,
        });
      }
      groupBuffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
    const where = group.paths.length === 1 ? join(dir, group.paths[0]) : `${dir} (${group.paths.join(', ')})`;
    verifyWeights(where, group.weights, tf.io.CompositeArrayBuffer.join(groupBuffers));
    specs.push(...group.weights);
    buffers.push(...groupBuffers);
  }
  return {
    modelTopology: modelJson.modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    trainingConfig: modelJson.trainingConfig,
    userDefinedMetadata: modelJson.userDefinedMetadata,
    weightSpecs: specs,
    weightData: tf.io.CompositeArrayBuffer.join(buffers),
  };
}

/**
 * A tfjs IOHandler over a local directory (plain @tensorflow/tfjs has no `file://` handler):
 * `model.save(fileSystemHandler(dir))` writes model.json + weights.bin into `dir` (not atomically:
 * use `saveModel` for that) and `tf.loadLayersModel(fileSystemHandler(dir))` reads them back.
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts) => {
      await writeArtifacts(dir, artifacts);
      return { modelArtifactsInfo: artifactsInfo(artifacts) };
    },
    load: () => readArtifacts(dir),
  };
}

function artifactsInfo(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifactsInfo {
  return {
    dateSaved: new Date(),
    modelTopologyType: 'JSON',
    modelTopologyBytes: JSON.stringify(artifacts.modelTopology ?? {}).length,
    weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
    weightDataBytes: joinWeightData(artifacts.weightData).byteLength,
  };
}

/** Options of `saveModel`. */
export interface SaveModelOptions {
  /** Written as manifest.json next to the model. */
  readonly manifest?: ModelManifest;
  /** Extra files to write into the same directory (name → contents), inside the same atomic step. */
  readonly extraFiles?: Readonly<Record<string, string | Uint8Array>>;
  /** Include the optimizer in model.json's trainingConfig (default false). */
  readonly includeOptimizer?: boolean;
}

/** Saves a model (and its manifest) into `dir` atomically: a temp directory renamed into place. */
export async function saveModel(model: tf.LayersModel, dir: string, options: SaveModelOptions = {}): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await model.save(fileSystemHandler(tmp), { includeOptimizer: options.includeOptimizer ?? false });
    if (options.manifest) await writeManifest(tmp, options.manifest);
    for (const [name, contents] of Object.entries(options.extraFiles ?? {})) {
      await writeFile(join(tmp, name), contents);
    }
  });
}

/** A model read by `loadModel`, with its manifest. */
export interface LoadedModel {
  /** The model. */
  readonly model: tf.LayersModel;
  /** Present when the directory has a manifest.json (checked against this build's TREE_VERSION). */
  readonly manifest?: ModelManifest;
}

/**
 * Loads a model saved by `saveModel`, verified: the manifest (when there is one) is checked first,
 * the weights as `readArtifacts` does, and the model's input shape against the manifest's. A load
 * that fails leaves no tensor behind.
 */
export async function loadModel(dir: string, options: { requireManifest?: boolean } = {}): Promise<LoadedModel> {
  const resolved = resolveAtomicDir(dir);
  if (resolved === null) throw new Error(`${dir}: no saved model here`);
  let manifest: ModelManifest | undefined;
  try {
    manifest = await readManifest(resolved);
  } catch (error) {
    const missing = (error as Error).message.includes('ENOENT');
    if (!missing || options.requireManifest) throw error;
  }
  const artifacts = await readArtifacts(resolved);
  const model = await modelFromArtifacts(artifacts, join(resolved, MODEL_JSON));
  if (manifest) {
    try {
      verifyInputShape(join(resolved, MANIFEST_FILE), model, manifest.inputShape);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  return manifest ? { model, manifest } : { model };
}

/**
 * Builds a model from verified artifacts as `tf.loadLayersModel` does, but frees everything when it
 * fails: the model built so far and the decoded weight tensors (tfjs leaks both when the weights do
 * not fit the layers).
 */
async function modelFromArtifacts(artifacts: tf.io.ModelArtifacts, file: string): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    model = (await tf.models.modelFromJSON({
      modelTopology: artifacts.modelTopology,
    } as tf.io.ModelJSON)) as tf.LayersModel;
  } catch (error) {
    throw new CorruptArtifactError(file, `model topology cannot be built (${(error as Error).message})`, MODEL_REPAIR, {
      cause: error,
    });
  }
  const values = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs ?? []);
  try {
    model.loadWeights(values, true);
    if (artifacts.trainingConfig)
      model.loadTrainingConfig(artifacts.trainingConfig as Parameters<tf.LayersModel['loadTrainingConfig']>[0]);
    return model;
  } catch (error) {
    model.dispose();
    throw new CorruptArtifactError(file, `weights do not fit the model (${(error as Error).message})`, MODEL_REPAIR, {
      cause: error,
    });
  } finally {
    tf.dispose(Object.values(values));
  }
}
