/**
 * `bench:scale` interrupted in every phase (ingest, both preprocessings, the training epoch,
 * prediction, evaluation), once by Ctrl-C (SIGINT to the process group) and once by SIGKILL, and
 * run again each time: after every interruption nothing partial is in place of a complete output
 * (the catalogue, the caches, the model and the predictions either verify or are absent), and the
 * run that finally completes gives the uninterrupted run's catalogue, predictions and metrics.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDirFor, readManifest, verifyCache } from '../../src/data/cache.js';
import { Catalogue, verifyCatalogue } from '../../src/data/catalogue.js';
import { generateSyntheticDataset } from '../../src/data/synthetic/writer.js';
import { resolveAtomicDir } from '../../src/util/atomic.js';
import { CENTRE, CONTOUR, PHASES, type PhaseName } from '../../bench/scale/phases.js';
import { transpileForNode } from '../train/helpers/transpile.js';
import { ROOT, killDelays } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-scale-'));
let script: string;
let data: string;
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  transpileForNode(join(ROOT, 'src/data/images/worker.ts'), ROOT, join(work, 'build'));
  script = transpileForNode(join(ROOT, 'bench/scale.ts'), ROOT, join(work, 'build'));
  data = (await generateSyntheticDataset({ outDir: join(work, 'data'), count: 32, seed: 11 })).outDir;
}, 180_000);

interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly err: string;
}

/**
 * One bench run of `phases` over the first 24 galaxies, in its own process group; `onLine` sees
 * its stderr lines.
 */
function bench(
  out: string,
  phases: readonly PhaseName[] = PHASES,
  onLine: (line: string, pid: number) => void = () => {},
): Promise<Exit> {
  const args = [
    '--phases',
    phases.join(','),
    '--data',
    data,
    '--count',
    '24',
    '--out',
    out,
    '--keep',
    '--workers',
    '1',
    '--batch-size',
    '8',
    '--checkpoint-batches',
    '1',
  ];
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', GZH_THREADS: '1' },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    err += text;
    for (const line of text.split('\n')) onLine(line, child.pid!);
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, err })));
}

/** Everything the pipeline produced that the run's result depends on. */
function results(out: string) {
  const catalogue = new Catalogue(join(out, 'catalogue.sqlite'));
  try {
    return {
      // the image links of the first 24 galaxies live under each run's own folder
      galaxies: catalogue.galaxies().map((g) => ({ ...g, imagePath: basename(g.imagePath ?? '') })),
      predictions: readFileSync(join(out, 'predictions.csv'), 'utf8'),
      evaluation: JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as unknown,
    };
  } finally {
    catalogue.close();
  }
}

/** Nothing partial stands where a complete output belongs: whatever is in place verifies. */
function expectNothingPartial(out: string, expectedPredictions: string): void {
  const catalogue = join(out, 'catalogue.sqlite');
  if (existsSync(catalogue)) expect(verifyCatalogue(catalogue)).toEqual({ ok: true });
  for (const params of [CONTOUR, CENTRE]) {
    const dir = resolveAtomicDir(cacheDirFor(join(out, 'cache'), params));
    const manifest = dir ? readManifest(dir) : null;
    if (dir && manifest) expect(() => verifyCache(dir, manifest)).not.toThrow();
  }
  const predictions = join(out, 'predictions.csv');
  if (existsSync(predictions)) expect(readFileSync(predictions, 'utf8')).toBe(expectedPredictions);
}

/** Files that writers left under temporary names, anywhere under `dir`. */
function temporaries(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry.includes('.tmp-')) found.push(path);
    else if (statSync(path).isDirectory()) found.push(...temporaries(path));
  }
  return found;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the run ended meanwhile
  }
}

const SEED = Number(process.env.GZH_FAULT_SEED ?? 0);

describe('bench:scale interrupted in every phase', () => {
  let reference: ReturnType<typeof results>;
  const phaseSeconds = new Map<PhaseName, number>();

  it('an uninterrupted run (the reference)', async () => {
    const out = join(work, 'reference');
    const exit = await bench(out);
    expect(exit.code, exit.err).toBe(0);
    reference = results(out);
    expect(reference.galaxies).toHaveLength(24);
    expect(reference.predictions.trim().split('\n')).toHaveLength(25);
    for (const phase of PHASES) {
      const report = JSON.parse(readFileSync(join(out, 'phases', `${phase}.json`), 'utf8')) as { seconds: number };
      phaseSeconds.set(phase, report.seconds);
    }
  }, 900_000);

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`${signal} in each phase, then a rerun: the rerun completes with the uninterrupted results`, async () => {
      const out = join(work, signal);
      const fractions = killDelays(SEED + (signal === 'SIGINT' ? 3 : 7), PHASES.length, 0.2, 0.8);
      for (const [i, phase] of PHASES.entries()) {
        const delay = fractions[i] * phaseSeconds.get(phase)! * 1000;
        let timer: NodeJS.Timeout | undefined;
        // the run stops after `phase`, so a signal that comes too late leaves the next phases to later rounds
        const exit = await bench(out, PHASES.slice(0, i + 1), (line, pid) => {
          if (line === `${phase}: started`) timer = setTimeout(() => signalGroup(pid, signal), delay);
        });
        clearTimeout(timer);
        if (exit.code === 0) continue; // the phase ended before the signal came
        // SIGINT: exit 130 when a phase was running; between phases nothing runs and node's default applies
        if (signal === 'SIGINT') expect(exit.code === 130 || exit.signal === 'SIGINT', exit.err).toBe(true);
        else expect(exit.signal).toBe('SIGKILL');
        expectNothingPartial(out, reference.predictions);
      }
      const last = await bench(out);
      expect(last.code, last.err).toBe(0);
      expect(results(out)).toEqual(reference);
      expect(temporaries(out)).toEqual([]);
    }, 900_000);
  }
});
