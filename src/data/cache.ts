import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CorruptArtifactError, InputError } from '../errors.js';
import { cleanStaleTemps, resolveAtomicDir, writeDirAtomic } from '../util/atomic.js';
import { ANSWER_COUNT } from '../questions/index.js';
import { SilentProgress, type Progress } from '../util/progress.js';
import { Random } from '../util/random.js';
import type { Batch, BatchOptions, BatchSource, ImageShape, SplitName } from './batch.js';
import { Catalogue } from './catalogue.js';
import { verifyShards } from './cache-verify.js';
import { createPreprocessor, defaultWorkers } from './images/pool.js';
import {
  ImageError,
  type PreprocessParams,
  type ResolvedParams,
  paramsKey,
  resolveParams,
} from './images/preprocess.js';

/**
 * The preprocessed-image cache: `<cacheDir>/<key>/shard-NNN.bin` hold fixed-size uint8 records
 * (size × size × channels, NHWC) and `index.json` maps galaxy ids to records. The key hashes every
 * preprocessing parameter and the algorithm version; a cache is reused when the key and the
 * catalogue's (id, image) list match and every shard still has the size and SHA-256 recorded when
 * it was written; otherwise it is rebuilt (into a temporary folder, then renamed: `writeDirAtomic`).
 */
export const CACHE_FORMAT = 'gzh-image-cache/2';

/** An image that could not be preprocessed into the cache. */
export interface CacheFailure {
  /** GalaxyID. */
  readonly id: string;
  /** The image file. */
  readonly path: string;
  /** What went wrong (an ImageErrorKind). */
  readonly kind: string;
  /** The error message. */
  readonly message: string;
}

/** The manifest.json of a cache folder: what it holds and how it was made. */
export interface CacheManifest {
  /** Layout version (CACHE_FORMAT). */
  readonly format: string;
  /** Hash of the parameters and catalogue: the cache folder's name. */
  readonly key: string;
  /** The preprocessing parameters, defaults filled in. */
  readonly params: ResolvedParams;
  /** Shape of one cached image. */
  readonly shape: ImageShape;
  /** Bytes per image record. */
  readonly recordBytes: number;
  /** Records per shard file. */
  readonly shardRecords: number;
  /** Shard file names, in record order. */
  readonly shards: readonly string[];
  /** Byte size and SHA-256 (hex) of each shard, recorded as it was written. */
  readonly shardBytes: readonly number[];
  /** SHA-256 (hex) of each shard, recorded as it was written. */
  readonly shardSha256: readonly string[];
  /** Galaxy id of record i (record i lives in shard ⌊i / shardRecords⌋ at slot i mod shardRecords). */
  readonly ids: readonly string[];
  /** Images that could not be preprocessed. */
  readonly failures: readonly CacheFailure[];
  /** How many images each crop kind was used for. */
  readonly crops: Readonly<Record<string, number>>;
  /** The catalogue the cache was built from: its path, content fingerprint and number of galaxies. */
  readonly catalogue: {
    /** The catalogue file. */
    readonly path: string;
    /** Fingerprint of its contents. */
    readonly fingerprint: string;
    /** Galaxies in it. */
    readonly galaxies: number;
  };
  /** Seconds the build took. */
  readonly seconds: number;
  /** Images preprocessed per second. */
  readonly imagesPerSecond: number;
}

/** Options of `buildCache`. */
export interface BuildCacheOptions {
  /** The catalogue (SQLite) whose images are cached. */
  readonly catalogue: string;
  /** Root folder of caches; the cache goes in a sub-folder named after its key. */
  readonly cacheDir: string;
  /** How images are preprocessed. */
  readonly params: PreprocessParams;
  /** Worker threads decoding images (default: one per core; 0 = this thread). */
  readonly workers?: number;
  /** Files in flight at once (default 32 per worker: the pool sends them in batches of up to 16). */
  readonly inFlight?: number;
  /** Records per shard file (default 4096). */
  readonly shardRecords?: number;
  /** Rebuild even when a matching cache exists. */
  readonly force?: boolean;
  /** Progress bar of the build (default: silent). */
  readonly progress?: Progress;
}

/** What `buildCache` gives. */
export interface BuildCacheResult {
  /** The cache folder. */
  readonly dir: string;
  /** Its manifest. */
  readonly manifest: CacheManifest;
  /** Whether a matching, verified cache was reused instead of built. */
  readonly reused: boolean;
  /** Why a cache with the same parameters was rebuilt instead of reused (a failed verification). */
  readonly rebuiltBecause?: string;
}

/** A galaxy to preprocess: its id and image file. */
type ImageRow = { readonly id: string; readonly imagePath: string };

function fingerprint(rows: readonly ImageRow[]): string {
  const hash = createHash('sha256');
  for (const r of rows) hash.update(`${r.id}\t${r.imagePath}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** The folder under `cacheDir` that a cache of these parameters lives in. */
export function cacheDirFor(cacheDir: string, params: PreprocessParams | ResolvedParams): string {
  return join(resolve(cacheDir), paramsKey(params));
}

/**
 * The cache manifest in `dir` (or in the version a killed writer left parked): null when there is
 * none or it is of another format version; a CorruptArtifactError when index.json is unreadable.
 */
export function readManifest(dir: string): CacheManifest | null {
  const resolved = resolveAtomicDir(dir);
  if (resolved === null) return null;
  const file = join(resolved, 'index.json');
  if (!existsSync(file)) return null;
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as CacheManifest;
  } catch (error) {
    throw new CorruptArtifactError(file, `not a readable cache index (${(error as Error).message})`, REPAIR, {
      cause: error,
    });
  }
  return manifest?.format === CACHE_FORMAT ? manifest : null;
}

const REPAIR = 'Run `gzh preprocess` (or `gzh run`) again with the same parameters: it rebuilds the cache';

/** Throws a CorruptArtifactError naming the first shard of `dir` whose size or checksum is wrong. */
export function verifyCache(dir: string, manifest: CacheManifest): void {
  const problem = verifyShards(dir, manifest);
  if (problem) throw new CorruptArtifactError(problem.path, problem.problem, REPAIR);
}

/** The reusable cache in `dir` for this key and catalogue, or why there is none. */
function reusable(
  dir: string,
  key: string,
  print: string,
): { manifest: CacheManifest; dir: string } | { reason: string | null } {
  let existing: CacheManifest | null;
  try {
    existing = readManifest(dir);
  } catch (error) {
    return { reason: (error as Error).message };
  }
  if (!existing || existing.key !== key || existing.catalogue.fingerprint !== print) return { reason: null };
  const resolved = resolveAtomicDir(dir)!;
  const problem = verifyShards(resolved, existing);
  return problem ? { reason: `${problem.path}: ${problem.problem}` } : { manifest: existing, dir: resolved };
}

/** Preprocesses every galaxy with an image into the cache, or reuses a matching cache. */
export async function buildCache(options: BuildCacheOptions): Promise<BuildCacheResult> {
  const params = resolveParams(options.params);
  const key = paramsKey(params);
  const dir = join(resolve(options.cacheDir), key);
  const catalogue = new Catalogue(options.catalogue);
  let rows: ImageRow[];
  try {
    // ids and paths only: the targets (3 × 37 floats a galaxy) are not needed to preprocess
    rows = catalogue.images();
  } finally {
    catalogue.close();
  }
  if (rows.length === 0)
    throw new InputError(
      `${options.catalogue}: no galaxies with images (a label-only catalogue cannot be preprocessed)`,
    );
  const print = fingerprint(rows);
  // what killed writers left behind (their process is gone) goes first
  await cleanStaleTemps(dir);
  const found = reusable(dir, key, print);
  if (!options.force && 'manifest' in found) return { dir, manifest: found.manifest, reused: true };
  const rebuiltBecause = !options.force && 'reason' in found && found.reason ? found.reason : undefined;
  let manifest: CacheManifest | undefined;
  await writeDirAtomic(
    dir,
    async (tmp) => {
      manifest = await fillCache(tmp, rows, params, key, print, options);
    },
    // a concurrent run that built the same cache meanwhile wins; ours is dropped
    { keepExisting: (existing) => 'manifest' in reusable(existing, key, print) },
  );
  const final = reusable(dir, key, print);
  if ('manifest' in final) manifest = final.manifest;
  return { dir, manifest: manifest!, reused: false, ...(rebuiltBecause ? { rebuiltBecause } : {}) };
}

/** Preprocesses `rows` into shard files in `tmp` and writes its index.json; returns the manifest. */
async function fillCache(
  tmp: string,
  rows: readonly ImageRow[],
  params: ResolvedParams,
  key: string,
  print: string,
  options: BuildCacheOptions,
): Promise<CacheManifest> {
  const progress = options.progress ?? new SilentProgress();
  const shape: ImageShape = [params.size, params.size, params.channels];
  const recordBytes = params.size * params.size * params.channels;
  const shardRecords = options.shardRecords ?? 4096;
  const workers = options.workers ?? defaultWorkers();
  const pool = createPreprocessor(params, workers);
  const inFlight = options.inFlight ?? Math.max(4, 32 * Math.max(1, pool.workers));
  const ids: string[] = [];
  const shards: string[] = [];
  const shardBytes: number[] = [];
  const shardSha256: string[] = [];
  let hash = createHash('sha256');
  const closeShard = () => {
    if (fd < 0) return;
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    shardSha256.push(hash.digest('hex'));
  };
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
          closeShard();
          const name = `shard-${String(shards.length).padStart(3, '0')}.bin`;
          shards.push(name);
          shardBytes.push(0);
          hash = createHash('sha256');
          fd = openSync(join(tmp, name), 'w');
        }
        writeAll(fd, result.pixels);
        hash.update(result.pixels);
        shardBytes[shardBytes.length - 1] += result.pixels.length;
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
          const r = await pool.process(row.imagePath);
          results.set(index, { pixels: r.pixels, crop: r.crop });
        } catch (error) {
          const kind = error instanceof ImageError ? error.kind : 'error';
          const message = error instanceof Error ? error.message : String(error);
          results.set(index, { id: row.id, path: row.imagePath, kind, message });
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
    throw error;
  }
  closeShard();
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
    shardBytes,
    shardSha256,
    ids,
    failures,
    crops,
    catalogue: { path: resolve(options.catalogue), fingerprint: print, galaxies: rows.length },
    seconds,
    imagesPerSecond: rows.length / seconds,
  };
  await writeFile(join(tmp, 'index.json'), JSON.stringify(manifest));
  return manifest;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Options of `openCachedSource`. */
export interface OpenCachedSourceOptions {
  /** The catalogue (SQLite) the cache was built from. */
  readonly catalogue: string;
  /** The cache root given to buildCache plus the parameters, or the key folder itself. */
  readonly cacheDir: string;
  /** The preprocessing parameters (with a cache root as `cacheDir`). */
  readonly params?: PreprocessParams;
  /** Which split to stream. */
  readonly split: SplitName;
}

/**
 * A BatchSource over one split: targets for the split are held in memory (37 floats each), pixels
 * are read from the shard files batch by batch. Galaxies whose image failed to preprocess are left
 * out (`missing` counts them).
 */
export class CachedSource implements BatchSource {
  /** The split streamed. */
  readonly split: SplitName;
  /** Shape of one image. */
  readonly shape: ImageShape;
  readonly length: number;
  /** Whether batches carry vote counts. */
  readonly hasCounts: boolean;
  /** Galaxies of the split that have no cached image. */
  readonly missing: number;
  /** The cache's manifest. */
  readonly manifest: CacheManifest;
  private readonly dir: string;
  readonly ids: readonly string[];
  private readonly records: Int32Array;
  private readonly conditional: Float32Array;
  private readonly cumulative: Float32Array;
  private readonly counts: Float32Array | null;

  constructor(options: OpenCachedSourceOptions) {
    const target = options.params ? cacheDirFor(options.cacheDir, options.params) : resolve(options.cacheDir);
    const manifest = readManifest(target);
    if (!manifest) throw new InputError(`no image cache in ${target} (run \`gzh preprocess\` first)`);
    const dir = resolveAtomicDir(target)!;
    verifyCache(dir, manifest);
    this.dir = dir;
    this.manifest = manifest;
    this.split = options.split;
    this.shape = manifest.shape;
    const recordOf = new Map<string, number>();
    manifest.ids.forEach((id, i) => recordOf.set(id, i));
    const catalogue = new Catalogue(options.catalogue);
    try {
      const packed = packTargets(catalogue, options.split, recordOf);
      this.missing = packed.missing;
      this.length = packed.ids.length;
      this.ids = packed.ids;
      this.records = packed.records;
      this.conditional = packed.conditional;
      this.cumulative = packed.cumulative;
      this.counts = packed.counts;
      this.hasCounts = packed.counts !== null;
    } finally {
      catalogue.close();
    }
  }

  /**
   * Row order of an epoch (of `rows`, default every row): a permutation that depends only on (seed, epoch) when
   * shuffling.
   */
  order(options: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch' | 'rows'>): Int32Array {
    const rows = options.rows ?? Array.from({ length: this.length }, (_, i) => i);
    if (!options.shuffle) return Int32Array.from(rows);
    return Int32Array.from(
      Random.derive(options.seed, 'epoch', options.epoch).permutation(rows.length),
      (i) => rows[i],
    );
  }

  /** The batches of one epoch, in the order `options` give (pixels read from the shards batch by batch). */
  async *batches(options: BatchOptions): AsyncIterable<Batch> {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
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
      for (let start = (options.skipBatches ?? 0) * batchSize; start < order.length; start += batchSize) {
        const size = Math.min(batchSize, order.length - start);
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
          )
            run++;
          const bytes = run * recordBytes;
          const target = images.subarray(i * recordBytes, i * recordBytes + bytes);
          const got = readSync(fdFor(shard), target, 0, bytes, (first % shardRecords) * recordBytes);
          if (got !== bytes) throw new CorruptArtifactError(join(this.dir, shards[shard]), 'truncated shard', REPAIR);
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

/**
 * The cached galaxies of a split with their targets packed in flat arrays (37 floats a galaxy):
 * the catalogue is read row by row, so no per-galaxy objects outlive the loop.
 */
function packTargets(catalogue: Catalogue, split: SplitName, recordOf: ReadonlyMap<string, number>) {
  const total = catalogue.count(split);
  const ids: string[] = [];
  const records = new Int32Array(total);
  let conditional = new Float32Array(total * ANSWER_COUNT);
  let cumulative = new Float32Array(total * ANSWER_COUNT);
  let counts: Float32Array | null = new Float32Array(total * ANSWER_COUNT);
  let missing = 0;
  for (const row of catalogue.iterate(split)) {
    const record = recordOf.get(row.id);
    if (record === undefined) {
      missing++;
      continue;
    }
    const i = ids.length;
    ids.push(row.id);
    records[i] = record;
    conditional.set(row.conditional, i * ANSWER_COUNT);
    cumulative.set(row.cumulative, i * ANSWER_COUNT);
    if (row.counts === null) counts = null;
    else counts?.set(row.counts, i * ANSWER_COUNT);
  }
  const n = ids.length;
  if (n < total) {
    conditional = conditional.slice(0, n * ANSWER_COUNT);
    cumulative = cumulative.slice(0, n * ANSWER_COUNT);
    counts = counts?.slice(0, n * ANSWER_COUNT) ?? null;
  }
  return { ids, records: records.slice(0, n), conditional, cumulative, counts: n > 0 ? counts : null, missing };
}

/** A BatchSource over one split of a built cache. */
export function openCachedSource(options: OpenCachedSourceOptions): CachedSource {
  return new CachedSource(options);
}
