/**
 * `gzh export-web`: a self-contained static site that classifies galaxy images in the browser.
 *
 *   index.html, style.css   the page (CSP: nothing is fetched from or sent to another origin)
 *   app.js                  the page bundled by esbuild with the shared predictor code
 *   sw.js                   a service worker keeping every file for offline use
 *   wasm/*.wasm             TensorFlow.js's WebAssembly backend (used where WebGL is missing)
 *   model/ensemble.json     the ensemble (members, weights, TTA, convention, Q6 reach): a valid
 *   model/m<i>/             ensemble directory, which `gzh predict --model <site>/model` reads too
 *
 * The site is written atomically: an interrupted export leaves the previous one intact.
 */
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import {
  ENSEMBLE_FILE,
  ENSEMBLE_FORMAT,
  ENSEMBLE_FORMAT_VERSION,
  type EnsembleFile,
  readEnsembleDir,
} from '../ensemble/ensemble-dir.js';
import type { TtaSpec } from '../ensemble/tta.js';
import { MANIFEST_FILE } from '../models/manifest.js';
import { MODEL_JSON } from '../models/io.js';
import { writeDirAtomic } from '../util/atomic.js';
import { bundlePage } from './bundle.js';
import { STYLE_CSS, indexHtml, serviceWorker } from './site-files.js';

export interface ExportOptions {
  /** Ensemble directory, run variant, single model directory or folder of model directories. */
  readonly model: string;
  readonly out: string;
  /** TTA overriding the ensemble's. */
  readonly tta?: TtaSpec;
  /** Shown in the page title (default: the model folder's name). */
  readonly title?: string;
}

export interface ExportSummary {
  readonly out: string;
  readonly members: number;
  readonly files: readonly string[];
  readonly bytes: number;
  /**
   * The JPEG decoder each member records. Browsers decode like `sharp` (libjpeg-turbo, accurate
   * IDCT, fancy upsampling); a member trained on `tensorflow`-decoded pixels sees slightly other
   * pixels in the page, which moved a trained model's answers by up to about 0.05 (README).
   */
  readonly decoders: readonly string[];
}

/** The decoder a saved model's manifest records for its inputs ('unrecorded' when it says none). */
async function recordedDecoder(modelDir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(modelDir, MANIFEST_FILE), 'utf8')) as {
    preprocessing?: { decoder?: unknown };
  };
  const decoder = manifest.preprocessing?.decoder;
  return typeof decoder === 'string' ? decoder : 'unrecorded';
}

/** The model.json and every weights file it names, copied into `to`. */
async function copyModel(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  const modelJson = JSON.parse(await readFile(join(from, MODEL_JSON), 'utf8')) as {
    weightsManifest?: Array<{ paths: string[] }>;
  };
  const files = [MODEL_JSON, MANIFEST_FILE, ...(modelJson.weightsManifest ?? []).flatMap((g) => g.paths)];
  for (const file of files) {
    const target = join(to, file);
    if (relative(to, target).startsWith('..'))
      throw new Error(`${join(from, MODEL_JSON)}: weights path ${file} leaves the model folder`);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(from, file), target);
  }
}

async function copyWasm(to: string): Promise<void> {
  const dist = join(
    dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')),
    'dist',
  );
  await mkdir(to, { recursive: true });
  const wasm = (await readdir(dist)).filter((f) => f.endsWith('.wasm'));
  if (wasm.length === 0)
    throw new Error(`${dist}: no TensorFlow.js .wasm files (reinstall @tensorflow/tfjs-backend-wasm)`);
  for (const f of wasm) await copyFile(join(dist, f), join(to, f));
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, path)));
    else out.push(relative(root, path).split('\\').join('/'));
  }
  return out.sort();
}

export async function exportSite(options: ExportOptions): Promise<ExportSummary> {
  const description = await readEnsembleDir(options.model);
  const bundle = await bundlePage();
  const title = options.title ?? basename(options.model.replace(/[\\/]+$/, ''));
  let files: string[] = [];
  let bytes = 0;
  await writeDirAtomic(options.out, async (tmp) => {
    const ensemble: EnsembleFile = {
      format: ENSEMBLE_FORMAT,
      formatVersion: ENSEMBLE_FORMAT_VERSION,
      members: description.members.map((m, i) => ({ dir: `m${i}`, weight: m.weight })),
      tta: options.tta ?? description.tta,
      convention: description.convention,
      q6Reach: description.q6Reach,
      description: `exported from ${description.source}`,
    };
    for (const [i, m] of description.members.entries()) await copyModel(m.dir, join(tmp, 'model', `m${i}`));
    await writeFile(join(tmp, 'model', ENSEMBLE_FILE), `${JSON.stringify(ensemble, null, 2)}\n`);
    await copyWasm(join(tmp, 'wasm'));
    await writeFile(join(tmp, 'app.js'), bundle.code);
    await writeFile(join(tmp, 'index.html'), indexHtml(title));
    await writeFile(join(tmp, 'style.css'), STYLE_CSS);
    const cached = await listFiles(tmp);
    const version = `${Date.now().toString(36)}`;
    await writeFile(join(tmp, 'sw.js'), serviceWorker(cached, version));
    files = await listFiles(tmp);
    for (const f of files) bytes += (await readFile(join(tmp, f))).length;
  });
  const decoders = await Promise.all(description.members.map((m) => recordedDecoder(m.dir)));
  return { out: options.out, members: description.members.length, files, bytes, decoders };
}
