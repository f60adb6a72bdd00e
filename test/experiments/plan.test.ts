import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register as registerRuns } from '../../src/cli/commands/runs.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { buildPlan, formatPlan } from '../../src/experiments/plan.js';
import { RunRegistry } from '../../src/experiments/registry.js';
import { readRunFile, runFileOf, writeRunFile } from '../../src/experiments/session.js';
import { unitDone, writeUnitStatus } from '../../src/experiments/unit-status.js';

function experiment(variants: unknown[], extra: Record<string, unknown> = {}) {
  return parseExperimentConfig({
    name: 'plan',
    seed: 9,
    data: { source: 'kaggle', path: '/data' },
    preprocess: { size: 32 },
    model: { kind: 'hierarchical' },
    training: { epochs: 3, maxMinutes: 2 },
    variants,
    ...extra,
  });
}

describe('the plan of a run', () => {
  it('has one train unit per model, a score unit per variant and a report, each after what it reads', () => {
    const exp = experiment([
      { name: 'flat', model: { kind: 'flat' } },
      { name: 'ens', ensemble: { size: 3, tta: 'd4' } },
    ]);
    const plan = buildPlan(exp, exp.variants);
    expect(plan.units.map((u) => u.id)).toEqual([
      'prepare',
      'train:flat:0',
      'score:flat',
      'train:ens:0',
      'train:ens:1',
      'train:ens:2',
      'score:ens',
      'report',
    ]);
    const deps = Object.fromEntries(plan.units.map((u) => [u.id, u.deps]));
    expect(deps['score:ens']).toEqual(['train:ens:0', 'train:ens:1', 'train:ens:2']);
    expect(deps.report).toEqual(['score:flat', 'score:ens']);
    // every dependency comes earlier in the plan
    plan.units.forEach((u, i) =>
      u.deps.forEach((d) => expect(plan.units.findIndex((x) => x.id === d)).toBeLessThan(i)),
    );
    expect(formatPlan(plan)).toMatch(/train:ens:2 +← prepare {2}\[3 epochs, ≤ 2 min per model/);
  });

  it('trains a member once when an earlier variant has the same recipe and seed', () => {
    const exp = experiment([{ name: 'single' }, { name: 'ens', ensemble: { size: 2, tta: 'flip' } }]);
    const plan = buildPlan(exp, exp.variants);
    expect(plan.units.filter((u) => u.kind === 'train').map((u) => u.id)).toEqual(['train:single:0', 'train:ens:1']);
    expect(plan.members.get('ens')!.map((m) => m.unit)).toEqual(['train:single:0', 'train:ens:1']);
    expect(formatPlan(plan)).toContain('ens member 1 is train:single:0');
  });

  it(
    'gives a variant with its own epochs or training fraction its own train unit and budget, and the same ' +
      'prepare unit',
    () => {
      const exp = experiment([
        { name: 'all' },
        { name: 'quarter', data: { trainFraction: 0.25 } },
        { name: 'short', training: { epochs: 1 } },
      ]);
      const plan = buildPlan(exp, exp.variants);
      const unit = (id: string) => plan.units.find((u) => u.id === id)!;
      expect(plan.units.filter((u) => u.kind === 'train').map((u) => u.id)).toEqual([
        'train:all:0',
        'train:quarter:0',
        'train:short:0',
      ]);
      expect(new Set(['train:all:0', 'train:quarter:0', 'train:short:0'].map((id) => unit(id).inputsHash)).size).toBe(
        3,
      );
      expect(unit('train:quarter:0').budget).toBe(
        '3 epochs, ≤ 2 min per model, batch 32, adam lr 0.001 (constant), 25% of the training split',
      );
      expect(unit('train:short:0').budget).toBe('1 epochs, ≤ 2 min per model, batch 32, adam lr 0.001 (constant)');
      // the split and caches are the same whatever each variant trains on
      const single = experiment([{ name: 'all' }]);
      expect(unit('prepare').inputsHash).toBe(buildPlan(single, single.variants).units[0].inputsHash);
    },
  );

  it("a unit's inputs hash changes with what it depends on, and only with that", () => {
    const base = buildPlan(
      experiment([{ name: 'a' }, { name: 'b', optimizer: { learningRate: 0.01 } }]),
      experiment([{ name: 'a' }, { name: 'b', optimizer: { learningRate: 0.01 } }]).variants,
    );
    fc.assert(
      fc.property(
        fc.double({ min: 1e-5, max: 0.5, noNaN: true }).filter((lr) => lr !== 0.01),
        (lr) => {
          const exp = experiment([{ name: 'a' }, { name: 'b', optimizer: { learningRate: lr } }]);
          const plan = buildPlan(exp, exp.variants);
          const hash = (p: typeof plan, id: string) => p.units.find((u) => u.id === id)!.inputsHash;
          expect(hash(plan, 'train:a:0')).toBe(hash(base, 'train:a:0'));
          expect(hash(plan, 'score:a')).toBe(hash(base, 'score:a'));
          expect(hash(plan, 'train:b:0')).not.toBe(hash(base, 'train:b:0'));
          expect(hash(plan, 'score:b')).not.toBe(hash(base, 'score:b'));
          expect(hash(plan, 'report')).not.toBe(hash(base, 'report'));
        },
      ),
      { numRuns: 20 },
    );
    // where a run executes is not one of its inputs
    const slurm = experiment([{ name: 'a' }, { name: 'b', optimizer: { learningRate: 0.01 } }], {
      slurm: { partition: 'gpu', time: '1:00:00' },
    });
    expect(buildPlan(slurm, slurm.variants).units.map((u) => u.inputsHash)).toEqual(
      base.units.map((u) => u.inputsHash),
    );
  });

  it("a unit is done only with its outputs present and its recorded inputs hash equal to the plan's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-plan-'));
    const exp = experiment([{ name: 'a' }]);
    const unit = buildPlan(exp, exp.variants).units.find((u) => u.id === 'train:a:0')!;
    expect(unitDone(dir, unit)).toBe(false);
    await writeUnitStatus(dir, { id: unit.id, state: 'done', inputsHash: unit.inputsHash });
    expect(unitDone(dir, unit)).toBe(false); // outputs missing
    for (const o of unit.outputs) {
      mkdirSync(join(dir, o, '..'), { recursive: true });
      writeFileSync(join(dir, o), '{}');
    }
    expect(unitDone(dir, unit)).toBe(true);
    await writeUnitStatus(dir, { id: unit.id, state: 'done', inputsHash: 'other' });
    expect(unitDone(dir, unit)).toBe(false);
    await writeUnitStatus(dir, { id: unit.id, state: 'failed', inputsHash: unit.inputsHash, message: 'boom' });
    expect(unitDone(dir, unit)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('run.json rebuilds the identical experiment in another process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-plan-'));
    const exp = experiment([{ name: 'a' }, { name: 'b', model: { kind: 'flat' } }]);
    await writeRunFile(dir, runFileOf(exp, { runId: 'r1', kind: 'run', gitCommit: null, variants: ['b'] }));
    const back = readRunFile(dir);
    expect(back.experiment.hash).toBe(exp.hash);
    expect(back.run.variants).toEqual(['b']);
    writeFileSync(join(dir, 'run.json'), '{"broken"');
    expect(() => readRunFile(dir)).toThrow(/run\.json/);
  });
});

describe('gzh runs show: units', () => {
  afterEach(() => vi.restoreAllMocks());

  it("lists queued, running, done and failed units with each failure's message", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-units-'));
    const registry = RunRegistry.open(join(dir, 'registry.sqlite'));
    const run = registry.create({
      name: 'u',
      kind: 'run',
      config: {},
      configHash: 'h',
      seed: 1,
      gitCommit: null,
      outputDir: join(dir, 'run'),
    });
    registry.close();
    await writeUnitStatus(join(dir, 'run'), { id: 'prepare', state: 'done', inputsHash: 'x', seconds: 3 });
    await writeUnitStatus(join(dir, 'run'), {
      id: 'train:a:0',
      state: 'failed',
      inputsHash: 'x',
      message: 'no exit status from Slurm job 7_0: cancelled',
      where: 'slurm 7_0',
    });
    await writeUnitStatus(join(dir, 'run'), { id: 'train:a:1', state: 'running', inputsHash: 'x', where: 'slurm 7_1' });
    await writeUnitStatus(join(dir, 'run'), { id: 'score:a', state: 'queued', inputsHash: 'x' });
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    const program = new Command().exitOverride().option('--json').option('-q, --quiet');
    registerRuns(program);
    await program.parseAsync(['node', 'gzh', 'runs', 'show', run.id, '--registry', join(dir, 'registry.sqlite')]);
    expect(out).toContain('units: 1 queued, 1 running, 1 done, 1 failed');
    expect(out).toMatch(/train:a:1 +running +slurm 7_1/);
    expect(out).toContain('train:a:0 failed: no exit status from Slurm job 7_0: cancelled');
    out = '';
    await program.parseAsync(['node', 'gzh', 'runs', '--registry', join(dir, 'registry.sqlite')]);
    expect(out).toContain('units: 1 queued, 1 running, 1 done, 1 failed');
  });
});
