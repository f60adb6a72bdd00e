import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/runs.js';
import { writeSplitFile } from '../../src/experiments/split-file.js';
import { RunRegistry, currentGitCommit, processAlive, runDurationSeconds } from '../../src/experiments/registry.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'gzh-registry-')), 'registry.sqlite');

function newRun(registry: RunRegistry, name = 'demo', id?: string) {
  return registry.create({
    name,
    kind: 'compare',
    config: { name, seed: 7 },
    configHash: 'abc123',
    configPath: '/x/experiments/demo.json',
    seed: 7,
    gitCommit: 'deadbeef',
    outputDir: '/x/runs/demo',
    ...(id ? { id } : {}),
  });
}

/** A pid that certainly belonged to a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  const pid = Number(child.stdout.toString());
  expect(processAlive(pid)).toBe(false);
  return pid;
}

describe('RunRegistry', () => {
  it('records a run and its phases, metrics and artifacts', () => {
    const path = tmp();
    const registry = RunRegistry.open(path);
    const run = newRun(registry);
    expect(run).toMatchObject({
      name: 'demo',
      status: 'running',
      seed: 7,
      pid: process.pid,
      configHash: 'abc123',
      gitCommit: 'deadbeef',
    });
    expect(run.id).toMatch(/^\d{8}-\d{6}-demo-[0-9a-f]{4}$/);
    registry.recordPhase(run.id, 'train', 1.5);
    registry.recordPhase(run.id, 'train', 2);
    registry.recordPhase(run.id, 'evaluate', 0.25);
    registry.setMetrics(run.id, { variants: { flat: { r2: 0.5, rmse: 0.1 } } });
    registry.setMetrics(run.id, { extra: 1 });
    registry.addArtifacts(run.id, { report: '/x/report.html' });
    registry.updateState(run.id, { completedVariants: ['flat'] });
    registry.setBackend(run.id, 'tensorflow');
    registry.complete(run.id);
    registry.close();

    const again = RunRegistry.open(path);
    const stored = again.get(run.id);
    expect(stored.status).toBe('completed');
    expect(stored.phases).toEqual({ train: 3.5, evaluate: 0.25 });
    expect(stored.metrics).toEqual({ variants: { flat: { r2: 0.5, rmse: 0.1 } }, extra: 1 });
    expect(stored.artifacts).toEqual({ report: '/x/report.html' });
    expect(stored.state).toEqual({ completedVariants: ['flat'] });
    expect(stored.backend).toBe('tensorflow');
    expect(stored.config).toEqual({ name: 'demo', seed: 7 });
    expect(stored.finishedAt).not.toBeNull();
    expect(runDurationSeconds(stored)).toBeGreaterThanOrEqual(0);
    again.close();
  });

  it('lists newest first, filters, and finds runs by prefix or "latest"', () => {
    const registry = RunRegistry.open(tmp());
    const a = registry.create(
      { name: 'a', kind: 'run', config: {}, configHash: 'h', seed: 1, id: 'r-a' },
      new Date('2024-01-01T00:00:00Z'),
    );
    const b = registry.create(
      { name: 'b', kind: 'run', config: {}, configHash: 'h', seed: 1, id: 'r-b' },
      new Date('2024-01-02T00:00:00Z'),
    );
    registry.fail(a.id, new Error('boom'));
    expect(registry.list().map((r) => r.id)).toEqual(['r-b', 'r-a']);
    expect(registry.list({ status: 'failed' }).map((r) => r.id)).toEqual(['r-a']);
    expect(registry.list({ name: 'b' }).map((r) => r.id)).toEqual(['r-b']);
    expect(registry.list({ limit: 1 })).toHaveLength(1);
    expect(registry.get('latest').id).toBe(b.id);
    expect(registry.get('r-a').error).toContain('boom');
    expect(() => registry.get('r-')).toThrow(/uniquely/);
    expect(() => registry.get('zzz')).toThrow(/no run matches "zzz"/);
    registry.close();
  });

  it('shows a run left running by a dead process as interrupted, and resumes it', () => {
    const path = tmp();
    const registry = RunRegistry.open(path);
    const run = newRun(registry);
    registry.recordPhase(run.id, 'ingest', 2);
    // Simulate a process that died mid-run.
    const db = new Database(path);
    db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(deadPid(), run.id);
    db.close();
    const seen = registry.get(run.id);
    expect(seen.status).toBe('interrupted');
    expect(seen.error).toMatch(/ended without finishing/);
    expect(runDurationSeconds(seen)).toBe(2);
    const resumed = registry.resume(run.id);
    expect(resumed).toMatchObject({ status: 'running', pid: process.pid, error: null });
    expect(() => registry.resume(run.id)).toThrow(/still running/);
    registry.complete(run.id);
    expect(() => registry.resume(run.id)).toThrow(/already completed/);
    registry.close();
  });

  it('keeps a run of a live process running and records deliberate interruptions', () => {
    const registry = RunRegistry.open(tmp());
    const run = newRun(registry);
    expect(registry.refreshStale()).toBe(0);
    registry.markInterrupted(run.id, 'SIGINT');
    expect(registry.get(run.id)).toMatchObject({ status: 'interrupted', error: 'SIGINT' });
    registry.close();
  });

  it('reads the git commit of this checkout', () => {
    expect(currentGitCommit(process.cwd())).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    expect(currentGitCommit(tmpdir())).toBeNull();
  });
});

describe('gzh runs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function cli(args: string[]): Promise<string> {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const program = new Command().exitOverride().option('--json').option('-q, --quiet');
    register(program);
    await program.parseAsync(['node', 'gzh', ...args]);
    vi.restoreAllMocks();
    return out;
  }

  it('lists runs as a table and as JSON, and shows one', async () => {
    const path = tmp();
    const registry = RunRegistry.open(path);
    const run = newRun(registry, 'demo', 'run-1');
    registry.recordPhase(run.id, 'train', 65);
    registry.setMetrics(run.id, {
      variants: { flat: { label: 'Flat', r2: 0.71234, rmse: 0.1 }, hierarchical: { r2: 0.75, rmse: 0.09 } },
    });
    registry.addArtifacts(run.id, { 'report.html': '/x/report.html' });
    registry.complete(run.id);
    newRun(registry, 'other', 'run-2');
    registry.close();

    const table = await cli(['runs', '--registry', path]);
    expect(table).toMatch(/^id\s+name\s+kind\s+status/);
    expect(table).toContain('run-1');
    expect(table).toContain('flat R²=0.712, hierarchical R²=0.750');

    const json = JSON.parse(await cli(['--json', 'runs', '--registry', path, '--status', 'completed'])) as Array<{
      id: string;
    }>;
    expect(json.map((r) => r.id)).toEqual(['run-1']);

    const shown = await cli(['runs', 'show', 'run-1', '--registry', path]);
    expect(shown).toContain('config hash  abc123');
    expect(shown).toMatch(/train\s+65\.0\s+1m05s/);
    expect(shown).toMatch(/flat\s+Flat\s+0\.1000\s+0\.7123/);
    expect(shown).toContain('report.html  /x/report.html');

    const shownJson = JSON.parse(await cli(['runs', 'show', 'run-1', '--registry', path, '--json'])) as {
      phases: object;
    };
    expect(shownJson.phases).toEqual({ train: 65 });

    const missing = await cli(['runs', 'show', 'nope', '--registry', path]);
    expect(missing).toContain('no run matches "nope"');
    expect(process.exitCode).toBe(2);

    const nowhere = join(dirname(path), 'no-such-dir', 'registry.sqlite');
    await expect(cli(['runs', '--registry', nowhere])).rejects.toThrow(`${nowhere}: no run registry here`);
    expect(existsSync(dirname(nowhere))).toBe(false);
  });

  it('gives an interrupted run a resume command with its output folder, registry and data', async () => {
    const path = tmp();
    const registry = RunRegistry.open(path);
    const run = newRun(registry, 'demo', 'run-3');
    const runDir = join(dirname(path), 'my runs', 'run-3');
    mkdirSync(runDir, { recursive: true });
    registry.setOutputDir(run.id, runDir);
    const split = writeSplitFile(runDir, {
      data: '/data/full kaggle',
      catalogue: '/c.sqlite',
      seed: 7,
      ids: { train: ['1'], validation: [], test: ['2'] },
    });
    registry.addArtifacts(run.id, { 'split.json': split });
    registry.markInterrupted(run.id, 'SIGINT');
    registry.close();
    const shown = await cli(['runs', 'show', 'run-3', '--registry', path]);
    expect(shown).toContain('data         /data/full kaggle');
    expect(shown).toContain(
      `resume with: gzh compare /x/experiments/demo.json --resume run-3 --out '${dirname(runDir)}' --registry ` +
        `${path} --data-path '/data/full kaggle'`,
    );
  });
});
