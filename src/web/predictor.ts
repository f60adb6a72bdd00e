/**
 * The ensemble predictor in a browser: the site's model folder (an ensemble directory written by
 * `gzh export-web`) fetched over HTTP, every image preprocessed by the shared pixel path and run
 * through the shared core (src/ensemble/core.ts), exactly as EnsemblePredictor does in Node. Only
 * the decoder differs: the caller hands in pixels its own decoder made (the page: the browser's).
 */
import * as tf from '@tensorflow/tfjs';
import {
  type Decoded,
  ImageError,
  type ResolvedParams,
  checkSize,
  normaliseParams,
  preprocessPixels,
} from '../data/images/pixels.js';
import type { ModelManifest } from '../models/manifest.js';
import '../models/question-softmax.js';
import { type Convention, type Q6Reach, TREE_VERSION } from '../questions/index.js';
import { normaliseWeights } from '../ensemble/average.js';
import {
  type Prediction,
  type RunnableMember,
  combineOutputs,
  memberInputSize,
  memberOutputTraits,
  memberOutputs,
  recordedPreprocessing,
} from '../ensemble/core.js';
import type { EnsembleFile } from '../ensemble/ensemble-dir.js';
import { type TtaView, resolveTta } from '../ensemble/tta.js';

/** One member as the page shows it. */
export interface WebMember extends RunnableMember {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly params: ResolvedParams;
}

/** One image's answers plus the preprocessed pixels of each group (what the networks saw). */
export interface WebPrediction {
  readonly prediction: Prediction;
  readonly pixels: readonly Uint8Array[];
}

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

// The record names the decoder the model was trained with; here the browser decodes instead.
const resolve = (p: Parameters<typeof normaliseParams>[0]) => normaliseParams(p, p.decoder ?? 'sharp');

export class WebPredictor {
  private disposed = false;
  private constructor(
    readonly members: readonly WebMember[],
    readonly groups: readonly ResolvedParams[],
    readonly views: readonly TtaView[],
    readonly convention: Convention,
    readonly q6Reach: Q6Reach,
  ) {}

  /** Loads `<base>/ensemble.json`, each member's manifest.json and model.json (+ weights). */
  static async load(base: string): Promise<WebPredictor> {
    const root = base.endsWith('/') ? base : `${base}/`;
    const file = (await fetchJson(`${root}ensemble.json`)) as EnsembleFile;
    if (!Array.isArray(file.members) || file.members.length === 0) throw new Error(`${root}ensemble.json: no members`);
    const views = resolveTta(file.tta ?? 'none');
    const convention = file.convention ?? 'cumulative';
    const weights = normaliseWeights(
      file.members.map((m) => m.weight ?? 1),
      file.members.length,
    );
    const groups: ResolvedParams[] = [];
    const keys: string[] = [];
    const members: WebMember[] = [];
    let q6Reach = file.q6Reach;
    try {
      for (const [i, entry] of file.members.entries()) {
        const dir = `${root}${entry.dir}/`;
        const manifest = (await fetchJson(`${dir}manifest.json`)) as ModelManifest;
        if (manifest.treeVersion !== TREE_VERSION)
          throw new Error(
            `${dir}manifest.json: decision tree ${JSON.stringify(manifest.treeVersion)}, this page uses ` +
              `${TREE_VERSION}`,
          );
        q6Reach ??= manifest.q6Reach;
        const params = recordedPreprocessing(manifest, `${dir}manifest.json`, undefined, resolve);
        const key = JSON.stringify(params);
        let group = keys.indexOf(key);
        if (group < 0) {
          keys.push(key);
          groups.push(params);
          group = groups.length - 1;
        }
        const inputSize = memberInputSize(manifest, params, `${dir}manifest.json`);
        const model = await tf.loadLayersModel(`${dir}model.json`);
        try {
          const traits = memberOutputTraits(model, manifest, q6Reach, `${dir}model.json`);
          members.push({ dir, manifest, params, model, group, inputSize, weight: weights[i], ...traits });
        } catch (error) {
          model.dispose();
          throw error;
        }
      }
    } catch (error) {
      for (const m of members) m.model.dispose();
      throw error;
    }
    return new WebPredictor(members, groups, views, convention, q6Reach ?? 'kaggle');
  }

  /** Members × views averaged per image. */
  get viewCount(): number {
    return this.members.length * this.views.length;
  }

  /** The preprocessed pixels of one decoded image for each group; ImageError when it cannot be used. */
  preprocess(image: Decoded): Uint8Array[] {
    return this.groups.map((params) => {
      checkSize(image.width, image.height, params.inputSize);
      if (image.channels < 3)
        throw new ImageError('grayscale-only', 'grayscale-only image; colour images are expected');
      return preprocessPixels(image, params).pixels;
    });
  }

  /** Answers for decoded images (RGB or RGBA), in order. */
  async predict(images: readonly Decoded[]): Promise<WebPrediction[]> {
    if (this.disposed) throw new Error('predictor has been disposed');
    if (images.length === 0) return [];
    const perImage = images.map((image) => this.preprocess(image));
    const batches = this.groups.map((params, g) => {
      const per = params.size * params.size * params.channels;
      const block = new Uint8Array(images.length * per);
      perImage.forEach((pixels, n) => block.set(pixels[g], n * per));
      return block;
    });
    const shapes = this.groups.map((p) => [p.size, p.size, p.channels] as const);
    const raw = await memberOutputs(
      this.members,
      shapes,
      this.views,
      { q6Reach: this.q6Reach, predictBatchSize: 256 },
      batches,
      images.length,
    );
    const predictions = combineOutputs(
      raw,
      images.length,
      this.members.map((m) => m.weight),
      this.views.length,
      this.convention,
    );
    return predictions.map((prediction, n) => ({ prediction, pixels: perImage[n] }));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.members) m.model.dispose();
  }
}
