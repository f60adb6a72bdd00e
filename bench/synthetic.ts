/**
 * Synthetic generator throughput: CPU milliseconds per 424 px image for rendering and for JPEG
 * encoding (one thread, `--sample` galaxies), CPU per label row of each layout (labels-only data
 * sets of `--rows` rows), then one full generation of `--count` Kaggle images with `--workers`
 * worker threads (wall seconds, images/s, and the time 61,578 images would take at that rate).
 * Usage:
 *   npm run bench:synthetic -- [--count 2000] [--workers N] [--sample 60] [--rows 20000] [--json]
 * Prints the load average with the figures: on a shared machine, compare CPU times, not rates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RenderScratch,
  encodeJpeg,
  generateSyntheticDataset,
  renderGalaxyUint8,
  sampleMorphology,
  type SyntheticFormat,
} from '../src/data/synthetic/index.js';
import { Random } from '../src/util/random.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** CPU milliseconds of this process (all threads) since `from`. */
function cpuMs(from?: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1000;
}

const KAGGLE_TRAINING_SET = 61_578;
const count = arg('count', 2000);
const workers = arg('workers', availableParallelism());
const sample = arg('sample', 60);
const rows = arg('rows', 20_000);
const work = mkdtempSync(join(tmpdir(), 'gzh-bench-synthetic-'));
try {
  const scratch = new RenderScratch(424);
  let render = 0;
  let encode = 0;
  for (let i = 0; i < sample; i++) {
    const morphology = sampleMorphology(Random.derive(1, 'morphology', i));
    let from = process.cpuUsage();
    const pixels = renderGalaxyUint8(morphology, Random.derive(1, 'pixels', i), { size: 424 }, scratch);
    render += cpuMs(from);
    from = process.cpuUsage();
    await encodeJpeg(pixels, 424, 90);
    encode += cpuMs(from);
  }
  const labels: Record<string, number> = {};
  for (const format of ['kaggle', 'gz2'] as SyntheticFormat[]) {
    const from = process.cpuUsage();
    await generateSyntheticDataset({
      outDir: join(work, `labels-${format}`),
      format,
      count: rows,
      seed: 1,
      labelsOnly: true,
    });
    labels[format] = cpuMs(from) / rows;
  }
  const from = process.cpuUsage();
  const t0 = performance.now();
  await generateSyntheticDataset({ outDir: join(work, 'kaggle'), count, seed: 1, workers });
  const seconds = (performance.now() - t0) / 1000;
  const result = {
    renderCpuMs: render / sample,
    encodeCpuMs: encode / sample,
    labelRowCpuMs: labels,
    generation: { count, workers, seconds, imagesPerSecond: count / seconds, cpuMsPerImage: cpuMs(from) / count },
    minutesFor61578AtThisRate: KAGGLE_TRAINING_SET / (count / seconds) / 60,
    loadAverage: loadavg(),
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(
      `render ${result.renderCpuMs.toFixed(1)} ms CPU/image, encode ${result.encodeCpuMs.toFixed(1)} ms ` +
        `CPU/image (424 px, q90)`,
    );
    console.log(
      `label rows: kaggle ${labels.kaggle.toFixed(3)} ms CPU/row, gz2 ${labels.gz2.toFixed(3)} ms CPU/row ` +
        `(${rows} rows)`,
    );
    const g = result.generation;
    const rate = `${g.imagesPerSecond.toFixed(1)} images/s, ${g.cpuMsPerImage.toFixed(1)} ms CPU/image`;
    console.log(`${count} Kaggle images with ${workers} workers: ${g.seconds.toFixed(1)} s, ${rate}`);
    const load = loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
    console.log(
      `61,578 images at this rate: ${result.minutesFor61578AtThisRate.toFixed(1)} min (load average ${load})`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
