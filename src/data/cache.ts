import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ANSWER_COUNT } from '../questions/index.js';
import { SilentProgress, type Progress } from '../util/progress.js';
import { Random } from '../util/random.js';
import type { Batch, BatchOptions, BatchSource, ImageShape, SplitName } from './batch.js';
import { Catalogue, type CatalogueRow } from './catalogue.js';
import { createPreprocessor, defaultWorkers } from './images/pool.js';
import { ImageError, type PreprocessParams, type ResolvedParams, paramsKey, resolveParams } from './images/preprocess.js';

/**
 * The preprocessed-image cache: `<cacheDir>/<key>/shard-NNN.bin` hold fixed-size uint8 records
 * (size × size × channels, NHWC) and `index.json` maps galaxy ids to records. The key hashes every
 * preprocessing parameter and the algorithm version; a cache is reused when the key and the
 * catalogue's (id, image) list match, and rebuilt (into a temporary folder, then renamed) when not.
 */
export const CACHE_FORMAT = 'gzh-image-cache/1';

export interface CacheFailure {
  readonly id: string;
  readonly path: string;
  readonly kind: string;
  readonly message: string;
}

export interface CacheManifest {
  readonly format: string;
  readonly key: string;
  readonly params: ResolvedParams;
  readonly shape: ImageShape;
  readonly recordBytes: number;
  readonly shardRecords: number;
  readonly shards: readonly string[];
  /** Galaxy id of record i (record i lives in shard ⌊i / shardRecords⌋ at slot i mod shardRecords). */
  readonly ids: readonly string[];
  readonly failures: readonly CacheFailure[];
  readonly crops: Readonly<Record<string, number>>;
  readonly catalogue: { readonly path: string; readonly fingerprint: string; readonly galaxies: number };
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

export interface BuildCacheOptions {
  readonly catalogue: string;
  readonly cacheDir: string;
  readonly params: PreprocessParams;
  /** Worker threads decoding images (default: one per core; 0 = this thread). */
  readonly workers?: number;
  /** Files in flight at once (default 32 per worker: the pool sends them in batches of up to 16). */
  readonly inFlight?: number;
  /** Records per shard file (default 4096). */
  readonly shardRecords?: number;
  /** Rebuild even when a matching cache exists. */
  readonly force?: boolean;
  readonly progress?: Progress;
}

export interface BuildCacheResult {
  readonly dir: string;
  readonly manifest: CacheManifest;
  readonly reused: boolean;
}

function fingerprint(rows: readonly CatalogueRow[]): string {
  const hash = createHash('sha256');
  for (const r of rows) hash.update(`${r.id}\t${r.imagePath}\n`);
  return hash.digest('hex').slice(0, 16);
}

export function cacheDirFor(cacheDir: string, params: PreprocessParams | ResolvedParams): string {
  return join(resolve(cacheDir), paramsKey(params));
}

export function readManifest(dir: string): CacheManifest | null {
  const file = join(dir, 'index.json');
  if (!existsSync(file)) return null;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as CacheManifest;
    return manifest.format === CACHE_FORMAT ? manifest : null;
  } catch {
    return null;
  }
}

/** Preprocesses every galaxy with an image into the cache, or reuses a matching cache. */
export async function buildCache(options: BuildCacheOptions): Promise<BuildCacheResult> {
  const params = resolveParams(options.params);
  const key = paramsKey(params);
  const dir = join(resolve(options.cacheDir), key);
  const catalogue = new Catalogue(options.catalogue);
  let rows: CatalogueRow[];
  try {
    rows = catalogue.galaxies().filter((r) => r.imagePath !== null);
  } finally {
    catalogue.close();
  }
  if (rows.length === 0) throw new Error(`${options.catalogue}: no galaxies with images (a label-only catalogue cannot be preprocessed)`);
  const print = fingerprint(rows);
  const existing = readManifest(dir);
  if (!options.force && existing && existing.key === key && existing.catalogue.fingerprint === print) {
    return { dir, manifest: existing, reused: true };
  }

  const progress = options.progress ?? new SilentProgress();
  const shape: ImageShape = [params.size, params.size, params.channels];
  const recordBytes = params.size * params.size * params.channels;
  const shardRecords = options.shardRecords ?? 4096;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const workers = options.workers ?? defaultWorkers();
  const pool = createPreprocessor(params, workers);
  const inFlight = options.inFlight ?? Math.max(4, 32 * Math.max(1, pool.workers));
  const ids: string[] = [];
  const shards: string[] = [];
  const failures: CacheFailure[] = [];
  const crops: Record<string, number> = {};
  let fd = -1;
  const started = performance.now();
  try {
    const results = new Map<number, { pixels: Uint8Array; crop: string } | CacheFailure>();
    let nextToWrite = 0;
    const write = (index: number) => {
      const result = results.get(index)!;
      results.delete(index);
      if ('pixels' in result) {
        if (ids.length % shardRecords === 0) {
          if (fd >= 0) closeSync(fd);
          const name = `shard-${String(shards.length).padStart(3, '0')}.bin`;
          shards.push(name);
          fd = openSync(join(tmp, name), 'w');
        }
        writeSync(fd, result.pixels);
        ids.push(rows[index].id);
        crops[result.crop] = (crops[result.crop] ?? 0) + 1;
      } else {
        failures.push(result);
      }
    };
    progress.start(rows.length, `preprocess ${params.mode} ${params.size}px`);
    let next = 0;
    const runOne = async (): Promise<void> => {
      while (next < rows.length) {
        const index = next++;
        const row = rows[index];
        try {
          const r = await pool.process(row.imagePath!);
          results.set(index, { pixels: r.pixels, crop: r.crop });
        } catch (error) {
          const kind = error instanceof ImageError ? error.kind : 'error';
          const message = error instanceof Error ? error.message : String(error);
          results.set(index, { id: row.id, path: row.imagePath!, kind, message });
        }
        progress.tick();
        while (results.has(nextToWrite)) write(nextToWrite++);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, runOne));
    while (results.has(nextToWrite)) write(nextToWrite++);
    progress.stop();
  } catch (error) {
    progress.stop();
    if (fd >= 0) closeSync(fd);
    await pool.close();
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  if (fd >= 0) closeSync(fd);
  await pool.close();
  const seconds = (performance.now() - started) / 1000;
  const manifest: CacheManifest = {
    format: CACHE_FORMAT,
    key,
    params,
    shape,
    recordBytes,
    shardRecords,
    shards,
    ids,
    failures,
    crops,
    catalogue: { path: resolve(options.catalogue), fingerprint: print, galaxies: rows.length },
    seconds,
    imagesPerSecond: rows.length / seconds,
  };
  writeFileSync(join(tmp, 'index.json'), JSON.stringify(manifest));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, manifest, reused: false };
}

export interface OpenCachedSourceOptions {
  readonly catalogue: string;
  /** The cache root given to buildCache plus the parameters, or the key folder itself. */
  readonly cacheDir: string;
  readonly params?: PreprocessParams;
  readonly split: SplitName;
}

/**
 * A BatchSource over one split: targets for the split are held in memory (37 floats each), pixels
 * are read from the shard files batch by batch. Galaxies whose image failed to preprocess are left
 * out (`missing` counts them).
 */
export class CachedSource implements BatchSource {
  readonly split: SplitName;
  readonly shape: ImageShape;
  readonly length: number;
  readonly hasCounts: boolean;
  /** Galaxies of the split that have no cached image. */
  readonly missing: number;
  readonly manifest: CacheManifest;
  private readonly dir: string;
  readonly ids: readonly string[];
  private readonly records: Int32Array;
  private readonly conditional: Float32Array;
  private readonly cumulative: Float32Array;
  private readonly counts: Float32Array | null;

  constructor(options: OpenCachedSourceOptions) {
    const dir = options.params ? cacheDirFor(options.cacheDir, options.params) : resolve(options.cacheDir);
    const manifest = readManifest(dir);
    if (!manifest) throw new Error(`no image cache in ${dir} (run \`gzh preprocess\` first)`);
    this.dir = dir;
    this.manifest = manifest;
    this.split = options.split;
    this.shape = manifest.shape;
    const recordOf = new Map<string, number>();
    manifest.ids.forEach((id, i) => recordOf.set(id, i));
    const catalogue = new Catalogue(options.catalogue);
    let rows: CatalogueRow[];
    try {
      rows = catalogue.galaxies(options.split);
    } finally {
      catalogue.close();
    }
    const kept = rows.filter((r) => recordOf.has(r.id));
    this.missing = rows.length - kept.length;
    this.length = kept.length;
    this.ids = kept.map((r) => r.id);
    this.records = Int32Array.from(kept, (r) => recordOf.get(r.id)!);
    this.conditional = new Float32Array(kept.length * ANSWER_COUNT);
    this.cumulative = new Float32Array(kept.length * ANSWER_COUNT);
    this.hasCounts = kept.length > 0 && kept.every((r) => r.counts !== null);
    this.counts = this.hasCounts ? new Float32Array(kept.length * ANSWER_COUNT) : null;
    kept.forEach((r, i) => {
      this.conditional.set(r.conditional, i * ANSWER_COUNT);
      this.cumulative.set(r.cumulative, i * ANSWER_COUNT);
      if (this.counts) this.counts.set(r.counts!, i * ANSWER_COUNT);
    });
  }

  /** Row order of an epoch: a permutation that depends only on (seed, epoch) when shuffling. */
  order(options: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch'>): Int32Array {
    if (!options.shuffle) return Int32Array.from({ length: this.length }, (_, i) => i);
    return Int32Array.from(Random.derive(options.seed, 'epoch', options.epoch).permutation(this.length));
  }

  async *batches(options: BatchOptions): AsyncIterable<Batch> {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const order = this.order(options);
    const { recordBytes, shardRecords, shards } = this.manifest;
    const fds = new Map<number, number>();
    const fdFor = (shard: number) => {
      let fd = fds.get(shard);
      if (fd === undefined) {
        fd = openSync(join(this.dir, shards[shard]), 'r');
        fds.set(shard, fd);
      }
      return fd;
    };
    try {
      for (let start = (options.skipBatches ?? 0) * batchSize; start < this.length; start += batchSize) {
        const size = Math.min(batchSize, this.length - start);
        const images = new Uint8Array(size * recordBytes);
        const conditional = new Float32Array(size * ANSWER_COUNT);
        const cumulative = new Float32Array(size * ANSWER_COUNT);
        const counts = this.counts ? new Float32Array(size * ANSWER_COUNT) : undefined;
        const ids: string[] = new Array(size);
        let i = 0;
        while (i < size) {
          // read a run of consecutive records of one shard with a single positional read
          const first = this.records[order[start + i]];
          const shard = Math.floor(first / shardRecords);
          let run = 1;
          while (
            i + run < size &&
            this.records[order[start + i + run]] === first + run &&
            Math.floor((first + run) / shardRecords) === shard
          ) run++;
          const bytes = run * recordBytes;
          const target = images.subarray(i * recordBytes, i * recordBytes + bytes);
          const got = readSync(fdFor(shard), target, 0, bytes, (first % shardRecords) * recordBytes);
          if (got !== bytes) throw new Error(`${join(this.dir, shards[shard])}: truncated shard (rebuild the cache)`);
          i += run;
        }
        for (let j = 0; j < size; j++) {
          const row = order[start + j];
          ids[j] = this.ids[row];
          conditional.set(this.conditional.subarray(row * ANSWER_COUNT, (row + 1) * ANSWER_COUNT), j * ANSWER_COUNT);
          cumulative.set(this.cumulative.subarray(row * ANSWER_COUNT, (row + 1) * ANSWER_COUNT), j * ANSWER_COUNT);
          if (counts) counts.set(this.counts!.subarray(row * ANSWER_COUNT, (row + 1) * ANSWER_COUNT), j * ANSWER_COUNT);
        }
        yield { ids, size, images, conditional, cumulative, counts };
      }
    } finally {
      for (const fd of fds.values()) closeSync(fd);
    }
  }
}

export function openCachedSource(options: OpenCachedSourceOptions): CachedSource {
  return new CachedSource(options);
}
