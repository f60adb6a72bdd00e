/**
 * The ensemble predictor: load an ensemble (or a single model) from disk, and get the 37 Galaxy Zoo
 * answers for images given as paths, Buffers or Uint8Arrays.
 *
 * For every image: preprocess exactly as the training pipeline did (the `preprocessing` recorded in
 * each member's manifest, through the same src/data/images functions), scale to [0, 1] as the
 * trainer does, centre-crop to the member's input size, build the TTA views, run every member once
 * per batch on all views, bring every member's outputs to valid cumulative vectors (projecting those
 * that are not, see project.ts), and take the weighted mean and spread over members × views.
 */
import * as tf from '@tensorflow/tfjs';
import { basename, join } from 'node:path';
import {
  ImageError,
  type PreprocessMode,
  type ResolvedParams,
  decodeJpeg,
  paramsKey,
  preprocessDecoded,
  preprocessFile,
  resolveParams,
} from '../data/images/preprocess.js';
import { type BackendName, initBackend } from '../backend/select.js';
import { loadModel } from '../models/io.js';
import { MANIFEST_FILE, type ModelManifest } from '../models/manifest.js';
import type { Convention, Q6Reach } from '../questions/index.js';
import { normaliseWeights } from './average.js';
import {
  type Prediction,
  combineOutputs,
  memberInputSize,
  memberOutputTraits,
  memberOutputs,
  recordedPreprocessing,
} from './core.js';
import { InputError } from '../errors.js';
import { type EnsembleDescription, readEnsembleDir } from './ensemble-dir.js';
import { type TtaSpec, type TtaView, resolveTta } from './tta.js';

export type { Prediction } from './core.js';

/** An image: a file path, the encoded file contents, or contents with a name for messages. */
export type PredictInput =
  | string
  | Uint8Array
  | {
      /** Names the input in results and errors. */
      readonly name: string;
      /** The encoded image. */
      readonly data: Uint8Array;
    };

export interface PredictorOptions {
  /** Convention of `result.answers` (default: the ensemble's, else cumulative). */
  readonly convention?: Convention;
  /** Test-time augmentation, overriding the ensemble's (default: the ensemble's, else none). */
  readonly tta?: TtaSpec;
  /** Member weights overriding the ensemble's (one per member, ≥ 0). */
  readonly weights?: readonly number[];
  /** Q6 reach of the averaged cumulative vector (default: the ensemble's, else the first member's). */
  readonly q6Reach?: Q6Reach;
  /**
   * Preprocessing for members whose manifest records none (models saved outside the training
   * pipeline). Never overrides a recorded one.
   */
  readonly preprocessing?: {
    /** Crop method. */
    mode: PreprocessMode;
    /** Side of the preprocessed image, pixels. */
    size: number;
    /** 1 = gray, 3 = RGB. */
    channels: 1 | 3;
    /** `center` mode: crop side at a 424-pixel input (default 207). */
    centerCrop?: number;
  };
  /** Rows per model.predict call (default 256 views). */
  readonly predictBatchSize?: number;
  /**
   * Initialise a compute backend first: `auto` = native TensorFlow if it loads, else wasm, else cpu
   * (env GZH_BACKEND overrides auto). Default: `auto` while TensorFlow.js has no backend yet
   * (none set or used), else leave it as it is.
   */
  readonly backend?: BackendName | 'auto';
}

export interface PredictManyOptions {
  /** Images per batch (default 32); every member sees batch × views images per predict. */
  readonly batchSize?: number;
  /** Images decoded at once (default 4). */
  readonly concurrency?: number;
  /** Called after each batch with the number of inputs done (ok or failed) and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export type PredictOutcome =
  | {
      /** The input was predicted. */
      readonly ok: true;
      /** The input's file path or name. */
      readonly source: string;
      /** Its prediction. */
      readonly prediction: Prediction;
    }
  | {
      /** The input could not be predicted. */
      readonly ok: false;
      /** The input's file path or name. */
      readonly source: string;
      /** Why not. */
      readonly error: PredictInputError;
    };

/** A problem with one input (unreadable, not a JPEG, corrupt, …); its message starts with the source. */
export class PredictInputError extends InputError {
  /**
   * @param source - the input: a file path, or the name given with a buffer.
   * @param reason - what is wrong with it.
   * @param kind - an ImageErrorKind (`unreadable`, `not-jpeg`, `corrupt`, …).
   */
  constructor(
    readonly source: string,
    readonly reason: string,
    readonly kind: string = 'unreadable',
  ) {
    super(`${source}: ${reason}`);
    this.name = 'PredictInputError';
  }
}

/** One member of a loaded ensemble. */
export interface MemberInfo {
  /** Its model folder. */
  readonly dir: string;
  /** Model kind (from its manifest). */
  readonly kind: string;
  /** Normalised weight. */
  readonly weight: number;
  /** Its manifest. */
  readonly manifest: ModelManifest;
  /** Network input side (a centre crop of the preprocessed image when smaller). */
  readonly inputSize: number;
  /** Whether outputs are projected onto the tree before averaging (flat, conditional or other-q6 members). */
  readonly projected: boolean;
}

interface Member extends MemberInfo {
  readonly model: tf.LayersModel;
  readonly group: number;
  readonly from: Convention;
}

interface PreprocessGroup {
  readonly params: ResolvedParams;
  readonly key: string;
  readonly shape: readonly [number, number, number];
}

/** Source label of an input for messages and results. */
export function inputName(input: PredictInput, index = 0): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return `buffer #${index}`;
  const name = (input as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : `input #${index}`;
}

/**
 * The preprocessing a manifest records, as the pipeline resolved it. Throws naming the manifest
 * file when there is none (and no fallback), or when it was made by another preprocessing version.
 */
export function manifestPreprocessing(
  manifest: ModelManifest,
  file: string,
  fallback?: PredictorOptions['preprocessing'],
): ResolvedParams {
  return recordedPreprocessing(manifest, file, fallback, resolveParams);
}

/** Preprocessed pixels (uint8, size × size × channels) of one input, exactly as the pipeline makes them. */
export async function preprocessInput(input: PredictInput, params: ResolvedParams, index = 0): Promise<Uint8Array> {
  const source = inputName(input, index);
  try {
    if (typeof input === 'string') return (await preprocessFile(input, params)).pixels;
    const data = input instanceof Uint8Array ? input : (input as { data?: unknown } | null | undefined)?.data;
    if (!(data instanceof Uint8Array))
      throw new ImageError('unreadable', 'not a path, Buffer, Uint8Array or { name, data: Uint8Array }');
    return preprocessDecoded(await decodeJpeg(data, params.inputSize), params).pixels;
  } catch (error) {
    if (error instanceof ImageError) throw new PredictInputError(source, error.message, error.kind);
    throw new PredictInputError(source, error instanceof Error ? error.message : String(error));
  }
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export class EnsemblePredictor {
  /** Members in ensemble order, with normalised weights. */
  readonly members: readonly MemberInfo[];
  /** The TTA views every member sees. */
  readonly views: readonly TtaView[];
  /** Convention of `answers` in predictions. */
  readonly convention: Convention;
  /** Q6 reach of `cumulative` results. */
  readonly q6Reach: Q6Reach;
  /** Where the ensemble was read from. */
  readonly source: string;
  private readonly loaded: Member[];
  private readonly groups: PreprocessGroup[];
  private readonly predictBatchSize: number;
  private disposed = false;

  private constructor(
    source: string,
    members: Member[],
    groups: PreprocessGroup[],
    views: TtaView[],
    convention: Convention,
    q6Reach: Q6Reach,
    predictBatchSize: number,
  ) {
    this.source = source;
    this.loaded = members;
    this.members = members.map(({ dir, kind, weight, manifest, inputSize, projected }) => ({
      dir,
      kind,
      weight,
      manifest,
      inputSize,
      projected,
    }));
    this.groups = groups;
    this.views = views;
    this.convention = convention;
    this.q6Reach = q6Reach;
    this.predictBatchSize = predictBatchSize;
  }

  /**
   * Loads an ensemble directory (ensemble.json + members), a single model directory (manifest.json
   * next to model.json) or a directory of model directories. Errors name the offending file.
   */
  static async load(dir: string, options: PredictorOptions = {}): Promise<EnsemblePredictor> {
    // Nothing has chosen or used a backend yet: take the fastest rather than tfjs's pure-JS default.
    const backend = options.backend ?? (tf.engine().backendName == null ? 'auto' : undefined);
    if (backend) await initBackend(backend === 'auto' ? undefined : backend);
    const description = await readEnsembleDir(dir);
    return EnsemblePredictor.fromDescription(description, options);
  }

  /** A predictor for an ensemble already described (e.g. by `readEnsembleDir`), loading each member's model. */
  static async fromDescription(
    description: EnsembleDescription,
    options: PredictorOptions = {},
  ): Promise<EnsemblePredictor> {
    const views = resolveTta(options.tta ?? description.tta);
    const q6Reach = options.q6Reach ?? description.q6Reach;
    if (q6Reach !== 'kaggle' && q6Reach !== 'tree')
      throw new RangeError(`q6Reach must be kaggle or tree, got ${String(q6Reach)}`);
    const convention = options.convention ?? description.convention;
    if (convention !== 'cumulative' && convention !== 'conditional')
      throw new RangeError(`convention must be cumulative or conditional, got ${String(convention)}`);
    const predictBatchSize = options.predictBatchSize ?? 256;
    if (!Number.isInteger(predictBatchSize) || predictBatchSize < 1)
      throw new RangeError(`predictBatchSize must be a positive integer, got ${predictBatchSize}`);
    const weights = normaliseWeights(
      options.weights ?? description.members.map((m) => m.weight),
      description.members.length,
    );
    const groups: PreprocessGroup[] = [];
    const members: Member[] = [];
    try {
      for (const [i, ref] of description.members.entries()) {
        const file = join(ref.dir, MANIFEST_FILE);
        const params = manifestPreprocessing(ref.manifest, file, options.preprocessing);
        const key = paramsKey(params);
        let group = groups.findIndex((g) => g.key === key);
        if (group < 0) {
          groups.push({ params, key, shape: [params.size, params.size, params.channels] });
          group = groups.length - 1;
        }
        const h = memberInputSize(ref.manifest, params, file);
        let model: tf.LayersModel;
        try {
          model = (await loadModel(ref.dir, { requireManifest: true })).model;
        } catch (error) {
          const message = (error as Error).message;
          throw new Error(
            message.startsWith(ref.dir) ? message : `${join(ref.dir, 'model.json')}: cannot load model: ${message}`,
          );
        }
        let traits: { projected: boolean; from: Convention };
        try {
          traits = memberOutputTraits(model, ref.manifest, q6Reach, join(ref.dir, 'model.json'));
        } catch (error) {
          model.dispose();
          throw error;
        }
        members.push({
          dir: ref.dir,
          kind: ref.manifest.kind,
          weight: weights[i],
          manifest: ref.manifest,
          inputSize: h,
          projected: traits.projected,
          model,
          group,
          from: traits.from,
        });
      }
    } catch (error) {
      for (const m of members) m.model.dispose();
      throw error;
    }
    return new EnsemblePredictor(description.source, members, groups, views, convention, q6Reach, predictBatchSize);
  }

  /** The distinct preprocessings the members need (usually one). */
  get preprocessings(): readonly ResolvedParams[] {
    return this.groups.map((g) => g.params);
  }

  /** Members × views averaged per image. */
  get viewCount(): number {
    return this.loaded.length * this.views.length;
  }

  /**
   * The preprocessed pixels of one input for the members' preprocessing `group` (uint8, S×S×C):
   * what is scaled to [0, 1], centre-cropped and fed to the network.
   */
  preprocess(input: PredictInput, group = 0): Promise<Uint8Array> {
    const g = this.groups[group];
    if (!g) throw new RangeError(`no preprocessing group ${group}`);
    return preprocessInput(input, g.params);
  }

  /** Answers for one image; throws PredictInputError naming the input when it cannot be read. */
  async predict(input: PredictInput): Promise<Prediction> {
    const [outcome] = await this.predictMany([input]);
    if (!outcome.ok) throw outcome.error;
    return outcome.prediction;
  }

  /**
   * Answers for many images, in input order, batch by batch: an input that cannot be read gives an
   * `{ ok: false, error }` entry and the others go on.
   */
  async predictMany(inputs: readonly PredictInput[], options: PredictManyOptions = {}): Promise<PredictOutcome[]> {
    this.checkAlive();
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    if (!Array.isArray(inputs))
      throw new TypeError('predictMany takes an array of inputs (paths, Buffers, Uint8Arrays or { name, data })');
    const outcomes: PredictOutcome[] = new Array(inputs.length);
    const starts: number[] = [];
    for (let s = 0; s < inputs.length; s += batchSize) starts.push(s);
    const load = (start: number) =>
      Promise.all(
        this.groups.map((g) =>
          mapLimit(inputs.slice(start, start + batchSize), concurrency, (input, k) =>
            preprocessInput(input, g.params, start + k).then(
              (pixels) => pixels,
              (error: PredictInputError) => error,
            ),
          ),
        ),
      );
    let next = starts.length > 0 ? load(starts[0]) : null;
    let done = 0;
    for (let b = 0; b < starts.length; b++) {
      const start = starts[b];
      const loaded = await next!;
      // decode the next batch (libuv threads) while this one runs through the models
      next = b + 1 < starts.length ? load(starts[b + 1]) : null;
      const count = loaded[0].length;
      const okIndex: number[] = [];
      for (let k = 0; k < count; k++) {
        const failure = loaded.map((g) => g[k]).find((r): r is PredictInputError => r instanceof PredictInputError);
        if (failure) outcomes[start + k] = { ok: false, source: failure.source, error: failure };
        else okIndex.push(k);
      }
      if (okIndex.length > 0) {
        const pixels = this.groups.map((g, gi) => {
          const per = g.shape[0] * g.shape[1] * g.shape[2];
          const block = new Uint8Array(okIndex.length * per);
          okIndex.forEach((k, r) => block.set(loaded[gi][k] as Uint8Array, r * per));
          return block;
        });
        const predictions = await this.predictPixels(pixels, okIndex.length);
        okIndex.forEach((k, r) => {
          const source = inputName(inputs[start + k], start + k);
          outcomes[start + k] = { ok: true, source, prediction: { ...predictions[r], source } };
        });
      }
      done += count;
      options.onProgress?.(done, inputs.length);
    }
    return outcomes;
  }

  /**
   * Answers for already-preprocessed images: `pixels[g]` holds `count` images of preprocessing
   * group g (uint8 NHWC, as `preprocess` returns them). Sources are `#0`, `#1`, ….
   */
  async predictPixels(pixels: readonly Uint8Array[], count: number): Promise<Prediction[]> {
    this.checkAlive();
    const shapes = this.groups.map((g) => g.shape);
    const raw = await memberOutputs(
      this.loaded,
      shapes,
      this.views,
      { q6Reach: this.q6Reach, predictBatchSize: this.predictBatchSize },
      pixels,
      count,
    );
    return combineOutputs(
      raw,
      count,
      this.loaded.map((m) => m.weight),
      this.views.length,
      this.convention,
    );
  }

  /** Frees every member's weights; the predictor cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.loaded) m.model.dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error(`predictor for ${basename(this.source)} has been disposed`);
  }
}
