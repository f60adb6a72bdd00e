/**
 * The data side of an experiment: (synthetic generation →) ingest into a catalogue (cached) →
 * preprocessing (cached) → train / validation / test BatchSources shared by every variant, so all
 * variants see the identical split.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchSource, ImageShape, SplitName } from '../data/batch.js';
import { openCatalogue } from '../data/catalogue.js';
import { ingest } from '../data/ingest.js';
import { type ResolvedParams, paramsKey, preprocessFile, resolveParams } from '../data/images/preprocess.js';
import { generateSyntheticDataset } from '../data/synthetic/index.js';
import { ANSWER_COUNT } from '../questions/index.js';
import { MemoryBatchSource } from '../train/memory-source.js';
import { Random } from '../util/random.js';
import type { Progress } from '../util/progress.js';
import type { Experiment } from './config.js';
import { canonicalJson } from './config.js';

export interface PhaseContext {
  /** A progress bar for a long step (silent under --quiet / --json / no TTY). */
  readonly progress: Progress;
  /** One line of chatter (dropped under --quiet / --json). */
  readonly log: (line: string) => void;
}

export interface IngestedData {
  /** SQLite catalogue with labels, image paths and the seeded split. */
  readonly catalogue: string;
  readonly cached: boolean;
  readonly counts: Readonly<Record<SplitName, number>>;
}

export interface PreparedData {
  readonly train: BatchSource;
  readonly validation: BatchSource;
  readonly test: BatchSource;
  readonly shape: ImageShape;
  readonly cached: boolean;
  /** Original image file of a galaxy (for report examples), or null. */
  imagePath(id: string): string | null;
  /** Description stored in model manifests. */
  readonly preprocessing: unknown;
}

/**
 * What the runner needs from the data pipeline. The default implementation below uses the
 * project's ingest and image preprocessing; tests and library users can inject their own.
 */
export interface DataPipeline {
  ingest(experiment: Experiment, ctx: PhaseContext): Promise<IngestedData>;
  prepare(experiment: Experiment, ingested: IngestedData, ctx: PhaseContext): Promise<PreparedData>;
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

function fileStamp(path: string): string {
  const s = statSync(path);
  return `${s.size}-${Math.round(s.mtimeMs)}`;
}

interface SourceFiles {
  readonly format: 'kaggle' | 'gz2';
  readonly labels: string;
  readonly images: string;
}

async function sourceFiles(experiment: Experiment, ctx: PhaseContext): Promise<SourceFiles> {
  const d = experiment.data;
  if (d.source === 'synthetic') {
    const s = d.synthetic!;
    ctx.progress.start(s.count, `synthesize ${s.count} galaxies`);
    let last = 0;
    try {
      const dataset = await generateSyntheticDataset({
        outDir: d.path,
        count: s.count,
        seed: s.seed,
        size: s.size,
        onProgress: (done) => {
          ctx.progress.tick(done - last);
          last = done;
        },
      });
      if (dataset.reused) ctx.log(`synthetic data: reusing ${dataset.outDir}`);
      return { format: 'kaggle', labels: dataset.solutionsPath, images: dataset.imagesDir };
    } finally {
      ctx.progress.stop();
    }
  }
  if (d.source === 'kaggle') {
    const labels = join(d.path, 'training_solutions_rev1.csv');
    const images = join(d.path, 'images_training_rev1');
    if (!existsSync(labels)) throw new Error(`Kaggle labels not found: ${labels} (set --data-dir, --data-path or data.path)`);
    return { format: 'kaggle', labels, images };
  }
  const labels = ['gz2_sample_labels.csv', 'gz2_hart16.csv', 'gz2_hart16.csv.gz'].map((f) => join(d.path, f)).find((f) => existsSync(f));
  if (!labels) throw new Error(`GZ2 labels not found in ${d.path} (expected gz2_sample_labels.csv or gz2_hart16.csv)`);
  return { format: 'gz2', labels, images: join(d.path, 'images') };
}

/** A seeded subset of at most `limit` galaxies, taken proportionally from each split. */
function limitIndices(splits: readonly SplitName[], limit: number, seed: number): number[] {
  const total = splits.length;
  if (limit >= total) return splits.map((_, i) => i);
  const rng = Random.derive(seed, 'limit');
  const chosen: number[] = [];
  for (const split of ['train', 'validation', 'test'] as const) {
    const members = splits.map((s, i) => [s, i] as const).filter(([s]) => s === split).map(([, i]) => i);
    const take = Math.round((members.length * limit) / total);
    const order = rng.permutation(members.length);
    for (let k = 0; k < take; k++) chosen.push(members[order[k]]);
  }
  return chosen.sort((a, b) => a - b);
}

interface CacheIndex {
  readonly ids: string[];
  readonly splits: SplitName[];
  readonly imagePaths: Array<string | null>;
  readonly shape: [number, number, number];
  readonly rejected: Array<{ id: string; reason: string }>;
}

/** The default pipeline: project ingest + sharp preprocessing, cached under the experiment's cache dir. */
export function defaultDataPipeline(options: { concurrency?: number } = {}): DataPipeline {
  const concurrency = options.concurrency ?? 4;
  return {
    async ingest(experiment, ctx) {
      const d = experiment.data;
      const files = await sourceFiles(experiment, ctx);
      const split = [1 - d.split.validation - d.split.test, d.split.validation, d.split.test] as const;
      const key = shortHash({
        version: 1,
        format: files.format,
        labels: files.labels,
        stamp: fileStamp(files.labels),
        images: files.images,
        values: d.labels ?? null,
        seed: experiment.seed,
        split,
      });
      const dir = join(experiment.cacheDir, 'catalogues');
      mkdirSync(dir, { recursive: true });
      const catalogue = join(dir, `${experiment.data.source}-${key}.sqlite`);
      let cached = existsSync(catalogue);
      if (!cached) {
        const report = await ingest(catalogue, {
          format: files.format,
          labels: files.labels,
          images: files.images,
          seed: experiment.seed,
          split,
          progress: ctx.progress,
          ...(files.format === 'gz2' ? { values: d.labels ?? 'debiased', fallbackValues: 'weighted_fraction' as const } : {}),
        });
        ctx.progress.stop();
        ctx.log(`ingest: ${report.accepted} galaxies accepted, ${report.rejected} rejected → ${catalogue}`);
      } else {
        ctx.log(`ingest: cached catalogue ${catalogue}`);
        cached = true;
      }
      const cat = openCatalogue(catalogue);
      try {
        return { catalogue, cached, counts: { train: cat.count('train'), validation: cat.count('validation'), test: cat.count('test') } };
      } finally {
        cat.close();
      }
    },

    async prepare(experiment, ingested, ctx) {
      const p = experiment.variants[0].settings.preprocess;
      const params: ResolvedParams = resolveParams({ mode: p.method, size: p.size, channels: p.channels, centerCrop: p.centerCrop });
      const cat = openCatalogue(ingested.catalogue);
      let rows;
      try {
        rows = cat.galaxies();
      } finally {
        cat.close();
      }
      const dir = join(experiment.cacheDir, 'preprocessed', `${shortHash({ catalogue: ingested.catalogue, stamp: fileStamp(ingested.catalogue) })}-${paramsKey(params)}`);
      const indexFile = join(dir, 'index.json');
      const pixelsFile = join(dir, 'images.u8');
      const pixelsPer = p.size * p.size * p.channels;
      let index: CacheIndex;
      let pixels: Uint8Array;
      let cached = false;
      if (existsSync(indexFile) && existsSync(pixelsFile)) {
        index = JSON.parse(readFileSync(indexFile, 'utf8')) as CacheIndex;
        pixels = new Uint8Array(readFileSync(pixelsFile));
        cached = true;
        ctx.log(`preprocess: cached ${index.ids.length} images (${paramsKey(params)})`);
      } else {
        pixels = new Uint8Array(rows.length * pixelsPer);
        const ok = new Array<boolean>(rows.length).fill(false);
        const rejected: Array<{ id: string; reason: string }> = [];
        ctx.progress.start(rows.length, `preprocess ${rows.length} images (${p.method}, ${p.size}px)`);
        let next = 0;
        const worker = async () => {
          while (next < rows.length) {
            const i = next++;
            const row = rows[i];
            try {
              if (!row.imagePath) throw new Error('no image');
              const out = await preprocessFile(row.imagePath, params);
              pixels.set(out.pixels, i * pixelsPer);
              ok[i] = true;
            } catch (error) {
              rejected.push({ id: row.id, reason: (error as Error).message });
            }
            ctx.progress.tick();
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        ctx.progress.stop();
        const keep = rows.map((_, i) => i).filter((i) => ok[i]);
        const packed = new Uint8Array(keep.length * pixelsPer);
        keep.forEach((src, dst) => packed.set(pixels.subarray(src * pixelsPer, (src + 1) * pixelsPer), dst * pixelsPer));
        pixels = packed;
        index = {
          ids: keep.map((i) => rows[i].id),
          splits: keep.map((i) => rows[i].split),
          imagePaths: keep.map((i) => rows[i].imagePath),
          shape: [p.size, p.size, p.channels],
          rejected,
        };
        const tmp = `${dir}.tmp-${process.pid}`;
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        writeFileSync(join(tmp, 'images.u8'), pixels);
        writeFileSync(join(tmp, 'index.json'), JSON.stringify(index));
        rmSync(dir, { recursive: true, force: true });
        renameSync(tmp, dir);
        if (rejected.length) ctx.log(`preprocess: ${rejected.length} images could not be read (first: ${rejected[0].id}: ${rejected[0].reason})`);
      }

      const byId = new Map(rows.map((r) => [r.id, r]));
      let keep = index.ids.map((_, i) => i);
      if (experiment.data.limit !== undefined) keep = limitIndices(index.splits, experiment.data.limit, experiment.seed);
      const paths = new Map(index.ids.map((id, i) => [id, index.imagePaths[i]]));
      const build = (split: SplitName): MemoryBatchSource => {
        const members = keep.filter((i) => index.splits[i] === split);
        const images = new Uint8Array(members.length * pixelsPer);
        const cumulative = new Float32Array(members.length * ANSWER_COUNT);
        const conditional = new Float32Array(members.length * ANSWER_COUNT);
        const hasCounts = members.length > 0 && members.every((i) => byId.get(index.ids[i])?.counts);
        const counts = hasCounts ? new Float32Array(members.length * ANSWER_COUNT) : undefined;
        members.forEach((src, k) => {
          const row = byId.get(index.ids[src])!;
          images.set(pixels.subarray(src * pixelsPer, (src + 1) * pixelsPer), k * pixelsPer);
          cumulative.set(row.cumulative, k * ANSWER_COUNT);
          conditional.set(row.conditional, k * ANSWER_COUNT);
          if (counts && row.counts) counts.set(row.counts, k * ANSWER_COUNT);
        });
        return new MemoryBatchSource(
          { images, shape: index.shape, cumulative, conditional, ...(counts ? { counts } : {}), ids: members.map((i) => index.ids[i]) },
          split,
        );
      };
      return {
        train: build('train'),
        validation: build('validation'),
        test: build('test'),
        shape: index.shape,
        cached,
        imagePath: (id) => paths.get(id) ?? null,
        preprocessing: params,
      };
    },
  };
}
