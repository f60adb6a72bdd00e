import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register as registerCompare } from '../../src/cli/commands/compare.js';
import { register as registerRun } from '../../src/cli/commands/run.js';

async function cli(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  const program = new Command()
    .exitOverride()
    .option('--backend <name>')
    .option('--data-dir <dir>')
    .option('--json')
    .option('-q, --quiet');
  registerRun(program);
  registerCompare(program);
  process.exitCode = undefined;
  await program.parseAsync(['node', 'gzh', ...args]);
  vi.restoreAllMocks();
  const code = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { out, err, code };
}

describe('gzh run / compare usage', () => {
  afterEach(() => vi.restoreAllMocks());
  const dir = mkdtempSync(join(tmpdir(), 'gzh-cli-'));

  it('exits 2 with field-naming messages for an invalid config', async () => {
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({
        name: 'bad',
        data: { source: 'kagle' },
        preprocess: { size: 32 },
        model: { kind: 'flat' },
        training: { epochs: 1 },
      }),
    );
    const { err, code } = await cli(['run', join(dir, 'bad.json'), '--out', dir]);
    expect(code).toBe(2);
    expect(err).toContain('data.source: "kagle" is not allowed; allowed values: "synthetic", "kaggle", "gz2"');
  });

  it('exits 2 when compare gets a config with one variant, or an unknown backend', async () => {
    const one = {
      name: 'one',
      data: { source: 'kaggle' },
      preprocess: { size: 32 },
      model: { kind: 'flat' },
      training: { epochs: 1 },
    };
    writeFileSync(join(dir, 'one.json'), JSON.stringify(one));
    const compare = await cli(['compare', join(dir, 'one.json'), '--out', dir]);
    expect(compare.code).toBe(2);
    expect(compare.err).toContain('compare needs at least 2');
    const backend = await cli(['--backend', 'gpu', 'run', join(dir, 'one.json'), '--out', dir]);
    expect(backend.code).toBe(2);
    expect(backend.err).toContain("unknown backend 'gpu' (expected tensorflow | wasm | cpu | auto)");
  });

  it(
    'exits 2 without recording a run when data.path does not exist, and 1 when the run itself fails (no labels ' +
      'in it)',
    async () => {
      const one = {
        name: 'nodata',
        data: { source: 'kaggle', path: join(dir, 'missing') },
        preprocess: { size: 32 },
        model: { kind: 'flat' },
        training: { epochs: 1 },
      };
      writeFileSync(join(dir, 'nodata.json'), JSON.stringify(one));
      const out = join(dir, 'nodata-runs');
      const missing = await cli(['--backend', 'cpu', '-q', 'run', join(dir, 'nodata.json'), '--out', out]);
      expect(missing.code).toBe(2);
      expect(missing.err).toContain(`data folder not found: ${join(dir, 'missing')}`);
      expect(existsSync(out)).toBe(false);
      mkdirSync(join(dir, 'missing'));
      const { err, code } = await cli(['--backend', 'cpu', '-q', 'run', join(dir, 'nodata.json'), '--out', out]);
      expect(code).toBe(1);
      expect(err).toContain('run failed: Kaggle labels not found');
    },
  );

  it('documents options and exit codes in --help', () => {
    const program = new Command();
    registerRun(program);
    const help = program.commands.find((c) => c.name() === 'run')!.helpInformation();
    for (const text of [
      '--resume <id>',
      '--variant <names...>',
      '--data-path <dir>',
      '--out <dir>',
      '--registry <file>',
    ])
      expect(help).toContain(text);
  });

  it('--plan prints the units, their dependencies and budgets, and runs nothing', async () => {
    const cfg = {
      name: 'planned',
      data: { source: 'kaggle', path: join(dir, 'missing') },
      preprocess: { size: 32 },
      model: { kind: 'flat' },
      training: { epochs: 4 },
      variants: [{ name: 'f' }, { name: 'h', model: { kind: 'hierarchical' }, ensemble: { size: 2 } }],
    };
    writeFileSync(join(dir, 'planned.json'), JSON.stringify(cfg));
    const { out, code } = await cli([
      'compare',
      join(dir, 'planned.json'),
      '--out',
      join(dir, 'planned-runs'),
      '--plan',
    ]);
    expect(code).toBe(0);
    expect(
      out
        .split('\n')
        .map((l) => l.split(/\s+/)[1])
        .filter(Boolean),
    ).toEqual(['prepare', 'train:f:0', 'score:f', 'train:h:0', 'train:h:1', 'score:h', 'report']);
    expect(out).toMatch(/score:h +← train:h:0, train:h:1/);
    expect(out).toContain('4 epochs');
  });

  it('documents --plan and the executor options in --help', () => {
    const program = new Command();
    registerRun(program);
    const help = program.commands.find((c) => c.name() === 'run')!.helpInformation();
    for (const text of [
      '--plan',
      '--executor <name>',
      '--jobs <n>',
      '--partition <name>',
      '--account <name>',
      '--time <limit>',
      '--cpus-per-task <n>',
      '--mem <size>',
      '--sbatch <line>',
    ])
      expect(help).toContain(text);
  });
});
