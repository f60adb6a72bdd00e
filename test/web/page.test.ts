/**
 * The exported site in a real headless Chromium: the page's 37 outputs on real galaxies match
 * `gzh predict` on the same exported model, a non-image file shows its error, nothing is fetched
 * from another origin, the page keeps working offline, the wasm fallback gives the same numbers,
 * and a screenshot with the tree drawn is written to .cache/test-artifacts/.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerPredict } from '../../src/cli/commands/predict.js';
import { writeEnsembleDir } from '../../src/ensemble/ensemble-dir.js';
import { readKaggleSolutions } from '../../src/ensemble/kaggle.js';
import { EnsemblePredictor } from '../../src/ensemble/predictor.js';
import { type PreprocessParams, preprocessFile, resolveParams } from '../../src/data/images/preprocess.js';
import { ANSWER_COUNT, toConditional } from '../../src/questions/index.js';
import { exportSite } from '../../src/web/export.js';
import { type RunningServer, serveSite } from '../../src/web/server.js';
import { saveTiny, tinyHierarchical } from '../ensemble/helpers.js';
import { captureOutput } from '../helpers/capture.js';
import { DATA, realDataAvailable } from '../helpers/data.js';
import { ARTIFACTS, chromiumAvailable, launchChromium } from './browser.js';

const chromium = chromiumAvailable();
const data = realDataAvailable(DATA.kaggleImages);
const skip = !chromium.available ? chromium.reason : !data.available ? data.reason : '';
/** Stated tolerance: the largest |page − gzh predict| over 20 galaxies × 37 answers. */
const TOLERANCE = 0.005;
const PREPROCESS: PreprocessParams = { mode: 'center', size: 64, channels: 3, centerCrop: 207 };

interface PageResult {
  name: string;
  ok: boolean;
  error?: string;
  cumulative?: number[];
  words?: string;
}

/** Mean conditional vote fractions of the Kaggle sample's first 1,000 galaxies. */
async function meanConditional(): Promise<Float64Array> {
  const labels = [...(await readKaggleSolutions(DATA.kaggleSolutions)).values()].slice(0, 1000);
  const mean = new Float64Array(ANSWER_COUNT);
  for (const v of labels) toConditional(v, { unreached: 'uniform' }).forEach((x, i) => (mean[i] += x / labels.length));
  return mean;
}

/**
 * Fixed weights that answer like volunteers on average: the heads' biases are the log of the mean
 * conditional fractions, so the most likely path is a realistic one and the image still moves it.
 */
function towardsVolunteers(model: tf.LayersModel, prior: Float64Array): void {
  const head = model.getLayer('head_logits');
  tf.tidy(() =>
    head.setWeights([head.getWeights()[0], tf.tensor1d(Array.from(prior, (p) => Math.log(Math.max(p, 1e-3))))]),
  );
}

describe.skipIf(skip !== '')(`the exported page in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let site: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let images: string[];
  const requests: string[] = [];
  let node: Map<string, number[]>;

  async function upload(p: Page, files: string[], expected: number): Promise<PageResult[]> {
    const input = (await p.waitForSelector('#files')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(...files);
    await p.waitForFunction(
      (n: number) => document.body.dataset.state === 'done' && window.gzh.results.length >= n,
      { timeout: 240_000 },
      expected,
    );
    return p.evaluate(() => window.gzh.results as unknown as PageResult[]);
  }

  /** The browser's preprocessed pixels against Node's (the decoder the model records), over all 20 images. */
  async function decoderDifference(results: PageResult[]) {
    const predictor = await EnsemblePredictor.load(join(site, 'model'), { backend: 'cpu' });
    const recorded = predictor.preprocessings[0];
    const sharp = resolveParams({ ...PREPROCESS, decoder: 'sharp' });
    const stats = () => ({ max: 0, sum: 0, differing: 0, total: 0 });
    const add = (s: ReturnType<typeof stats>, a: ArrayLike<number>, b: ArrayLike<number>) => {
      expect(a.length).toBe(b.length);
      for (let k = 0; k < a.length; k++) {
        const d = Math.abs(a[k] - b[k]);
        s.max = Math.max(s.max, d);
        s.sum += d;
        s.differing += d > 0 ? 1 : 0;
      }
      s.total += a.length;
    };
    const summary = (s: ReturnType<typeof stats>) => ({
      maxLevels: s.max,
      meanLevels: s.sum / s.total,
      fractionDiffering: s.differing / s.total,
    });
    const vsRecorded = stats();
    const vsSharp = stats();
    try {
      for (const [i, r] of results.entries()) {
        const browserPixels = (await page.evaluate((k: number) => window.gzh.pixels(k), i))!;
        const file = join(DATA.kaggleImages, r.name);
        add(vsRecorded, await predictor.preprocess(file), browserPixels);
        add(vsSharp, (await preprocessFile(file, sharp)).pixels, browserPixels);
      }
      return {
        [recorded.decoder]: summary(vsRecorded),
        ...(recorded.decoder !== 'sharp' ? { sharp: summary(vsSharp) } : {}),
      };
    } finally {
      predictor.dispose();
    }
  }

  async function open(query = ''): Promise<Page> {
    const p = await browser.newPage();
    p.on('request', (r) => requests.push(r.url()));
    p.on('pageerror', (e) => console.error('page error:', e));
    await p.setViewport({ width: 1240, height: 900 });
    await p.goto(`${server.url}${query}`, { waitUntil: 'load' });
    await p.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), { timeout: 120_000 });
    const state = await p.evaluate(() => ({ state: document.body.dataset.state, error: window.gzh.error }));
    expect(state, JSON.stringify(state)).toEqual({ state: 'ready', error: undefined });
    return p;
  }

  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'gzh-web-'));
    // a real saved ensemble: two tiny hierarchical models (fixed weights), 64 px RGB centre crop, 60 px input, D4 TTA
    const members = [];
    const prior = await meanConditional();
    for (const seed of [3, 4]) {
      const m = tinyHierarchical(seed, 60, 3);
      towardsVolunteers(m, prior);
      members.push(await saveTiny(m, join(dir, `member-${seed}`), 'hierarchical', PREPROCESS));
      m.dispose();
    }
    await writeEnsembleDir(join(dir, 'ensemble'), { members, tta: 'd4' });
    site = join(dir, 'site');
    await exportSite({ model: join(dir, 'ensemble'), out: site, title: 'test ensemble' });
    images = readdirSync(DATA.kaggleImages)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, 20)
      .map((f) => join(DATA.kaggleImages, f));
    // gzh predict on the site's own model folder
    const csv = join(dir, 'node.csv');
    const program = new Command().exitOverride().option('--backend <name>').option('--json').option('-q, --quiet');
    registerPredict(program);
    await captureOutput(() =>
      program.parseAsync([
        'node',
        'gzh',
        'predict',
        ...images,
        '--model',
        join(site, 'model'),
        '--csv',
        csv,
        '--backend',
        'cpu',
        '-q',
      ]),
    );
    node = new Map(
      readFileSync(csv, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => {
          const [id, ...v] = l.split(',');
          return [id, v.map(Number)];
        }),
    );
    server = await serveSite(site, { port: 0 });
    browser = await launchChromium();
    page = await open();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`gives gzh predict's 37 outputs on 20 real galaxies (max |Δ| ≤ ${TOLERANCE})`, async () => {
    expect(node.size).toBe(20);
    const results = await upload(page, images, 20);
    expect(results).toHaveLength(20);
    let max = 0;
    let sum = 0;
    for (const r of results) {
      expect(r.ok, r.error).toBe(true);
      const expected = node.get(r.name.replace(/\.jpg$/, ''))!;
      expect(r.cumulative).toHaveLength(ANSWER_COUNT);
      r.cumulative!.forEach((v, i) => {
        const d = Math.abs(v - expected[i]);
        max = Math.max(max, d);
        sum += d;
      });
    }
    const backend = await page.evaluate(() => window.gzh.backend);
    const pixels = await decoderDifference(results);
    mkdirSync(ARTIFACTS, { recursive: true });
    const report = {
      backend,
      images: 20,
      maxAbsDiff: max,
      meanAbsDiff: sum / (20 * ANSWER_COUNT),
      tolerance: TOLERANCE,
      pixels,
    };
    writeFileSync(join(ARTIFACTS, 'web-parity.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`page (${backend}) vs gzh predict on 20 galaxies: ${JSON.stringify(report)}`);
    expect(max).toBeLessThanOrEqual(TOLERANCE);
  });

  it('draws the tree for the selected galaxy, with the path in words, and writes a screenshot', async () => {
    const tree = await page.evaluate(() => ({
      questions: document.querySelectorAll('#detail svg.tree g.question').length,
      answers: document.querySelectorAll('#detail svg.tree g.answer').length,
      onPath: document.querySelectorAll('#detail svg.tree g.question.on-path').length,
      path: document.querySelector('#detail .path')?.textContent ?? '',
      uncertainty: document.querySelector('#detail .uncertainty')?.textContent ?? '',
      rows: document.querySelectorAll('#table tbody tr').length,
      canvases: document.querySelectorAll('#detail canvas').length,
    }));
    expect(tree.questions).toBe(11);
    expect(tree.answers).toBe(ANSWER_COUNT);
    expect(tree.onPath).toBeGreaterThanOrEqual(2);
    expect(tree.path).toMatch(/^(smooth|featured|star or artifact) \(/);
    expect(tree.uncertainty).toMatch(/2 member\(s\) × 8 view\(s\)/);
    expect(tree.rows).toBe(20);
    expect(tree.canvases).toBe(2);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'web-page.png');
    await page.screenshot({ path: file as `${string}.png`, fullPage: true });
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  });

  it('shows a clear message for a file that is not an image, and goes on with the others', async () => {
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'these are my observing notes, not an image\n');
    const results = await upload(page, [text, images[0]], 22);
    const bad = results.find((r) => r.name === 'notes.jpg')!;
    expect(bad.ok).toBe(false);
    const shown = await page.$eval('#errors', (e) => e.textContent ?? '');
    expect(shown).toContain('notes.jpg: not a JPEG or PNG image');
    expect(results.filter((r) => r.ok)).toHaveLength(21);
  });

  it('fetches nothing from another origin, and keeps classifying offline once loaded', async () => {
    await page.setOfflineMode(true);
    const results = await upload(page, [images[1]], 23);
    await page.setOfflineMode(false);
    expect(results.at(-1)!.ok).toBe(true);
    const origin = new URL(server.url).origin;
    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
  });

  it('reloads and classifies with the network gone, from the service worker’s copy of the site', async () => {
    // the worker has cached every file of the site once it is active
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.setOfflineMode(true);
    try {
      await page.reload({ waitUntil: 'load' });
      await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), {
        timeout: 120_000,
      });
      expect(await page.evaluate(() => window.gzh.error)).toBeUndefined();
      const results = await upload(page, [images[2]], 1);
      expect(results[0].ok).toBe(true);
    } finally {
      await page.setOfflineMode(false);
    }
  });

  it('gives the same numbers on the other backend (WebGL where the default is wasm, and the reverse)', async () => {
    const first = await page.evaluate(() => window.gzh.backend);
    const other = first === 'wasm' ? 'webgl' : 'wasm';
    const second = await open(`?backend=${other}`);
    expect(await second.evaluate(() => window.gzh.backend)).toBe(other);
    const results = await upload(second, images.slice(0, 3), 3);
    for (const r of results) {
      const expected = node.get(r.name.replace(/\.jpg$/, ''))!;
      expect(Math.max(...r.cumulative!.map((v, i) => Math.abs(v - expected[i])))).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(requests.some((u) => u.endsWith('.wasm'))).toBe(true);
    await second.close();
  });

  it(
    'answers exactly as gzh predict, to float rounding, for a model recorded with the sharp decoder (the browser ' +
      'decodes the same pixels)',
    async () => {
      const m = tinyHierarchical(5, 60, 3);
      towardsVolunteers(m, await meanConditional());
      const modelDir = await saveTiny(m, join(dir, 'sharp-model'), 'hierarchical', { ...PREPROCESS, decoder: 'sharp' });
      m.dispose();
      const sharpSite = join(dir, 'sharp-site');
      await exportSite({ model: modelDir, out: sharpSite, tta: 'd4' });
      const few = images.slice(0, 5);
      const csv = join(dir, 'sharp.csv');
      const program = new Command().exitOverride().option('--backend <name>').option('--json').option('-q, --quiet');
      registerPredict(program);
      await captureOutput(() =>
        program.parseAsync([
          'node',
          'gzh',
          'predict',
          ...few,
          '--model',
          join(sharpSite, 'model'),
          '--csv',
          csv,
          '--backend',
          'cpu',
          '-q',
        ]),
      );
      const expected = new Map(
        readFileSync(csv, 'utf8')
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => {
            const [id, ...v] = l.split(',');
            return [id, v.map(Number)];
          }),
      );
      const sharpServer = await serveSite(sharpSite, { port: 0 });
      try {
        const p = await browser.newPage();
        await p.goto(sharpServer.url, { waitUntil: 'load' });
        await p.waitForFunction(() => document.body.dataset.state === 'ready', { timeout: 120_000 });
        const results = await upload(p, few, 5);
        let max = 0;
        for (const r of results)
          r.cumulative!.forEach(
            (v, i) => (max = Math.max(max, Math.abs(v - expected.get(r.name.replace(/\.jpg$/, ''))![i]))),
          );
        console.log(`sharp-decoder model, page vs gzh predict on 5 galaxies: max |Δ| ${max.toExponential(2)}`);
        // the CSV rounds to 6 decimals; the rest is float32 summation order between backends
        expect(max).toBeLessThanOrEqual(2e-5);
        await p.close();
      } finally {
        await sharpServer.close();
      }
    },
  );

  it('loads the same files through the Node predictor (the site model folder is an ensemble directory)', async () => {
    const predictor = await EnsemblePredictor.load(join(site, 'model'), { backend: 'cpu' });
    expect(predictor.members).toHaveLength(2);
    expect(predictor.views).toHaveLength(8);
    predictor.dispose();
  });
});
