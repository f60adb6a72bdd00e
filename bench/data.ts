/**
 * Preprocessing throughput on the real Kaggle sample (5,408 images of 424×424): images/s and CPU
 * milliseconds per image (all threads of the process) for the contour and center modes, through the
 * same path `gzh preprocess` uses (worker threads, cache written to a temporary folder). Usage:
 *   npm run bench:data -- [--workers N] [--repeat N] [--decoder tensorflow|sharp|both] [--full-res] [--json]
 * The default decoder is the pipeline's default (tensorflow where tfjs-node loads); `both` runs
 * each configuration with each decoder back to back, for ratios on a loaded machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildCache } from '../src/data/cache.js';
import { dataPaths, resolveDataDir } from '../src/data/data-dir.js';
import { type JpegDecoder, type PreprocessParams, defaultDecoder } from '../src/data/images/preprocess.js';
import { ingest } from '../src/data/ingest.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const paths = dataPaths(resolveDataDir());
const workers = arg('workers', availableParallelism());
const repeat = arg('repeat', 3);
const decoderArg = process.argv.includes('--decoder')
  ? process.argv[process.argv.indexOf('--decoder') + 1]
  : defaultDecoder();
const decoders: JpegDecoder[] =
  decoderArg === 'both'
    ? ['tensorflow', 'sharp']
    : decoderArg === 'tensorflow' || decoderArg === 'sharp'
      ? [decoderArg]
      : [];
if (decoders.length === 0) throw new Error(`--decoder: expected tensorflow | sharp | both, got ${decoderArg}`);
const work = mkdtempSync(join(tmpdir(), 'gzh-bench-data-'));
try {
  const catalogue = join(work, 'catalogue.sqlite');
  const t0 = performance.now();
  const report = await ingest(catalogue, {
    format: 'kaggle',
    labels: paths.kaggleSolutions,
    images: paths.kaggleImages,
  });
  const ingestSeconds = (performance.now() - t0) / 1000;
  console.error(`ingest: ${report.accepted} galaxies, ${report.rejected} rejected in ${ingestSeconds.toFixed(2)} s`);
  const base: Array<[string, PreprocessParams]> = [
    ['contour 106 gray', { mode: 'contour', size: 106, channels: 1 }],
    ['contour 106 rgb', { mode: 'contour', size: 106, channels: 3 }],
    ...(process.argv.includes('--full-res')
      ? [
          [
            'contour 106 gray full-res detect',
            { mode: 'contour', size: 106, channels: 1, contour: { detectScale: 1 } },
          ] as [string, PreprocessParams],
        ]
      : []),
    ['center 207→69 rgb', { mode: 'center', size: 69, channels: 3 }],
    ['center 207→64 gray', { mode: 'center', size: 64, channels: 1 }],
  ];
  const configs: Array<[string, PreprocessParams]> = base.flatMap(([name, params]) =>
    decoders.map((decoder): [string, PreprocessParams] => [`${name} [${decoder}]`, { ...params, decoder }]),
  );
  // Wall-clock rate depends on what else runs on the machine; CPU time per image (all threads of this
  // process) does much less, so the bench also reports the rate the cores would give if idle.
  const results: Array<{
    name: string;
    images: number;
    best: number;
    runs: number[];
    cpuMsPerImage: number;
    idleCoresRate: number;
    crops: Record<string, number>;
  }> = [];
  for (const [name, params] of configs) {
    const runs: number[] = [];
    let images = 0;
    let cpuMsPerImage = Infinity;
    let crops: Record<string, number> = {};
    for (let r = 0; r < repeat; r++) {
      const cpu0 = process.cpuUsage();
      const result = await buildCache({ catalogue, cacheDir: join(work, 'cache'), params, workers, force: true });
      const cpu = process.cpuUsage(cpu0);
      images = result.manifest.ids.length;
      crops = { ...result.manifest.crops };
      runs.push(result.manifest.imagesPerSecond);
      cpuMsPerImage = Math.min(cpuMsPerImage, (cpu.user + cpu.system) / 1000 / report.accepted);
    }
    const idleCoresRate = (1000 / cpuMsPerImage) * availableParallelism();
    results.push({ name, images, best: Math.max(...runs), runs, cpuMsPerImage, idleCoresRate, crops });
    console.error(
      `${name.padEnd(44)} best ${Math.max(...runs).toFixed(0)} img/s  (runs: ` +
        `${runs.map((x) => x.toFixed(0)).join(', ')}); ` +
        `${cpuMsPerImage.toFixed(2)} ms CPU/image → ${idleCoresRate.toFixed(0)} img/s on ` +
        `${availableParallelism()} idle cores`,
    );
  }
  const summary = {
    cpu: cpus()[0]?.model,
    cores: availableParallelism(),
    loadavg: loadavg(),
    workers,
    repeat,
    ingestSeconds,
    results,
  };
  console.error(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')}`,
  );
  if (process.argv.includes('--json')) console.log(JSON.stringify(summary, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
