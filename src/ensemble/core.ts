/**
 * The ensemble predictor's numeric core, shared by Node (predictor.ts) and the browser
 * (src/web): how a member's recorded preprocessing and shapes are checked, how every member runs
 * on every TTA view of a batch of preprocessed pixels, and how members × views are combined into
 * one prediction per image. No Node I/O here: loading models and decoding images is the caller's.
 */
import * as tf from '@tensorflow/tfjs';
import {
  PREPROCESS_VERSION,
  type PreprocessMode,
  type PreprocessParams,
  type ResolvedParams,
} from '../data/images/pixels.js';
import { findTreeLayer } from '../models/decision-tree-layer.js';
import type { ModelManifest } from '../models/manifest.js';
import { ANSWER_COUNT, type Convention, type Q6Reach, toConditional } from '../questions/index.js';
import { imagesToTensor } from '../models/forward.js';
import { type AnswerRecord, answerRecord } from './answers.js';
import { meanAndSpread } from './average.js';
import { projectRows } from './project.js';
import { type TtaView, ttaViews } from './tta.js';

/** The answers for one image. */
export interface Prediction {
  /** The input's path, or its name, or `buffer #i`. */
  readonly source: string;
  /** Probability of each answer by question and answer key, in the predictor's convention. */
  readonly answers: AnswerRecord;
  /** Spread (standard deviation) of each answer, by key, in the same convention as `answers`. */
  readonly answerUncertainty: AnswerRecord;
  /** 37 cumulative (Kaggle) probabilities, Kaggle column order (Class1.1 … Class11.6). */
  readonly cumulative: Float32Array;
  /** 37 conditional (GZ2) probabilities: each question sums to 1 (unreached: uniform). */
  readonly conditional: Float32Array;
  /** Per-answer weighted standard deviation across members × TTA views, cumulative space. */
  readonly uncertainty: Float32Array;
  /** The same spread of the conditional probabilities. */
  readonly conditionalUncertainty: Float32Array;
  /** Members × views averaged. */
  readonly views: number;
}

/** Preprocessing for models whose manifest records none. */
export interface PreprocessFallback {
  mode: PreprocessMode;
  size: number;
  channels: 1 | 3;
  centerCrop?: number;
}

/**
 * The preprocessing a manifest records, resolved by `resolve`. Throws naming the manifest file when
 * there is none (and no fallback), or when it was made by another preprocessing version.
 */
export function recordedPreprocessing(
  manifest: ModelManifest,
  file: string,
  fallback: PreprocessFallback | undefined,
  resolve: (params: PreprocessParams) => ResolvedParams,
): ResolvedParams {
  const p = manifest.preprocessing as Partial<ResolvedParams> | null | undefined;
  if (p === null || p === undefined) {
    if (!fallback) {
      throw new Error(
        `${file}: no preprocessing recorded with this model; pass { preprocessing: { mode, size, channels } } ` +
          'to EnsemblePredictor.load',
      );
    }
    return resolve(fallback);
  }
  if (
    typeof p !== 'object' ||
    (p.mode !== 'contour' && p.mode !== 'center') ||
    typeof p.size !== 'number' ||
    (p.channels !== 1 && p.channels !== 3)
  ) {
    throw new Error(`${file}: unrecognised preprocessing record ${JSON.stringify(p)}`);
  }
  if (p.version !== undefined && p.version !== PREPROCESS_VERSION) {
    throw new Error(
      `${file}: model was trained on images from preprocessing ${JSON.stringify(p.version)}, but this build ` +
        `produces ${JSON.stringify(PREPROCESS_VERSION)}; its inputs would differ`,
    );
  }
  try {
    return resolve({
      mode: p.mode,
      size: p.size,
      channels: p.channels,
      ...(p.mode === 'center' && p.centerCrop ? { centerCrop: p.centerCrop } : {}),
      ...(p.contour ? { contour: p.contour } : {}),
      ...(p.inputSize ? { inputSize: p.inputSize } : {}),
      // The decoder is part of the pixels: use the one the model was trained with, or fail clearly.
      ...(p.decoder ? { decoder: p.decoder } : {}),
    });
  } catch (error) {
    throw new Error(`${file}: bad preprocessing record: ${(error as Error).message}`, { cause: error });
  }
}

/** The network input side a manifest records, checked against the member's preprocessing. */
export function memberInputSize(manifest: ModelManifest, params: ResolvedParams, file: string): number {
  const [h, w, c] = manifest.inputShape;
  if (h !== w) throw new Error(`${file}: input ${h}×${w} is not square`);
  if (c !== params.channels)
    throw new Error(`${file}: model takes ${c} channel(s) but its preprocessing makes ${params.channels}`);
  if (h > params.size)
    throw new Error(`${file}: model input ${h}px is larger than its preprocessed images (${params.size}px)`);
  return h;
}

/**
 * Whether a loaded member's outputs are projected onto the tree before averaging, and their
 * convention. Throws (naming `modelFile`) unless the model has one output of 37 values; the caller
 * disposes the model then.
 */
export function memberOutputTraits(
  model: tf.LayersModel,
  manifest: ModelManifest,
  q6Reach: Q6Reach,
  modelFile: string,
): { projected: boolean; from: Convention } {
  const outShape = model.outputs[0]?.shape;
  if (model.outputs.length !== 1 || outShape?.[outShape.length - 1] !== ANSWER_COUNT) {
    throw new Error(
      `${modelFile}: model must have one output of ${ANSWER_COUNT} values, got [${outShape?.join(', ')}]`,
    );
  }
  const tree = findTreeLayer(model);
  const trusted = tree !== null && tree.convention === 'cumulative' && tree.q6Reach === q6Reach;
  return { projected: !trusted, from: tree ? tree.convention : manifest.convention };
}

/** A loaded member, as the core runs it. */
export interface RunnableMember {
  readonly model: tf.LayersModel;
  /** Index of its preprocessing group (the pixels it is fed). */
  readonly group: number;
  readonly inputSize: number;
  /** Normalised weight. */
  readonly weight: number;
  readonly projected: boolean;
  readonly from: Convention;
}

/**
 * Every member's per-view cumulative outputs for `count` preprocessed images, laid out
 * [member][view][item][37]. `pixels[g]` holds the images of preprocessing group g (uint8 NHWC of
 * `shapes[g]`).
 */
export async function memberOutputs(
  members: readonly RunnableMember[],
  shapes: ReadonlyArray<readonly [number, number, number]>,
  views: readonly TtaView[],
  options: { q6Reach: Q6Reach; predictBatchSize: number },
  pixels: readonly Uint8Array[],
  count: number,
): Promise<Float32Array> {
  if (pixels.length !== shapes.length)
    throw new RangeError(`expected pixels for ${shapes.length} preprocessing group(s), got ${pixels.length}`);
  const V = views.length;
  const raw = new Float32Array(members.length * V * count * ANSWER_COUNT);
  const images = shapes.map((shape, gi) => {
    const per = shape[0] * shape[1] * shape[2];
    if (pixels[gi].length !== count * per)
      throw new RangeError(`preprocessing group ${gi}: expected ${count} × ${per} pixels, got ${pixels[gi].length}`);
    return imagesToTensor({ images: pixels[gi], size: count }, shape);
  });
  try {
    for (const [m, member] of members.entries()) {
      const out = tf.tidy(() => {
        const x = ttaViews(images[member.group], views, member.inputSize);
        return member.model.predict(x, { batchSize: options.predictBatchSize }) as tf.Tensor2D;
      });
      const values = (await out.data()) as Float32Array;
      out.dispose();
      if (member.projected) projectRows(values, { from: member.from, q6Reach: options.q6Reach });
      raw.set(values, m * V * count * ANSWER_COUNT);
    }
  } finally {
    for (const t of images) t.dispose();
  }
  return raw;
}

/** Mean and spread over members × views of `memberOutputs`' values, one prediction per image. */
export function combineOutputs(
  raw: Float32Array,
  count: number,
  memberWeights: readonly number[],
  viewCount: number,
  convention: Convention,
): Prediction[] {
  const V = viewCount;
  const viewWeights = memberWeights.flatMap((w) => new Array<number>(V).fill(w / V));
  const cumulative = meanAndSpread(raw, count, viewWeights);
  const conditionalRaw = new Float32Array(raw.length);
  for (let r = 0; r < raw.length; r += ANSWER_COUNT) {
    conditionalRaw.set(toConditional(raw.subarray(r, r + ANSWER_COUNT), { unreached: 'uniform' }), r);
  }
  const conditionalSpread = meanAndSpread(conditionalRaw, count, viewWeights);
  return cumulative.map((c, n) => {
    const cum = Float32Array.from(c.mean);
    const cond = Float32Array.from(toConditional(c.mean, { unreached: 'uniform' }));
    const uncertainty = Float32Array.from(c.std);
    const conditionalUncertainty = Float32Array.from(conditionalSpread[n].std);
    const conditional = convention === 'conditional';
    return {
      source: `#${n}`,
      answers: answerRecord(conditional ? cond : cum),
      answerUncertainty: answerRecord(conditional ? conditionalUncertainty : uncertainty),
      cumulative: cum,
      conditional: cond,
      uncertainty,
      conditionalUncertainty,
      views: memberWeights.length * V,
    };
  });
}
