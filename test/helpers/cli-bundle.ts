import { buildSync } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
let built: string[] | undefined;

/**
 * The `gzh` CLI as child processes run it, from the current sources: bundled with esbuild (about
 * a second, unlike a full tsc build) into .cache/test-cli/ inside the package, beside the image
 * workers it starts (preprocessing's, ingest's JPEG checks and the synthetic generator's). Returns the
 * command (node and the script) to prefix to `gzh` arguments.
 */
export function testCli(): string[] {
  if (built) return built;
  const outdir = join(root, '.cache', 'test-cli');
  mkdirSync(outdir, { recursive: true });
  buildSync({
    entryPoints: [
      join(root, 'src', 'cli', 'main.ts'),
      join(root, 'src', 'data', 'images', 'worker.ts'),
      join(root, 'src', 'data', 'synthetic', 'image-worker.ts'),
      join(root, 'src', 'data', 'images', 'jpeg-check-worker.ts'),
    ],
    outdir,
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  built = [process.execPath, join(outdir, 'main.js')];
  return built;
}
