/**
 * Benchmarks of survey-scale prediction (not tests), run through `npm run bench:predict -- --mode …`:
 *
 *  - `--mode jpeg`: JPEG files → CSV rows in one process: the predictor's `predictMany` (decoding on
 *    libuv threads, one batch ahead) against the pipeline (`predictStream`: worker threads decode
 *    `lookahead` batches ahead while the model runs). Flat seed CNN, 106 px gray contour, no TTA.
 *  - `--mode shards`: one `gzh predict --list` against `--shards 2 --executor local --jobs 2` over
 *    the same files (the built CLI, as child processes): wall img/s and CPU ms per image of the
 *    whole process tree (from /usr/bin/time -v).
 *  - `--mode stages`: CPU ms per image of the JPEG path's stages in one thread (`benchStages`).
 *  - `--mode gather`: peak RSS of the gathering `gzh predict --shards 4` process when every part is
 *    already written, for synthetic lists of 5,000 and 100,000 entries (from /usr/bin/time -v);
 *    `--heap MiB` caps its V8 old space, to tell retained memory from garbage not yet collected.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chooseContourCrop } from '../src/data/images/contour.js';
import { nativeJpeg, nativeJpegError } from '../src/data/images/native-jpeg.js';
import { preprocessJpeg, resolveParams } from '../src/data/images/preprocess.js';
import { readEnsembleDir } from '../src/ensemble/ensemble-dir.js';
import { galaxyId, kaggleCsvRow } from '../src/ensemble/kaggle.js';
import { EnsemblePredictor } from '../src/ensemble/predictor.js';
import { type ShardPlan, expectedMeta, partPath } from '../src/predict/gather.js';
import { inputEntries, inputRange, scanInputs } from '../src/predict/input-list.js';
import { predictionKey } from '../src/predict/model-key.js';
import { PartWriter } from '../src/predict/part.js';
import { predictStream } from '../src/predict/pipeline.js';
import { buildFlatModel } from '../src/models/flat.js';
import { saveModel } from '../src/models/io.js';
import { createManifest } from '../src/models/manifest.js';
import { ANSWER_COUNT } from '../src/questions/index.js';

const SIZE = 106;
const CLI = resolve(import.meta.dirname, '../src/cli/main.js');

/** A saved flat seed CNN (106 px gray contour) in `dir`. */
export async function flatModel(dir: string): Promise<string> {
  const model = buildFlatModel({ inputSize: SIZE, channels: 1 });
  const params = resolveParams({ mode: 'contour', size: SIZE, channels: 1 });
  await saveModel(model, dir, { manifest: createManifest(model, { kind: 'flat', preprocessing: params }) });
  model.dispose();
  return dir;
}

/**
 * Best img/s of `repeats` runs of `once` (which returns images done), with the process CPU time
 * (all threads, user + system) per image of that run: on a shared machine the CPU cost per image
 * is the figure load disturbs least.
 */
async function timed(
  repeats: number,
  once: () => Promise<number>,
): Promise<{ imagesPerSecond: number; cpuMsPerImage: number }> {
  let top = { imagesPerSecond: 0, cpuMsPerImage: 0 };
  for (let r = 0; r < repeats; r++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const images = await once();
    const used = process.cpuUsage(cpu);
    const rate = images / ((performance.now() - start) / 1000);
    if (rate > top.imagesPerSecond)
      top = { imagesPerSecond: rate, cpuMsPerImage: (used.user + used.system) / 1000 / images };
  }
  return top;
}

/** img/s of predictMany and of the pipeline over `files` (best of `repeats`, after a warm-up). */
export async function benchJpeg(
  files: string[],
  batch: number,
  repeats: number,
  workers?: number,
): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'gzh-bench-jpeg-'));
  try {
    const predictor = await EnsemblePredictor.load(await flatModel(join(dir, 'flat')), { predictBatchSize: batch });
    const source = { kind: 'paths' as const, paths: files };
    const many = async () => (await predictor.predictMany(files, { batchSize: batch })).filter((o) => o.ok).length;
    const pipe = async () => {
      let ok = 0;
      for await (const o of predictStream(predictor, inputEntries(source), {
        batchSize: batch,
        ...(workers !== undefined ? { workers } : {}),
      })) {
        if (o.ok) {
          kaggleCsvRow(galaxyId(o.source), o.prediction.cumulative);
          ok++;
        }
      }
      return ok;
    };
    await pipe();
    const result = { predictMany: await timed(repeats, many), pipeline: await timed(repeats, pipe) };
    predictor.dispose();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall seconds and CPU seconds (user + system, the process and every child it waited for) of one CLI run. */
function measure(args: string[]): { wall: number; cpu: number } {
  const start = performance.now();
  const run = spawnSync('/usr/bin/time', ['-v', process.execPath, CLI, '--quiet', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const wall = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`gzh ${args.join(' ')} failed (exit ${run.status}): ${run.stderr}`);
  const field = (name: string) => Number(new RegExp(`${name} \\(seconds\\): ([\\d.]+)`).exec(run.stderr)?.[1]);
  return { wall, cpu: field('User time') + field('System time') };
}

/**
 * The list of `files`, each under a name of its own: a file picked again (a `--count` above the
 * files there are) is a symbolic link `<n>.jpg` in `dir`, since a GalaxyID may be listed once.
 */
function uniqueList(files: readonly string[], dir: string): string {
  mkdirSync(join(dir, 'links'), { recursive: true });
  const seen = new Set<string>();
  const paths = files.map((f, n) => {
    if (!seen.has(f)) return (seen.add(f), f);
    const link = join(dir, 'links', `${n}.jpg`);
    symlinkSync(resolve(f), link);
    return link;
  });
  const list = join(dir, 'list.txt');
  writeFileSync(list, paths.map((f) => `${f}\n`).join(''));
  return list;
}

/**
 * One `gzh predict` against 2 local shard processes over the same list, run alternately (`repeats`
 * rounds, so that changing load falls on both alike): per run, wall img/s and CPU ms per image of
 * the whole process tree (user + system: the per-core cost, which a loaded machine disturbs least),
 * and their medians; `perCoreRatio` is the single process's CPU ms per image over the shards'.
 */
export async function benchShards(files: string[], repeats: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'gzh-bench-shards-'));
  try {
    const model = await flatModel(join(dir, 'flat'));
    const list = uniqueList(files, dir);
    const common = ['predict', '--list', list, '--model', model];
    const runs = {
      single: [...common, '--csv', join(dir, 'one.csv')],
      shardsLocal2: [...common, '--csv', join(dir, 'two.csv'), '--shards', '2', '--executor', 'local', '--jobs', '2'],
    };
    const all: Record<string, Array<{ imagesPerSecond: number; cpuMsPerImage: number }>> = {
      single: [],
      shardsLocal2: [],
    };
    for (let r = 0; r < repeats; r++) {
      for (const [name, args] of Object.entries(runs)) {
        const m = measure(args);
        all[name].push({ imagesPerSecond: files.length / m.wall, cpuMsPerImage: (m.cpu * 1000) / files.length });
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const summary = Object.fromEntries(
      Object.entries(all).map(([name, xs]) => [
        name,
        {
          runs: xs,
          medianCpuMsPerImage: median(xs.map((x) => x.cpuMsPerImage)),
          medianImagesPerSecond: median(xs.map((x) => x.imagesPerSecond)),
        },
      ]),
    );
    return {
      ...summary,
      perCoreRatio:
        median(all.single.map((x) => x.cpuMsPerImage)) / median(all.shardsLocal2.map((x) => x.cpuMsPerImage)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS (MiB) of the gathering process for a synthetic list of `count` entries in 4 shards. */
export async function benchGather(
  count: number,
  heapMiB?: number,
): Promise<{ count: number; peakMiB: number; seconds: number; heapLimitMiB?: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gzh-bench-gather-'));
  try {
    const model = await flatModel(join(dir, 'flat'));
    const list = join(dir, 'list.txt');
    writeFileSync(list, Array.from({ length: count }, (_, i) => `survey/${1_000_000 + i}.jpg\n`).join(''));
    const source = { kind: 'list' as const, path: list };
    const plan: ShardPlan = {
      scan: await scanInputs(source),
      shards: 4,
      model: predictionKey(await readEnsembleDir(model)),
      partsDir: join(dir, 'parts'),
    };
    mkdirSync(plan.partsDir, { recursive: true });
    const values = Float32Array.from({ length: ANSWER_COUNT }, (_, a) => (a + 1) / 40);
    for (let i = 0; i < plan.shards; i++) {
      const meta = expectedMeta(plan, i);
      const part = await PartWriter.open(partPath(plan, i), meta);
      for await (const e of inputRange(source, meta.start, meta.end))
        await part.row(kaggleCsvRow(galaxyId(e.path), values));
      await part.commit();
    }
    const start = performance.now();
    const args = [
      CLI,
      '--quiet',
      'predict',
      '--list',
      list,
      '--model',
      model,
      '--shards',
      '4',
      '--parts',
      plan.partsDir,
      '--csv',
      join(dir, 'out.csv'),
    ];
    const heap = heapMiB ? [`--max-old-space-size=${heapMiB}`] : [];
    const run = spawnSync('/usr/bin/time', ['-v', process.execPath, ...heap, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const seconds = (performance.now() - start) / 1000;
    if (run.status !== 0) throw new Error(`gather of ${count} failed (exit ${run.status}): ${run.stderr}`);
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1]);
    return { count, peakMiB: kb / 1024, seconds, ...(heapMiB ? { heapLimitMiB: heapMiB } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CPU ms per image of the stages of the JPEG path on this thread (`rounds` interleaved rounds over
 * `files` read into memory): the whole 106 px gray contour preprocessing, its full-resolution
 * luma decode, its crop choice on that luma, and, as a what-if, a luma decode at half scale in
 * the DCT domain (libjpeg's `ratio` 2, which the preprocessing does not use).
 */
export async function benchStages(files: string[], rounds: number): Promise<Record<string, number[]>> {
  const jpeg = nativeJpeg();
  if (!jpeg) throw new Error(`--mode stages needs the native JPEG decoder: ${nativeJpegError()}`);
  const buffers = files.map((f) => readFileSync(f));
  const params = resolveParams({ mode: 'contour', size: SIZE, channels: 1 });
  const lumas = buffers.map((b) => jpeg.decode(b, 1));
  // the decoder's attributes are private: the ratio is changed only for this what-if
  const ratio = (jpeg as unknown as { decodeAttrs: Record<1 | 3, Array<{ value: unknown }>> }).decodeAttrs[1][1];
  const stages: Record<string, (i: number) => unknown> = {
    preprocess: (i) => preprocessJpeg(buffers[i], params),
    decodeLuma: (i) => jpeg.decode(buffers[i], 1),
    cropChoice: (i) => chooseContourCrop(lumas[i].data, lumas[i].width, lumas[i].height, params.contour),
    decodeLumaHalfScale: (i) => {
      ratio.value = 2;
      try {
        return jpeg.decode(buffers[i], 1);
      } finally {
        ratio.value = 1;
      }
    },
  };
  const out: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, stage] of Object.entries(stages)) {
      const cpu = process.cpuUsage();
      for (let i = 0; i < buffers.length; i++) await stage(i);
      const used = process.cpuUsage(cpu);
      (out[name] ??= []).push(Number(((used.user + used.system) / 1000 / buffers.length).toFixed(3)));
    }
  }
  return out;
}
