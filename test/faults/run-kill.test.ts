/**
 * `gzh run` killed (SIGKILL) at a seeded random point (mostly in training: the data phases are
 * cached by the reference run), then resumed with
 * `--resume latest`: the resumed run completes and its test figures equal an uninterrupted run's.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Exit, compiledCli, killDelays, spawnNode } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-faults-run-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function config(name: string): string {
  const file = join(work, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      seed: 3,
      data: {
        source: 'synthetic',
        synthetic: { count: 60, size: 32 },
        path: join(work, 'synthetic'),
        split: { validation: 0.2, test: 0.2 },
      },
      preprocess: { size: 24, centerCrop: 300, cacheDir: join(work, 'cache') },
      model: { kind: 'hierarchical' },
      training: { epochs: 3, batchSize: 8 },
      report: { answers: ['Class1.1'], examples: 1, scatterPoints: 5 },
    }),
  );
  return file;
}

const figures = (exit: Exit) => {
  const out = JSON.parse(exit.out) as {
    variants: Array<{ name: string; rmse: number; r2: number; perQuestion: unknown }>;
  };
  return out.variants.map((v) => ({ name: v.name, rmse: v.rmse, r2: v.r2, perQuestion: v.perQuestion }));
};

describe('gzh run: SIGKILL during training, then --resume', () => {
  it('the resumed run gives the uninterrupted figures', { timeout: 600_000 }, async () => {
    const cli = compiledCli(join(work, 'build'));
    const gzh = (args: string[]) => spawnNode(cli, ['-q', '--json', ...args]);
    const t0 = performance.now();
    const reference = await gzh(['run', config('reference'), '--out', join(work, 'runs-ref')]).done;
    const ms = performance.now() - t0;
    expect(reference.code, reference.err).toBe(0);

    const cfg = config('killed');
    const out = join(work, 'runs-killed');
    // the data phases are cached by the reference run, so most of the time is training
    const [delay] = killDelays(Number(process.env.GZH_FAULT_SEED ?? 0) + 53, 1, ms * 0.3, ms * 0.8);
    const killed = gzh(['run', cfg, '--out', out]);
    const timer = setTimeout(() => killed.child.kill('SIGKILL'), delay);
    const first = await killed.done;
    clearTimeout(timer);
    expect(first.signal, `the run ended before the kill point (${delay.toFixed(0)} ms): ${first.err}`).toBe('SIGKILL');
    // Killed before the run was recorded (while the process was still starting), there is nothing
    // to resume: the rerun starts it afresh. Otherwise it resumes the recorded run.
    const recorded = existsSync(out) && readdirSync(out).some((e) => statSync(join(out, e)).isDirectory());
    const resumed = await gzh(['run', cfg, '--out', out, ...(recorded ? ['--resume', 'latest'] : [])]).done;
    expect(resumed.code, resumed.err).toBe(0);
    expect(figures(resumed)).toEqual(figures(reference));
    expect(readFileSync(join(out, 'registry.sqlite')).length).toBeGreaterThan(0);
  });
});
