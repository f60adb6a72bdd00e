/**
 * Browser benchmark (not a test): the exported site in Debian's headless Chromium, for the
 * hierarchical model of experiments/kaggle-sample-hierarchical.json (deep BatchNorm trunk,
 * 64 px RGB centre crop of 207 px; untrained weights: speed does not depend on them).
 *
 *   npm run bench:web -- [--images 64] [--backends webgl,wasm] [--tta none,d4]
 *
 * For each backend and TTA: a fresh browser context opens the page and is handed one Kaggle JPEG
 * as soon as the file input exists; "load → first prediction" is performance.now() when that
 * image's result is shown (from navigation start: page, bundle, model and backend start-up
 * included). Then --images files in one go: img/s from receiving them to the last result shown
 * (decode, preprocessing, every view, the table and one tree drawn). WebGL in headless Chromium
 * without a GPU is SwiftShader's software renderer.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import puppeteer, { type ElementHandle } from 'puppeteer-core';
import { dataPaths } from '../src/data/data-dir.js';
import { resolveParams } from '../src/data/images/preprocess.js';
import { writeEnsembleDir } from '../src/ensemble/ensemble-dir.js';
import { buildHierarchicalModel } from '../src/models/hierarchical.js';
import { saveModel } from '../src/models/io.js';
import { createManifest } from '../src/models/manifest.js';
import { exportSite } from '../src/web/export.js';
import { serveSite } from '../src/web/server.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const count = Number(arg('images', '64'));
const backends = arg('backends', 'webgl,wasm').split(',');
const ttas = arg('tta', 'none,d4').split(',');
const chromium = process.env.GZH_CHROMIUM ?? '/usr/bin/chromium';

interface Api {
  backend?: string;
  readyMs?: number;
  firstPredictionMs?: number;
  lastRun?: { images: number; ms: number };
  results: unknown[];
  error?: string;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'gzh-bench-web-'));
  const kaggle = dataPaths().kaggleImages;
  const files = readdirSync(kaggle)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, count + 1)
    .map((f) => join(kaggle, f));
  const model = buildHierarchicalModel({ inputSize: 64, channels: 3, trunk: { kind: 'deep' } });
  const params = model.countParams();
  await saveModel(model, join(dir, 'model'), {
    manifest: createManifest(model, {
      kind: 'hierarchical',
      preprocessing: resolveParams({ mode: 'center', size: 64, channels: 3, centerCrop: 207 }),
    }),
  });
  model.dispose();
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: mkdtempSync(join(tmpdir(), 'gzh-chromium-')),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const rows: Array<Record<string, unknown>> = [];
  try {
    for (const tta of ttas) {
      await writeEnsembleDir(join(dir, `ensemble-${tta}`), {
        members: [join(dir, 'model')],
        tta: tta as 'none' | 'd4',
      });
      const site = join(dir, `site-${tta}`);
      const summary = await exportSite({ model: join(dir, `ensemble-${tta}`), out: site });
      const server = await serveSite(site, { port: 0 });
      for (const backend of backends) {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        await page.goto(`${server.url}?backend=${backend}`, { waitUntil: 'domcontentloaded' });
        const input = (await page.waitForSelector('#files')) as ElementHandle<HTMLInputElement>;
        await input.uploadFile(files[0]);
        const done = (n: number) =>
          page.waitForFunction(
            (k: number) =>
              document.body.dataset.state === 'done' && (window as unknown as { gzh: Api }).gzh.results.length >= k,
            { timeout: 600_000 },
            n,
          );
        await done(1);
        await input.uploadFile(...files.slice(1, count + 1));
        await done(count + 1);
        const api = await page.evaluate(() => (window as unknown as { gzh: Api }).gzh);
        if (api.error) throw new Error(api.error);
        rows.push({
          tta,
          backend: api.backend,
          loadToFirstPredictionS: Number(((api.firstPredictionMs ?? NaN) / 1000).toFixed(2)),
          loadToReadyS: Number(((api.readyMs ?? NaN) / 1000).toFixed(2)),
          imagesPerSecond: Number((api.lastRun!.images / (api.lastRun!.ms / 1000)).toFixed(1)),
          siteMB: Number((summary.bytes / 1e6).toFixed(1)),
        });
        await context.close();
      }
      await server.close();
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `browser predictor, hierarchical deep trunk (${params} parameters), 64 px RGB, ${count} Kaggle JPEGs, ` +
      `${chromium}\n`,
  );
  process.stdout.write(`${'tta'.padEnd(5)} ${'backend'.padEnd(8)} load→first prediction  load→ready  img/s\n`);
  for (const r of rows) {
    process.stdout.write(
      `${String(r.tta).padEnd(5)} ${String(r.backend).padEnd(8)} ` +
        `${String(r.loadToFirstPredictionS).padStart(8)} s ${String(r.loadToReadyS).padStart(16)} s ` +
        `${String(r.imagesPerSecond).padStart(6)}\n`,
    );
  }
  process.stdout.write(`GZH_BENCH ${JSON.stringify({ count, params, rows })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
