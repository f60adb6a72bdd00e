import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { generateSyntheticDataset } from '../../src/data/synthetic/writer.js';
import { transpileForNode } from '../train/helpers/transpile.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** A small seeded Kaggle-format data set (synthetic galaxies, 64 px): labels CSV + image folder. */
export async function tinyKaggle(dir: string, count = 30): Promise<{ labels: string; images: string }> {
  const set = await generateSyntheticDataset({ outDir: dir, count, seed: 11, size: 64 });
  return { labels: set.solutionsPath, images: set.imagesDir };
}

/**
 * The `gzh` CLI compiled (type-stripped) into `outDir`, runnable by a plain `node` child process,
 * with the image and JPEG-check workers beside it so preprocessing and ingest use worker threads
 * as the built package does.
 */
export function compiledCli(outDir: string): string {
  transpileForNode(join(ROOT, 'src/data/images/worker.ts'), ROOT, outDir);
  transpileForNode(join(ROOT, 'src/data/images/jpeg-check-worker.ts'), ROOT, outDir);
  return transpileForNode(join(ROOT, 'src/cli/main.ts'), ROOT, outDir);
}

export interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly out: string;
  readonly err: string;
}

export function spawnNode(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', GZH_THREADS: '1', ...env },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const done = new Promise<Exit>((res) => child.on('exit', (code, signal) => res({ code, signal, out, err })));
  return { child, done };
}

/** Every file under `dir` (hidden ones included) with its SHA-256, by relative path. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A deterministic pseudo-random delay in [min, max) ms for kill points (seeded, so a failure can be replayed). */
export function killDelays(seed: number, count: number, min: number, max: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return min + (s / 2 ** 32) * (max - min);
  });
}
