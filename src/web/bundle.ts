/**
 * The page's JavaScript: src/web/page/main (and through it the shared src/ensemble, src/questions
 * and preprocessing modules, and TensorFlow.js) bundled for the browser by esbuild. Run from the
 * sources (tests) or the built package alike: the entry sits next to this module.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface Bundle {
  readonly code: Uint8Array;
  /** Source files that went in (relative to the working directory), for checks. */
  readonly inputs: readonly string[];
}

export function pageEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./page/main${extname(here)}`, import.meta.url));
}

export async function bundlePage(options: { minify?: boolean } = {}): Promise<Bundle> {
  const result = await build({
    entryPoints: [pageEntry()],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: options.minify ?? true,
    legalComments: 'none',
    write: false,
    metafile: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no bundle');
  return { code: file.contents, inputs: Object.keys(result.metafile.inputs) };
}
