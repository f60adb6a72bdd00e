import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerExportWeb } from '../../src/cli/commands/export-web.js';
import { EnsemblePredictor } from '../../src/ensemble/predictor.js';
import { bundlePage } from '../../src/web/bundle.js';
import { exportSite } from '../../src/web/export.js';
import { saveTiny, tinyHierarchical, writeJpegs } from '../ensemble/helpers.js';
import { captureOutput } from '../helpers/capture.js';

let dir: string;
let model: string;
let site: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-export-'));
  const m = tinyHierarchical(11);
  model = await saveTiny(m, join(dir, 'model'), 'hierarchical');
  m.dispose();
  site = join(dir, 'site');
  await exportSite({ model, out: site, tta: 'd4' });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gzh export-web', () => {
  it('writes the page, the bundle, the wasm files, a service worker and the model as an ensemble directory', () => {
    for (const f of [
      'index.html',
      'style.css',
      'app.js',
      'sw.js',
      'model/ensemble.json',
      'model/m0/model.json',
      'model/m0/weights.bin',
      'model/m0/manifest.json',
    ]) {
      expect(existsSync(join(site, f)), f).toBe(true);
    }
    expect(readdirSync(join(site, 'wasm')).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1);
    const html = readFileSync(join(site, 'index.html'), 'utf8');
    expect(html).toContain("default-src 'self'");
    expect(html).toContain("connect-src 'self'");
    const sw = readFileSync(join(site, 'sw.js'), 'utf8');
    for (const f of ['app.js', 'model/m0/weights.bin', 'wasm/tfjs-backend-wasm.wasm']) expect(sw).toContain(`"${f}"`);
    expect(JSON.parse(readFileSync(join(site, 'model', 'ensemble.json'), 'utf8'))).toMatchObject({
      format: 'gzh-ensemble',
      members: [{ dir: 'm0', weight: 1 }],
      tta: 'd4',
    });
  });

  it('bundles the shared src modules themselves, and nothing Node-only', async () => {
    const bundle = await bundlePage({ minify: false });
    for (const shared of [
      'src/ensemble/core.ts',
      'src/ensemble/tta.ts',
      'src/data/images/pixels.ts',
      'src/questions/tree.ts',
      'src/models/decision-tree-layer.ts',
    ]) {
      expect(bundle.inputs).toContain(shared);
    }
    for (const nodeOnly of ['src/ensemble/predictor.ts', 'src/data/images/preprocess.ts', 'src/models/io.ts'])
      expect(bundle.inputs).not.toContain(nodeOnly);
    // Node built-ins reached only by third-party code behind a browser field are stubbed out ("(disabled):fs")
    expect(bundle.inputs.filter((i) => i.startsWith('node:') || /^(fs|path|crypto|worker_threads)$/.test(i))).toEqual(
      [],
    );
    expect(new TextDecoder().decode(bundle.code)).not.toMatch(/(from|import)\s*\(?["']node:/);
  });

  it('gives the Node predictor the same answers from the site as from the original model', async () => {
    const images = await writeJpegs(join(dir, 'images'), 3, 48, 5);
    const a = await EnsemblePredictor.load(model, { tta: 'd4', backend: 'cpu' });
    const b = await EnsemblePredictor.load(join(site, 'model'), { backend: 'cpu' });
    const [pa, pb] = [await a.predictMany(images), await b.predictMany(images)];
    a.dispose();
    b.dispose();
    pa.forEach((o, i) => {
      expect(o.ok && pb[i].ok).toBe(true);
      if (o.ok && pb[i].ok)
        expect(Array.from(pb[i].prediction.cumulative)).toEqual(Array.from(o.prediction.cumulative));
    });
  });

  it('leaves the previous site intact when an export fails, and the CLI names the problem', async () => {
    const before = readFileSync(join(site, 'app.js'));
    const program = new Command().exitOverride().option('--json').option('-q, --quiet');
    registerExportWeb(program);
    const missing = join(dir, 'no-such-model');
    await expect(
      captureOutput(() => program.parseAsync(['node', 'gzh', 'export-web', '--model', missing, '--out', site])),
    ).rejects.toThrow(/no-such-model/);
    expect(readFileSync(join(site, 'app.js')).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('site') && f !== 'site')).toEqual([]);
  });

  it('reports what it wrote as JSON', async () => {
    const program = new Command().exitOverride().option('--json').option('-q, --quiet');
    registerExportWeb(program);
    const out = join(dir, 'site2');
    const { stdout, stderr } = await captureOutput(() =>
      program.parseAsync(['node', 'gzh', 'export-web', '--model', model, '--out', out, '--json']),
    );
    const summary = JSON.parse(stdout) as { files: string[]; members: number; bytes: number; decoders: string[] };
    expect(summary.members).toBe(1);
    // a model whose inputs were not decoded like the browser's is exported with a warning saying so
    expect(summary.decoders).toHaveLength(1);
    if (summary.decoders[0] === 'sharp') expect(stderr).toBe('');
    else expect(stderr).toMatch(new RegExp(`decoded with ${summary.decoders[0]}; browsers decode JPEGs like sharp`));
    expect(summary.files).toContain('index.html');
    expect(summary.bytes).toBeGreaterThan(1e6);
  });
});
