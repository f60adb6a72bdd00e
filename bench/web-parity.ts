/**
 * Browser parity benchmark (not a test): how far the page's 37 outputs are from `gzh predict`'s
 * for a given (trained) model, judged against how much the model's answers move between galaxies.
 *
 *   npm run bench:web-parity -- --model <dir> [--images 20] [--backends wasm,webgl] [--tta none]
 *
 * --model: ensemble directory, run variant, single model directory or folder of model directories
 * (whatever `gzh export-web --model` takes). The site is exported to a temporary folder and served
 * on a free port; the first --images Kaggle JPEGs of the shared sample (sorted by name) go through
 * headless Chromium (the browser's JPEG decoder) and through `EnsemblePredictor` on the site's own
 * model folder (the path `gzh predict` takes: the decoder the model records). Printed per backend:
 * max and mean |Δ| over all galaxies × 37 cumulative outputs, and for each output the largest
 * |Δ| next to the spread of that output across the galaxies (standard deviation and max − min).
 * For reference, the same model in Node with the other decoder (sharp ↔ tensorflow) on the same
 * galaxies: how far the JPEG decoder alone moves the answers, and the page against that.
 * --tta overrides the ensemble's test-time augmentation on both sides (default: the ensemble's).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import puppeteer, { type Browser, type ElementHandle } from 'puppeteer-core';
import { dataPaths } from '../src/data/data-dir.js';
import { preprocessFile } from '../src/data/images/preprocess.js';
import { EnsemblePredictor } from '../src/ensemble/predictor.js';
import type { TtaSpec } from '../src/ensemble/tta.js';
import { KAGGLE_COLUMNS } from '../src/questions/tree.js';
import { exportSite } from '../src/web/export.js';
import { serveSite } from '../src/web/server.js';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const modelDir = arg('model');
const count = Number(arg('images', '20'));
const backends = arg('backends', 'wasm')!.split(',');
const tta = arg('tta') as TtaSpec | undefined;
const chromium = process.env.GZH_CHROMIUM ?? '/usr/bin/chromium';

interface PageResult {
  name: string;
  ok: boolean;
  error?: string;
  cumulative?: number[];
}
interface Api {
  backend?: string;
  results: PageResult[];
  error?: string;
}

/** The page's results for `files` on `backend`, in a fresh browser context. */
async function browserOutputs(
  browser: Browser,
  url: string,
  backend: string,
  files: string[],
): Promise<{ backend: string; rows: Map<string, number[]> }> {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    await page.goto(`${url}?backend=${backend}`, { waitUntil: 'load' });
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), {
      timeout: 300_000,
    });
    const input = (await page.waitForSelector('#files')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(...files);
    await page.waitForFunction(
      (k: number) => {
        const g = (window as unknown as { gzh: Api }).gzh;
        return ['done', 'error'].includes(document.body.dataset.state ?? '') && (g.results.length >= k || !!g.error);
      },
      { timeout: 600_000 },
      files.length,
    );
    const api = await page.evaluate(() => {
      const g = (window as unknown as { gzh: Api }).gzh;
      return {
        backend: g.backend,
        error: g.error,
        results: g.results.map((r) => ({ name: r.name, ok: r.ok, error: r.error, cumulative: r.cumulative })),
      };
    });
    if (api.error) throw new Error(`page (${backend}): ${api.error}`);
    const rows = new Map<string, number[]>();
    for (const r of api.results) {
      if (!r.ok || !r.cumulative) throw new Error(`page (${backend}): ${r.error ?? `${r.name}: no result`}`);
      rows.set(r.name, r.cumulative);
    }
    return { backend: api.backend ?? backend, rows };
  } finally {
    await context.close();
  }
}

/** |Δ| statistics of the page against Node, and each output's spread across the galaxies (Node side). */
function compare(node: Map<string, number[]>, page: Map<string, number[]>) {
  const names = [...node.keys()];
  const perOutput = KAGGLE_COLUMNS.map((column, i) => {
    const values = names.map((n) => node.get(n)![i]);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const deltas = names.map((n) => Math.abs(page.get(n)![i] - node.get(n)![i]));
    const range = Math.max(...values) - Math.min(...values);
    return {
      column,
      mean,
      sd,
      range,
      maxAbsDiff: Math.max(...deltas),
      meanAbsDiff: deltas.reduce((a, b) => a + b, 0) / deltas.length,
    };
  });
  for (const n of names) if (!page.has(n)) throw new Error(`page gave no result for ${n}`);
  const maxAbsDiff = Math.max(...perOutput.map((o) => o.maxAbsDiff));
  const meanAbsDiff = perOutput.reduce((a, o) => a + o.meanAbsDiff, 0) / perOutput.length;
  return { maxAbsDiff, meanAbsDiff, perOutput };
}

const f = (x: number, w = 8) => x.toFixed(4).padStart(w);
/** 5 decimals, or 3 significant digits below 1e-4 (a page that matches Node to float rounding). */
const g = (x: number) => (x !== 0 && x < 1e-4 ? x.toExponential(2) : x.toFixed(5));

async function main(): Promise<void> {
  if (!modelDir) throw new Error('--model <dir> is required (ensemble, run variant or model directory)');
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'gzh-bench-web-parity-'));
  const kaggle = dataPaths().kaggleImages;
  const files = readdirSync(kaggle)
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .slice(0, count)
    .map((n) => join(kaggle, n));
  const site = join(dir, 'site');
  await exportSite({ model: modelDir, out: site, ...(tta ? { tta } : {}) });
  // gzh predict's path, on the very model folder the page loads
  const predictor = await EnsemblePredictor.load(join(site, 'model'), { backend: 'cpu' });
  const recorded = predictor.preprocessings[0];
  const decoder = recorded.decoder;
  const other = decoder === 'sharp' ? 'tensorflow' : 'sharp';
  const node = new Map<string, number[]>();
  // the same model in Node with the other decoder: how far the decoder alone moves the answers
  const nodeOther = new Map<string, number[]>();
  try {
    for (const file of files) {
      const name = file.replace(/^.*\//, '');
      node.set(name, Array.from((await predictor.predict(file)).cumulative));
      if (predictor.preprocessings.length !== 1) continue;
      const pixels = (await preprocessFile(file, { ...recorded, decoder: other })).pixels;
      nodeOther.set(name, Array.from((await predictor.predictPixels([pixels], 1))[0].cumulative));
    }
  } finally {
    predictor.dispose();
  }
  const server = await serveSite(site, { port: 0 });
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
  const reports: Array<{
    backend: string;
    maxAbsDiff: number;
    meanAbsDiff: number;
    perOutput: ReturnType<typeof compare>['perOutput'];
  }> = [];
  const pageRows = new Map<string, Map<string, number[]>>();
  try {
    for (const backend of backends) {
      const page = await browserOutputs(browser, server.url, backend, files);
      reports.push({ backend: page.backend, ...compare(node, page.rows) });
      pageRows.set(page.backend, page.rows);
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `page vs gzh predict: ${modelDir}, ${files.length} Kaggle JPEGs, Node decoder '${decoder}', ${chromium}\n`,
  );
  if (nodeOther.size > 0) {
    const d = compare(node, nodeOther);
    const p = reports.map(
      (r) =>
        `${r.backend} page vs Node '${other}': max |Δ| ${g(compare(nodeOther, pageRows.get(r.backend)!).maxAbsDiff)}`,
    );
    process.stdout.write(
      `Node '${other}' decoder vs Node '${decoder}' (the model's): max |Δ| ${g(d.maxAbsDiff)}, mean |Δ| ` +
        `${g(d.meanAbsDiff)}; ${p.join('; ')}\n`,
    );
  }
  for (const r of reports) {
    const spread = r.perOutput.map((o) => o.sd).sort((a, b) => a - b);
    process.stdout.write(
      `\n${r.backend}: max |Δ| ${g(r.maxAbsDiff)}, mean |Δ| ${g(r.meanAbsDiff)}; ` +
        `spread across galaxies (sd): median ${spread[Math.floor(spread.length / 2)].toFixed(4)}, max ` +
        `${spread[spread.length - 1].toFixed(4)}\n`,
    );
    const columns = ['mean', 'sd', 'range', 'max|Δ|'].map((c) => c.padStart(8)).join('');
    process.stdout.write(`${'output'.padEnd(11)}${columns}${'mean|Δ|'.padStart(9)}  max|Δ|/sd\n`);
    for (const o of r.perOutput) {
      process.stdout.write(
        `${o.column.padEnd(11)}${f(o.mean)}${f(o.sd)}${f(o.range)}${f(o.maxAbsDiff)}${f(o.meanAbsDiff, 9)}  ` +
          `${o.sd > 0 ? (o.maxAbsDiff / o.sd).toFixed(3) : '–'}\n`,
      );
    }
  }
  const otherDecoder = nodeOther.size > 0 ? { decoder: other, ...compare(node, nodeOther) } : undefined;
  process.stdout.write(
    `GZH_BENCH ${JSON.stringify({ model: modelDir, images: files.length, decoder, reports, otherDecoder })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
