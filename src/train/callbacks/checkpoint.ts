/**
 * Training checkpoints: everything a killed run needs to continue exactly where the last
 * checkpoint left it. Layout of `<dir>/latest/` (replaced atomically: written to a temporary
 * sibling, then renamed; a crash between renames leaves `<dir>/latest.old`, which is read instead):
 *   model.json + weights.bin   the model (standard tfjs layers format, loadable on its own)
 *   optimizer.bin              optimizer.getWeights() (Adam: iteration count, first and second moments)
 *   callbacks.bin              tensors of callback states (e.g. early stopping's best weights)
 *   state.json                 position (epoch, next batch), partial-epoch sums, learning rate,
 *                              history, callback states, weight specs of the .bin files, run identity
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TREE_VERSION } from '../../questions/index.js';
import { cleanStaleTemps, resolveAtomicDir, writeDirAtomic } from '../../util/atomic.js';
import { fileSystemHandler, readArtifacts } from '../../models/io.js';
import type { CallbackList } from './callback-list.js';
import type { CallbackState, EpochLogs } from './types.js';

/** A named tensor as optimizers' getWeights() returns them. */
export interface NamedTensor {
  readonly name: string;
  readonly tensor: tf.Tensor;
}

export const CHECKPOINT_FORMAT = 'gzh-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Where and how often {@link train} writes checkpoints, and whether it resumes from one. */
export interface CheckpointOptions {
  /** Directory holding `latest/`. */
  readonly dir: string;
  /** Also checkpoint inside an epoch every this many batches. */
  readonly everyBatches?: number;
  /** Also checkpoint inside an epoch when this many seconds passed since the last checkpoint. */
  readonly everySeconds?: number;
  /** Continue from an existing checkpoint in `dir` (default true). */
  readonly resume?: boolean;
}

/** A point in training: the epoch and the next batch of it. */
export interface TrainingPosition {
  /** Epoch (0-based) the next batch belongs to; equals `epochs` when training finished. */
  readonly epoch: number;
  /** Batches of that epoch already trained (the next batch's index). */
  readonly batch: number;
}

/** What a checkpoint must match to be resumed by a run (`epochs` may grow). */
export interface RunIdentity {
  readonly seed: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly loss: string;
}

export interface CheckpointState {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  readonly treeVersion: string;
  /** Identity of the run: a resume with a different seed or batch size would see other batches. */
  readonly run: RunIdentity;
  readonly position: TrainingPosition;
  /** Sums over the batches of the current epoch trained so far. */
  readonly epochProgress: { readonly lossSum: number; readonly samples: number; readonly seconds: number };
  readonly learningRate: number;
  /** True when a callback stopped training (early stopping): a resume does not train further. */
  readonly stopped: boolean;
  readonly stopReason?: 'completed' | 'early-stopping' | 'time-budget';
  /** Seconds spent training so far, across processes (for time budgets). */
  readonly seconds?: number;
  readonly history: readonly EpochLogs[];
  readonly callbacks: Readonly<Record<string, unknown>>;
  readonly weightSpecs: {
    readonly optimizer: tf.io.WeightsManifestEntry[];
    readonly callbacks: tf.io.WeightsManifestEntry[];
  };
  readonly optimizerClass: string;
  readonly savedAt: string;
}

/** The part of a checkpoint's state the trainer supplies; the writer adds the rest. */
export type CheckpointStateInput = Omit<
  CheckpointState,
  'format' | 'version' | 'treeVersion' | 'weightSpecs' | 'callbacks' | 'optimizerClass' | 'savedAt'
>;

export const LATEST = 'latest';

/**
 * Adam keeps β₁ᵗ and β₂ᵗ as running products, while its setWeights() recomputes them as powers
 * of the iteration count: the two differ in the last bits, so a resumed run would drift from an
 * uninterrupted one. These running products are saved with the optimizer's weights and put back
 * after setWeights().
 */
const ACCUMULATED_POWERS = ['accBeta1', 'accBeta2'] as const;
const POWER_PREFIX = 'gzh_accumulated/';

function accumulatedPowers(optimizer: tf.Optimizer): NamedTensor[] {
  const fields = optimizer as unknown as Record<string, unknown>;
  return ACCUMULATED_POWERS.filter((f) => fields[f] instanceof tf.Variable).map((f) => ({
    name: `${POWER_PREFIX}${f}`,
    tensor: fields[f] as tf.Variable,
  }));
}

async function setOptimizerWeights(optimizer: tf.Optimizer, weights: NamedTensor[]): Promise<void> {
  const own = weights.filter((w) => !w.name.startsWith(POWER_PREFIX));
  await optimizer.setWeights(own);
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const w of weights) {
    const field = fields[w.name.slice(POWER_PREFIX.length)];
    if (w.name.startsWith(POWER_PREFIX) && field instanceof tf.Variable) field.assign(w.tensor);
  }
}

export async function writeCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: CheckpointStateInput,
  callbacks: Readonly<Record<string, CallbackState>>,
): Promise<void> {
  const target = join(dir, LATEST);
  await cleanStaleTemps(target);
  await writeDirAtomic(target, async (tmp) => {
    await model.save(fileSystemHandler(tmp));
    const optimizerWeights = [...(await optimizer.getWeights()), ...accumulatedPowers(optimizer)];
    const callbackTensors: NamedTensor[] = [];
    const callbackJson: Record<string, unknown> = {};
    for (const [name, cb] of Object.entries(callbacks)) {
      callbackJson[name] = cb.json ?? null;
      for (const [key, tensor] of Object.entries(cb.tensors ?? {}))
        callbackTensors.push({ name: `${name}/${key}`, tensor });
    }
    try {
      const opt = await tf.io.encodeWeights(optimizerWeights);
      const cbs = await tf.io.encodeWeights(callbackTensors);
      await writeFile(join(tmp, 'optimizer.bin'), new Uint8Array(opt.data));
      await writeFile(join(tmp, 'callbacks.bin'), new Uint8Array(cbs.data));
      const full: CheckpointState = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        treeVersion: TREE_VERSION,
        ...state,
        callbacks: callbackJson,
        weightSpecs: { optimizer: opt.specs, callbacks: cbs.specs },
        optimizerClass: optimizer.getClassName(),
        savedAt: new Date().toISOString(),
      };
      await writeFile(join(tmp, 'state.json'), `${JSON.stringify(full, null, 1)}\n`);
    } finally {
      // getWeights() returns the live optimizer variables plus a fresh iteration-count scalar.
      const iter = optimizerWeights.find((w) => w.name === 'iter');
      iter?.tensor.dispose();
    }
  });
}

export interface LoadedCheckpoint {
  readonly path: string;
  readonly state: CheckpointState;
  /** Model weights in `model.weights` order (caller disposes). */
  readonly modelWeights: tf.Tensor[];
  /** Optimizer weights as getWeights() returned them (caller disposes). */
  readonly optimizerWeights: NamedTensor[];
  /** Callback states with their tensors (ownership passes to the callbacks). */
  readonly callbacks: Record<string, CallbackState>;
}

/** The latest checkpoint in `dir`, or null when there is none. */
export async function readCheckpoint(dir: string): Promise<LoadedCheckpoint | null> {
  const path = resolveAtomicDir(join(dir, LATEST));
  if (path === null) return null;
  const stateFile = join(path, 'state.json');
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as CheckpointState;
  if (state.format !== CHECKPOINT_FORMAT || state.version > CHECKPOINT_VERSION) {
    throw new Error(`${stateFile}: not a checkpoint this build can read`);
  }
  if (state.treeVersion !== TREE_VERSION) {
    throw new Error(
      `${stateFile}: checkpoint was written for decision tree ${state.treeVersion}, this build uses ${TREE_VERSION}`,
    );
  }
  const artifacts = await readArtifacts(path);
  const specs = artifacts.weightSpecs ?? [];
  const decodedModel = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs);
  const modelWeights = specs.map((s) => decodedModel[s.name]);
  const optimizerWeights = await decodeFile(join(path, 'optimizer.bin'), state.weightSpecs.optimizer);
  const callbackTensors = await decodeFile(join(path, 'callbacks.bin'), state.weightSpecs.callbacks);
  const callbacks: Record<string, CallbackState> = {};
  for (const [name, json] of Object.entries(state.callbacks)) {
    const tensors: tf.NamedTensorMap = {};
    for (const t of callbackTensors) {
      if (t.name.startsWith(`${name}/`)) tensors[t.name.slice(name.length + 1)] = t.tensor;
    }
    callbacks[name] = { json, tensors };
  }
  return { path, state, modelWeights, optimizerWeights, callbacks };
}

async function decodeFile(file: string, specs: tf.io.WeightsManifestEntry[]): Promise<NamedTensor[]> {
  if (specs.length === 0) return [];
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(buffer, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}

/**
 * The position of the latest checkpoint in `dir` (read from its state.json alone, no tensor is
 * loaded), or null when there is none: where a resumed training will go on from.
 */
export async function checkpointPosition(dir: string): Promise<TrainingPosition | null> {
  const path = resolveAtomicDir(join(dir, LATEST));
  if (path === null) return null;
  const state = JSON.parse(await readFile(join(path, 'state.json'), 'utf8')) as CheckpointState;
  return state.position;
}

function disposeLoaded(loaded: LoadedCheckpoint): void {
  tf.dispose([...loaded.modelWeights, ...loaded.optimizerWeights.map((w) => w.tensor)]);
  for (const state of Object.values(loaded.callbacks)) if (state.tensors) tf.dispose(Object.values(state.tensors));
}

/**
 * Restores the latest checkpoint in `dir` into the model, the optimizer and the callbacks, and
 * returns its state (position, history, learning rate…) for the trainer to continue from; null
 * when there is none. A checkpoint of another run (seed, batch size, loss) or another model is an
 * error and changes nothing.
 */
export async function restoreCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  callbacks: CallbackList,
  run: RunIdentity,
): Promise<CheckpointState | null> {
  const loaded = await readCheckpoint(dir);
  if (!loaded) return null;
  const { state } = loaded;
  for (const key of ['seed', 'batchSize', 'loss'] as const) {
    if (state.run[key] !== run[key]) {
      disposeLoaded(loaded);
      const has = `checkpoint has ${key} ${JSON.stringify(state.run[key])}, this run ${JSON.stringify(run[key])}`;
      throw new Error(`${loaded.path}: ${has}; use another checkpoint directory or resume: false`);
    }
  }
  if (loaded.modelWeights.length !== model.weights.length) {
    disposeLoaded(loaded);
    throw new Error(
      `${loaded.path}: checkpoint has ${loaded.modelWeights.length} weights, the model ${model.weights.length}`,
    );
  }
  model.setWeights(loaded.modelWeights);
  tf.dispose(loaded.modelWeights);
  if (loaded.optimizerWeights.length > 0) {
    await setOptimizerWeights(optimizer, loaded.optimizerWeights);
    tf.dispose(loaded.optimizerWeights.map((w) => w.tensor));
  }
  callbacks.setStates(loaded.callbacks);
  return state;
}
