import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { TREE_VERSION, type Convention, type Q6Reach } from '../questions/index.js';
import { findTreeLayer } from './decision-tree-layer.js';

/** File name of a model's manifest in its folder. */
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'gzh-model-manifest';
export const MANIFEST_FORMAT_VERSION = 1;

/** Saved next to every model: what it is, how to feed it and how to read its outputs. */
export interface ModelManifest {
  /** Marks the file as a model manifest. */
  readonly format: typeof MANIFEST_FORMAT;
  /** Version of the manifest layout. */
  readonly formatVersion: number;
  /** Registry kind (`flat`, `hierarchical`, `per-question`, …). */
  readonly kind: string;
  /** The options the model was built with (registry spec). */
  readonly options: unknown;
  /** [height, width, channels] of one input image. */
  readonly inputShape: readonly [number, number, number];
  /** Opaque description of the image preprocessing the model expects (owned by the data pipeline). */
  readonly preprocessing: unknown;
  /** Convention of the model's 37 outputs. */
  readonly convention: Convention;
  /** Q6 reach used by the model's cumulative outputs. */
  readonly q6Reach: Q6Reach;
  /** TREE_VERSION of the decision tree the outputs are ordered by. */
  readonly treeVersion: string;
  /** Training / evaluation metrics worth keeping with the model. */
  readonly metrics: Readonly<Record<string, number>>;
  /** ISO time the manifest was made. */
  readonly createdAt: string;
}

/** What `createManifest` records about a model. */
export interface ManifestInput {
  /** Model kind (flat, hierarchical, per-question, …). */
  readonly kind: string;
  /** The options the model was built with. */
  readonly options?: unknown;
  /** How its input images were preprocessed (mode, size, channels, decoder …). */
  readonly preprocessing?: unknown;
  /** Scores to keep with the model, e.g. test RMSE. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Defaults: read from the model's DecisionTreeLayer; `cumulative`/`kaggle` for models without one. */
  readonly convention?: Convention;
  /** How Q6 is reached in the model's tree (default: the tree layer's, else `kaggle`). */
  readonly q6Reach?: Q6Reach;
}

/** A manifest for `model`, with input shape and output convention read from the model itself. */
export function createManifest(model: tf.LayersModel, input: ManifestInput): ModelManifest {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw new RangeError(`model input must be [batch, height, width, channels], got [${shape?.join(', ')}]`);
  }
  const tree = findTreeLayer(model);
  return {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_FORMAT_VERSION,
    kind: input.kind,
    options: input.options ?? {},
    inputShape: [shape[1] as number, shape[2] as number, shape[3] as number],
    preprocessing: input.preprocessing ?? null,
    convention: input.convention ?? tree?.convention ?? 'cumulative',
    q6Reach: input.q6Reach ?? tree?.q6Reach ?? 'kaggle',
    treeVersion: TREE_VERSION,
    metrics: input.metrics ?? {},
    createdAt: new Date().toISOString(),
  };
}

/** Write a manifest into a model folder (atomically). */
export async function writeManifest(dir: string, manifest: ModelManifest): Promise<void> {
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Reads and checks a manifest. Throws an error naming the file when it is not a manifest, or when
 * it was written for another version of the decision tree (its outputs would be misread).
 */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read model manifest: ${(error as Error).message}`);
  }
  return checkManifest(parsed, file);
}

/** Check that `value` is a model manifest this build can use; throws CorruptArtifactError naming `file` if not. */
export function checkManifest(value: unknown, file: string): ModelManifest {
  const m = value as Partial<ModelManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== MANIFEST_FORMAT) {
    throw new Error(`${file}: not a galaxy-zoo-hierarchy model manifest (format ${JSON.stringify(m?.format)})`);
  }
  if ((m.formatVersion ?? 0) > MANIFEST_FORMAT_VERSION) {
    throw new Error(
      `${file}: manifest format version ${m.formatVersion} is newer than this build reads (${MANIFEST_FORMAT_VERSION})`,
    );
  }
  if (m.treeVersion !== TREE_VERSION) {
    throw new Error(
      `${file}: model was saved for decision tree version ${JSON.stringify(m.treeVersion)}, but this build ` +
        `uses ${JSON.stringify(TREE_VERSION)}; its 37 outputs cannot be trusted to mean the same answers`,
    );
  }
  return m as ModelManifest;
}
