import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BatchOptions, BatchSource, SplitName } from '../../src/data/batch.js';
import { trainFractionRows } from '../../src/data/subset.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import type { DataPipeline } from '../../src/experiments/data.js';
import { readEnsembleDir } from '../../src/ensemble/ensemble-dir.js';
import { findSplitFile, readSplitFile } from '../../src/experiments/split-file.js';
import { RunRegistry } from '../../src/experiments/registry.js';
import { readUnitStatus } from '../../src/experiments/unit-status.js';
import { InputError } from '../../src/errors.js';
import { RunInterruptedError, initDefaultBackend, runExperiment } from '../../src/experiments/runner.js';
import { inputSize } from '../../src/experiments/recipe.js';
import { predictMembers, spreadAboutMean, ttaElements } from '../../src/ensemble/evaluate.js';
import { computeMetrics } from '../../src/train/metrics.js';
import { buildFlatModel } from '../../src/models/flat.js';
import { buildHierarchicalModel } from '../../src/models/hierarchical.js';
import { ANSWER_COUNT, QUESTIONS, toCumulative } from '../../src/questions/index.js';
import { MemoryBatchSource } from '../../src/train/memory-source.js';
import { Random } from '../../src/util/random.js';

const SIZE = 24;
const N = 60;

/**
 * A tiny in-memory data set: random tree-consistent labels; random pixels at the asked
 * preprocessing's size (the same galaxies whatever the size). `calls` lists the sizes prepared.
 */
function tinyPipeline(dir: string, calls: number[] = [], firstId = 1000): DataPipeline {
  const rng = new Random(11);
  const conditional = new Float32Array(N * ANSWER_COUNT);
  const cumulative = new Float32Array(N * ANSWER_COUNT);
  for (let i = 0; i < N; i++) {
    const cond = new Float64Array(ANSWER_COUNT);
    for (const q of QUESTIONS) {
      const w = q.answers.map(() => rng.next() + 0.05);
      const total = w.reduce((a, b) => a + b, 0);
      q.answers.forEach((a, k) => (cond[a.index] = w[k] / total));
    }
    conditional.set(cond, i * ANSWER_COUNT);
    cumulative.set(toCumulative(cond, { q6Reach: 'kaggle' }), i * ANSWER_COUNT);
  }
  const ids = Array.from({ length: N }, (_, i) => String(firstId + i));
  const splitOf = (i: number): SplitName => (i < 40 ? 'train' : i < 48 ? 'validation' : 'test');
  const indices = (s: SplitName) => ids.map((_, i) => i).filter((i) => splitOf(i) === s);
  return {
    async ingest() {
      return { catalogue: join(dir, 'none.sqlite'), cached: false, counts: { train: 40, validation: 8, test: 12 } };
    },
    async prepare(_experiment, _ingested, _ctx, preprocess) {
      const size = preprocess?.size ?? SIZE;
      calls.push(size);
      const pixels = new Random(size);
      const images = new Uint8Array(N * size * size * 3).map(() => pixels.int(0, 255));
      const all = new MemoryBatchSource({ images, shape: [size, size, 3], cumulative, conditional, ids });
      return {
        train: all.subset(indices('train'), 'train'),
        validation: all.subset(indices('validation'), 'validation'),
        test: all.subset(indices('test'), 'test'),
        shape: [size, size, 3],
        cached: false,
        imagePath: (id) => join(dir, `${id}.png`),
        preprocessing: { test: true, size },
      };
    },
  };
}

/** Batches streamed by a pipeline's sources: split, shuffled or not, galaxy ids of the whole pass. */
interface Pass {
  readonly split: SplitName;
  readonly shuffle: boolean;
  readonly ids: string[];
}

/** `pipeline` with every split source recording the galaxies each pass over it streams. */
function recording(pipeline: DataPipeline, passes: Pass[]): DataPipeline {
  const record = (source: BatchSource): BatchSource => ({
    split: source.split,
    shape: source.shape,
    length: source.length,
    ids: source.ids,
    hasCounts: source.hasCounts,
    async *batches(options: BatchOptions) {
      const pass: Pass = { split: source.split, shuffle: options.shuffle, ids: [] };
      passes.push(pass);
      for await (const batch of source.batches(options)) {
        pass.ids.push(...batch.ids);
        yield batch;
      }
    },
  });
  return {
    ingest: (experiment, ctx) => pipeline.ingest(experiment, ctx),
    async prepare(experiment, ingested, ctx, preprocess) {
      const data = await pipeline.prepare(experiment, ingested, ctx, preprocess);
      return { ...data, train: record(data.train), validation: record(data.validation), test: record(data.test) };
    },
  };
}

function experiment(out: string) {
  return parseExperimentConfig(
    {
      name: 'tiny',
      seed: 3,
      data: { source: 'synthetic', synthetic: { count: 60, size: 24 } },
      preprocess: { size: SIZE },
      model: { kind: 'flat' },
      augment: { d4: true },
      training: { epochs: 2, batchSize: 16 },
      report: { answers: ['Class1.1', 'q2.yes'], examples: 2, scatterPoints: 10 },
      variants: [
        { name: 'flat', model: { kind: 'flat' } },
        {
          name: 'hier-ens',
          label: 'Hierarchical ×2',
          model: { kind: 'hierarchical' },
          ensemble: { size: 2, tta: 'flip' },
        },
      ],
    },
    { outputDir: out },
  );
}

/** Hierarchical models trained for one epoch on the tiny set, with these variants. */
function oneEpochHierarchical(name: string, seed: number, out: string, variants: object[]) {
  return parseExperimentConfig(
    {
      name,
      seed,
      data: { source: 'synthetic', synthetic: { count: 60, size: 24 } },
      preprocess: { size: SIZE },
      model: { kind: 'hierarchical' },
      training: { epochs: 1, batchSize: 16 },
      report: { answers: ['Class1.1'], examples: 1, scatterPoints: 5 },
      variants,
    },
    { outputDir: out },
  );
}

/** The fastest backend available here (native TensorFlow where it loads). */
const cpu = () => initDefaultBackend();

describe('runExperiment', { timeout: 300_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gzh-runner-'));
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#223' } })
      .png()
      .toBuffer();
    for (let i = 0; i < N; i++) writeFileSync(join(dir, `${1000 + i}.png`), png);
  });

  it('trains every variant on the same split, evaluates, reports and records the run', async () => {
    const exp = experiment(join(dir, 'runs-a'));
    const registry = RunRegistry.open(join(dir, 'runs-a', 'registry.sqlite'));
    const lines: string[] = [];
    const outcome = await runExperiment(exp, {
      kind: 'compare',
      registry,
      pipeline: tinyPipeline(dir),
      initBackend: cpu,
      log: (l) => lines.push(l),
    });
    expect(outcome.run.status).toBe('completed');
    expect(outcome.result.split).toEqual({ train: 40, validation: 8, test: 12 });
    expect(outcome.result.variants.map((v) => [v.name, v.ensembleSize, v.tta])).toEqual([
      ['flat', 1, 'none'],
      ['hier-ens', 2, 'flip'],
    ]);
    for (const v of outcome.result.variants) {
      expect(Number.isFinite(v.overall.rmse)).toBe(true);
      expect(v.perQuestion).toHaveLength(11);
      expect(v.perAnswerR2).toHaveLength(37);
      expect(v.scatter.map((s) => s.answer)).toEqual(['Class1.1', 'Class2.1']);
      expect(v.scatter[0].truth).toHaveLength(10);
    }
    // Two members × 2 epochs of history for the ensemble.
    expect(outcome.result.variants[1].history).toHaveLength(4);
    // Each member scored alone, with and without the variant's TTA; single models have no member table.
    expect(outcome.result.variants[0].members).toBeUndefined();
    const members = outcome.result.variants[1].members ?? [];
    expect(members.map((m) => m.member)).toEqual([0, 1]);
    for (const m of members) {
      expect(m.rmse).toBeGreaterThan(0);
      expect(m.rmseTta).toBeGreaterThan(0);
    }
    expect(outcome.result.variants[0].memberSpread).toBeUndefined();
    expect(outcome.result.variants[1].memberSpread).toBeGreaterThan(0);
    expect(outcome.result.examples).toHaveLength(2);
    expect(Object.keys(outcome.result.examples[0].predictions)).toEqual(['flat', 'hier-ens']);

    const run = registry.get(outcome.run.id);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(run.backend);
    expect(Object.keys(run.phases)).toEqual(
      expect.arrayContaining([
        'backend',
        'ingest',
        'preprocess',
        'train:flat',
        'evaluate:flat',
        'train:hier-ens',
        'evaluate:hier-ens',
        'report',
      ]),
    );
    expect(Object.keys((run.metrics as { variants: object }).variants)).toEqual(['flat', 'hier-ens']);
    expect(existsSync(run.artifacts['report.html'])).toBe(true);
    expect(existsSync(join(run.artifacts['model:hier-ens:1'], 'model.json'))).toBe(true);
    const md = readFileSync(run.artifacts['report.md'], 'utf8');
    expect(md).toContain(outcome.result.variants[1].overall.r2.toFixed(4));
    // split.json: the galaxies of each split, disjoint, found from any model of the run
    const split = readSplitFile(run.artifacts['split.json']);
    expect(split.seed).toBe(exp.seed);
    expect([split.ids.train.length, split.ids.validation.length, split.ids.test.length]).toEqual([40, 8, 12]);
    expect(new Set([...split.ids.train, ...split.ids.validation, ...split.ids.test]).size).toBe(60);
    expect(split.ids.test).toContain(outcome.result.examples[0].id);
    expect(findSplitFile(run.artifacts['model:hier-ens:1'])).toBe(run.artifacts['split.json']);
    registry.close();
  });

  it('trains an ensemble member once when an earlier variant has the identical recipe and seed', async () => {
    const exp = oneEpochHierarchical('twins', 5, join(dir, 'runs-twins'), [
      { name: 'single', model: { kind: 'hierarchical' } },
      { name: 'other-lr', optimizer: { learningRate: 0.002 } },
      { name: 'ens', ensemble: { size: 2, tta: 'none' } },
    ]);
    const registry = RunRegistry.open(join(dir, 'runs-twins', 'registry.sqlite'));
    const lines: string[] = [];
    const outcome = await runExperiment(exp, {
      kind: 'compare',
      registry,
      pipeline: tinyPipeline(dir),
      initBackend: cpu,
      log: (l) => lines.push(l),
    });
    const run = registry.get(outcome.run.id);
    // Member 1 of the ensemble is the single variant's model; member 2 (another seed) is trained.
    expect(run.artifacts['model:ens:0']).toBe(run.artifacts['model:single:0']);
    expect(run.artifacts['model:ens:1']).not.toBe(run.artifacts['model:single:0']);
    expect(existsSync(join(run.artifacts['model:ens:1'], 'model.json'))).toBe(true);
    expect(lines.filter((l) => l.includes('reused'))).toEqual([
      "ens: member 1/2 has the same settings and seed as single's, which is trained: reused",
    ]);
    // A different recipe (learning rate) is never reused.
    expect(run.artifacts['model:other-lr:0']).not.toBe(run.artifacts['model:single:0']);
    const [single, , ens] = outcome.result.variants;
    expect(ens!.members![0]!.rmse).toBeCloseTo(single!.overall.rmse, 6);
    registry.close();
  });

  it(
    'trains a variant on data.trainFraction of the training split, validated and tested on the same ' +
      'galaxies, with its own epochs',
    async () => {
      const exp = oneEpochHierarchical('fractions', 9, join(dir, 'runs-fractions'), [
        { name: 'half', data: { trainFraction: 0.5 } },
        { name: 'all' },
        { name: 'quarter-2-epochs', data: { trainFraction: 0.25 }, training: { epochs: 2 } },
      ]);
      const registry = RunRegistry.open(join(dir, 'runs-fractions', 'registry.sqlite'));
      const passes: Pass[] = [];
      const lines: string[] = [];
      const outcome = await runExperiment(exp, {
        kind: 'compare',
        registry,
        pipeline: recording(tinyPipeline(dir), passes),
        initBackend: cpu,
        log: (l) => lines.push(l),
      });
      const [half, all, quarter] = outcome.result.variants;
      expect([half.trainGalaxies, all.trainGalaxies, quarter.trainGalaxies]).toEqual([20, 40, 10]);
      expect([half.epochs, all.epochs, quarter.epochs]).toEqual([1, 1, 2]);
      // the fraction alone makes one learning curve; other epochs are another recipe
      expect(half.recipe).toBe(all.recipe);
      expect(quarter.recipe).not.toBe(all.recipe);
      expect(lines).toContain('half: trains on 20 of the 40 training galaxies (data.trainFraction 0.5)');
      // Training passes (shuffled, train split) in variant order: 1 epoch of 20, 1 of 40, 2 of 10; the kept
      // galaxies are the seeded subset.
      const trainIds = Array.from({ length: 40 }, (_, i) => String(1000 + i));
      const trained = passes.filter((p) => p.split === 'train' && p.shuffle).map((p) => p.ids);
      expect(trained.map((ids) => ids.length)).toEqual([20, 40, 10, 10]);
      const kept = (f: number) =>
        trainFractionRows(40, f, exp.seed)
          .map((r) => trainIds[r])
          .sort();
      expect([...trained[0]].sort()).toEqual(kept(0.5));
      expect([...trained[2]].sort()).toEqual(kept(0.25));
      expect([...trained[3]].sort()).toEqual(kept(0.25));
      for (const id of kept(0.25)) expect(kept(0.5)).toContain(id);
      // Validation after every epoch and the test scoring see the same galaxies for every variant.
      for (const split of ['validation', 'test'] as const) {
        const seen = passes.filter((p) => p.split === split).map((p) => [...p.ids].sort().join(','));
        expect(seen.length).toBeGreaterThanOrEqual(3);
        expect(new Set(seen).size).toBe(1);
      }
      registry.close();
    },
  );

  it('trains ensemble members on their own preprocessing and saves the variant as a loadable ensemble', async () => {
    const exp = oneEpochHierarchical('mixed', 7, join(dir, 'runs-mixed'), [
      { name: 'single' },
      {
        name: 'mixed',
        ensemble: {
          size: 3,
          tta: 'flip',
          members: [
            {},
            { preprocess: { size: 22 } },
            { label: 'small', preprocess: { size: 22 }, model: { dropout: 0.2 } },
          ],
        },
      },
      { name: 'small-input', preprocess: { size: 22 } },
    ]);
    const registry = RunRegistry.open(join(dir, 'runs-mixed', 'registry.sqlite'));
    const calls: number[] = [];
    const outcome = await runExperiment(exp, {
      kind: 'compare',
      registry,
      pipeline: tinyPipeline(dir, calls),
      initBackend: cpu,
    });
    // One preparation per distinct preprocessing.
    expect(calls).toEqual([SIZE, 22]);
    const run = registry.get(outcome.run.id);
    const inputSide = (m: number, variant = 'mixed') =>
      (
        JSON.parse(readFileSync(join(run.artifacts[`model:${variant}:${m}`], 'model.json'), 'utf8')) as {
          modelTopology: { config: { layers: Array<{ config: { batch_input_shape?: number[] } }> } };
        }
      ).modelTopology.config.layers[0].config.batch_input_shape?.[1];
    expect([0, 1, 2].map((m) => inputSide(m))).toEqual([SIZE, 22, 22]);
    // A variant with its own preprocessing reads the same cache as the members with it.
    expect(inputSide(0, 'small-input')).toBe(22);
    // Member 1 is the single model (same settings and seed); each manifest records its own preprocessing.
    expect(run.artifacts['model:mixed:0']).toBe(run.artifacts['model:single:0']);
    const manifest = (m: number) =>
      JSON.parse(readFileSync(join(run.artifacts[`model:mixed:${m}`], 'manifest.json'), 'utf8')) as {
        preprocessing: { size: number };
      };
    expect([0, 1, 2].map((m) => manifest(m).preprocessing.size)).toEqual([SIZE, 22, 22]);
    const ens = outcome.result.variants[1];
    expect(ens.members!.map((m) => m.label)).toEqual([undefined, 'preprocess.size 22', 'small']);
    expect(ens.members![0].rmse).toBeCloseTo(outcome.result.variants[0].overall.rmse, 6);
    // The variant folder is the whole ensemble, the reused member included.
    const described = await readEnsembleDir(join(outcome.runDir, 'variants', 'mixed'));
    expect(described.members.map((m) => m.dir)).toEqual(
      [0, 1, 2].map((m) => resolve(run.artifacts[`model:mixed:${m}`])),
    );
    expect(described.tta).toBe('flip');
    registry.close();
  });

  it('records a stopped run as interrupted and resumes it, reusing finished variants', async () => {
    const exp = experiment(join(dir, 'runs-b'));
    const registry = RunRegistry.open(join(dir, 'runs-b', 'registry.sqlite'));
    const controller = new AbortController();
    const first = runExperiment(exp, {
      kind: 'compare',
      registry,
      pipeline: tinyPipeline(dir),
      initBackend: cpu,
      signal: controller.signal,
      log: (line) => {
        if (line.startsWith('flat:') || line.includes('test RMSE')) controller.abort();
      },
    });
    await expect(first).rejects.toBeInstanceOf(RunInterruptedError);
    const stopped = registry.get('latest');
    expect(stopped.status).toBe('interrupted');
    expect((stopped.state as { units: Record<string, string> }).units).toMatchObject({
      prepare: 'done',
      'train:flat:0': 'done',
      'score:flat': 'done',
      report: 'pending',
    });

    const lines: string[] = [];
    const resumed = await runExperiment(exp, {
      kind: 'compare',
      registry,
      pipeline: tinyPipeline(dir),
      initBackend: cpu,
      resume: stopped.id,
      log: (l) => lines.push(l),
    });
    expect(resumed.run.id).toBe(stopped.id);
    expect(resumed.run.status).toBe('completed');
    expect(lines.some((l) => l.startsWith('flat: already done'))).toBe(true);
    expect(resumed.result.variants.map((v) => v.name)).toEqual(['flat', 'hier-ens']);
    await expect(
      runExperiment(exp, {
        kind: 'compare',
        registry,
        pipeline: tinyPipeline(dir),
        initBackend: cpu,
        resume: stopped.id,
      }),
    ).rejects.toThrow(/already completed/);
    const other = parseExperimentConfig(
      { ...JSON.parse(JSON.stringify(exp.config)), seed: 4 },
      { outputDir: join(dir, 'runs-b') },
    );
    await expect(
      runExperiment(other, {
        kind: 'compare',
        registry,
        pipeline: tinyPipeline(dir),
        initBackend: cpu,
        resume: stopped.id,
      }),
    ).rejects.toThrow(/different config/);
    registry.close();
  });

  it(
    'resumes the latest run of its config with the variants it was started with, and only on the data it was ' +
      'started on',
    async () => {
      const exp = experiment(join(dir, 'runs-d'));
      const registry = RunRegistry.open(join(dir, 'runs-d', 'registry.sqlite'));
      const controller = new AbortController();
      const first = runExperiment(exp, {
        kind: 'run',
        registry,
        pipeline: tinyPipeline(dir),
        initBackend: cpu,
        variants: ['hier-ens'],
        signal: controller.signal,
        log: (line) => void (line.startsWith('split:') && controller.abort()),
      });
      await expect(first).rejects.toBeInstanceOf(RunInterruptedError);
      const stopped = registry.get('latest');
      // a newer run of another config: `latest` means the newest run of this config
      registry.create({
        name: 'other',
        kind: 'run',
        config: {},
        configHash: 'another-config',
        seed: 1,
        gitCommit: null,
      });
      expect(registry.get('latest').name).toBe('other');

      const otherData = runExperiment(exp, {
        kind: 'run',
        registry,
        pipeline: tinyPipeline(dir, [], 5000),
        initBackend: cpu,
        resume: 'latest',
      });
      await expect(otherData).rejects.toThrow(
        new RegExp(`run ${stopped.id} was started on other data .*split\\.json: 40/8/12 galaxies`),
      );
      await expect(otherData).rejects.toBeInstanceOf(InputError); // exit code 2 on the CLI

      const resumed = await runExperiment(exp, {
        kind: 'run',
        registry,
        pipeline: tinyPipeline(dir),
        initBackend: cpu,
        resume: 'latest',
      });
      expect(resumed.run.id).toBe(stopped.id);
      expect(resumed.result.variants.map((v) => v.name)).toEqual(['hier-ens']);
      registry.close();
    },
  );

  it("counts a resumed variant's training time from earlier processes too", async () => {
    const exp = experiment(join(dir, 'runs-f'));
    const registry = RunRegistry.open(join(dir, 'runs-f', 'registry.sqlite'));
    const controller = new AbortController();
    // stop as the second member of the ensemble starts training: the first is then trained and saved
    const progress = () => ({
      start: (_total: number, label: string) => void (label.includes('2/2') && controller.abort()),
      tick: () => {},
      stop: () => {},
    });
    const first = runExperiment(exp, {
      kind: 'run',
      registry,
      pipeline: tinyPipeline(dir),
      initBackend: cpu,
      variants: ['hier-ens'],
      signal: controller.signal,
      progress,
    });
    await expect(first).rejects.toBeInstanceOf(RunInterruptedError);
    const stopped = registry.get('latest');
    const memberDir = join(dir, 'runs-f', stopped.id, 'variants', 'hier-ens', 'member-0');
    const earlier = (
      JSON.parse(readFileSync(join(memberDir, 'history.json'), 'utf8')) as Array<{ seconds: number }>
    ).reduce((sum, e) => sum + e.seconds, 0);
    expect(earlier).toBeGreaterThan(0);
    const started = performance.now();
    const resumed = await runExperiment(exp, {
      kind: 'run',
      registry,
      pipeline: tinyPipeline(dir),
      initBackend: cpu,
      resume: stopped.id,
    });
    const thisProcess = (performance.now() - started) / 1000;
    expect(resumed.result.variants[0].trainSeconds).toBeGreaterThanOrEqual(earlier);
    expect(resumed.result.variants[0].trainSeconds).toBeLessThanOrEqual(earlier + thisProcess);
    registry.close();
  });

  it('a stop mid-epoch checkpoints the member there; the resume goes on from it, nothing lost', async () => {
    const weights = (runDir: string) =>
      readFileSync(join(runDir, 'variants', 'flat', 'member-0', 'model', 'weights.bin'));
    const run = (out: string, options: Partial<Parameters<typeof runExperiment>[1]> = {}) => {
      const registry = RunRegistry.open(join(out, 'registry.sqlite'));
      return runExperiment(experiment(out), {
        kind: 'run',
        registry,
        pipeline: tinyPipeline(dir),
        initBackend: cpu,
        variants: ['flat'],
        ...options,
      }).finally(() => registry.close());
    };
    const reference = await run(join(dir, 'runs-g'));

    // 40 training galaxies in batches of 16: 3 batches an epoch; stop once the 4th (epoch 2's first) is trained
    const controller = new AbortController();
    let trained = 0;
    const progress = () => ({
      start: () => {},
      tick: (n = 1) => void ((trained += n) === 4 && controller.abort()),
      stop: () => {},
    });
    const lines: string[] = [];
    const out = join(dir, 'runs-h');
    await expect(run(out, { signal: controller.signal, progress, log: (l) => lines.push(l) })).rejects.toBeInstanceOf(
      RunInterruptedError,
    );
    const registry = RunRegistry.open(join(out, 'registry.sqlite'));
    const stopped = registry.get('latest');
    registry.close();
    expect(stopped.status).toBe('interrupted');
    const stop = 'training stopped at batch 1 of epoch 2; the checkpoint resumes it';
    expect(lines).toContain(`flat: ${stop}`);
    const unit = readUnitStatus(stopped.outputDir!, 'train:flat:0');
    expect(unit?.state).toBe('failed');
    expect(unit?.message).toBe(`run ${stopped.id} stopped: train:flat:0: ${stop}`);

    lines.length = 0;
    const resumed = await run(out, { resume: stopped.id, log: (l) => lines.push(l) });
    expect(lines).toContain('flat: goes on from its checkpoint (4 of 6 batches trained)');
    expect(weights(resumed.runDir).equals(weights(reference.runDir))).toBe(true);
    expect(resumed.result.variants[0].history.map((h) => [h.loss, h.valRmse])).toEqual(
      reference.result.variants[0].history.map((h) => [h.loss, h.valRmse]),
    );
    expect(resumed.result.variants[0].overall).toEqual(reference.result.variants[0].overall);
  });

  it('stops data preparation at the next progress tick once asked to stop', async () => {
    const exp = experiment(join(dir, 'runs-e'));
    const registry = RunRegistry.open(join(dir, 'runs-e', 'registry.sqlite'));
    const controller = new AbortController();
    let ticks = 0;
    const slowIngest: DataPipeline = {
      ...tinyPipeline(dir),
      async ingest(_experiment, ctx) {
        ctx.progress.start(1000, 'ingest');
        for (let i = 0; i < 1000; i++) {
          if (i === 3) controller.abort();
          ctx.progress.tick();
          ticks++;
          await Promise.resolve();
        }
        return { catalogue: join(dir, 'none.sqlite'), cached: false, counts: { train: 40, validation: 8, test: 12 } };
      },
    };
    await expect(
      runExperiment(exp, { kind: 'run', registry, pipeline: slowIngest, initBackend: cpu, signal: controller.signal }),
    ).rejects.toBeInstanceOf(RunInterruptedError);
    expect(ticks).toBe(3);
    expect(registry.get('latest').status).toBe('interrupted');
    registry.close();
  });

  it('marks a failing run as failed with its error', async () => {
    const exp = experiment(join(dir, 'runs-c'));
    const registry = RunRegistry.open(join(dir, 'runs-c', 'registry.sqlite'));
    const broken: DataPipeline = {
      ...tinyPipeline(dir),
      ingest: () => Promise.reject(new Error('labels not found: /nowhere')),
    };
    await expect(runExperiment(exp, { kind: 'run', registry, pipeline: broken, initBackend: cpu })).rejects.toThrow(
      /labels not found/,
    );
    expect(registry.get('latest')).toMatchObject({ status: 'failed' });
    expect(registry.get('latest').error).toContain('labels not found');
    await expect(
      runExperiment(exp, { kind: 'run', registry, pipeline: broken, initBackend: cpu, variants: ['nope'] }),
    ).rejects.toThrow(/unknown variant "nope"/);
    registry.close();
  });
});

describe('predictMembers', () => {
  const source = (size: number, ids: string[]) => {
    const n = ids.length;
    const rng = new Random(size);
    const cumulative = new Float32Array(n * ANSWER_COUNT).map(() => rng.next());
    return new MemoryBatchSource({
      images: new Uint8Array(n * size * size * 3).map(() => rng.int(0, 255)),
      shape: [size, size, 3],
      cumulative,
      conditional: cumulative,
      ids,
    });
  };
  const ids = Array.from({ length: 10 }, (_, i) => `g${i}`);

  it('averages members that read different preprocessings of the same galaxies', async () => {
    await initDefaultBackend();
    const a = buildHierarchicalModel({ inputSize: 22, channels: 3 });
    const b = buildHierarchicalModel({ inputSize: 26, channels: 3 });
    const small = source(24, ids);
    const large = source(26, ids);
    const both = await predictMembers(
      [
        { model: a, source: small, size: 22 },
        { model: b, source: large, size: 26 },
      ],
      { tta: 'none', convention: 'cumulative', batchSize: 4 },
    );
    const onlyA = await predictMembers([{ model: a, source: small, size: 22 }], {
      tta: 'none',
      convention: 'cumulative',
    });
    const onlyB = await predictMembers([{ model: b, source: large, size: 26 }], {
      tta: 'none',
      convention: 'cumulative',
    });
    expect(both.ids).toEqual(ids);
    both.predicted.forEach((v, i) => expect(v).toBeCloseTo((onlyA.predicted[i] + onlyB.predicted[i]) / 2, 5));
    // Sources that disagree on the galaxies are refused, naming the first difference.
    const shuffled = source(26, [...ids.slice(0, 5), 'g6', 'g5', ...ids.slice(7)]);
    await expect(
      predictMembers(
        [
          { model: a, source: small, size: 22 },
          { model: b, source: shuffled, size: 26 },
        ],
        { tta: 'none', convention: 'cumulative', batchSize: 4 },
      ),
    ).rejects.toThrow(
      'ensemble members are evaluated on different galaxies: galaxy g5 in one preprocessing, g6 in another',
    );
    await expect(
      predictMembers(
        [
          { model: a, source: small, size: 22 },
          { model: b, source: source(26, ids.slice(0, 9)), size: 26 },
        ],
        { tta: 'none', convention: 'cumulative' },
      ),
    ).rejects.toThrow('ensemble members are evaluated on different galaxies: 10 vs 9 images');
    a.dispose();
    b.dispose();
  });

  it("gives each member's own predictions from the ensemble's passes, as that member alone would", async () => {
    await initDefaultBackend();
    const hierarchical = buildHierarchicalModel({ inputSize: 22, channels: 3 });
    const flat = buildFlatModel({ inputSize: 22, channels: 3 });
    const images = source(24, ids);
    const inputs = [
      { model: hierarchical, source: images, size: 22 },
      { model: flat, source: images, size: 22 },
    ];
    for (const convention of ['cumulative', 'conditional'] as const) {
      const together = await predictMembers(inputs, { tta: 'd4', convention, batchSize: 4, perMember: true });
      expect(together.members).toHaveLength(2);
      for (const [k, input] of inputs.entries()) {
        const alone = await predictMembers([input], { tta: 'd4', convention });
        together.members![k].forEach((v, i) => expect(v).toBeCloseTo(alone.predicted[i], 5));
      }
      if (convention === 'cumulative') {
        together.predicted.forEach((v, i) =>
          expect(v).toBeCloseTo((together.members![0][i] + together.members![1][i]) / 2, 5),
        );
      }
    }
    expect((await predictMembers(inputs, { tta: 'none', convention: 'cumulative' })).members).toBeUndefined();
    hierarchical.dispose();
    flat.dispose();
  });
});

describe('spreadAboutMean', () => {
  it("is the ambiguity term: MSE of the members' average = mean member MSE − spread²", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (members, length, seed) => {
          const rng = new Random(seed);
          const truth = Float32Array.from({ length }, () => rng.next());
          const predictions = Array.from({ length: members }, () => Float32Array.from({ length }, () => rng.next()));
          const mse = (p: Float32Array) => p.reduce((s, v, i) => s + (v - truth[i]) ** 2, 0) / length;
          const average = Float32Array.from({ length }, (_, i) => predictions.reduce((s, p) => s + p[i], 0) / members);
          const meanMemberMse = predictions.reduce((s, p) => s + mse(p), 0) / members;
          expect(mse(average)).toBeCloseTo(meanMemberMse - spreadAboutMean(predictions) ** 2, 5);
        },
      ),
    );
    expect(spreadAboutMean([Float32Array.of(0.2, 0.4), Float32Array.of(0.2, 0.4)])).toBe(0);
  });
});

describe('runner helpers', () => {
  it('TTA sets and input sizes', () => {
    expect(ttaElements('none')).toHaveLength(1);
    expect(ttaElements('flip')).toHaveLength(2);
    expect(ttaElements('rot4')).toHaveLength(4);
    expect(ttaElements('d4')).toHaveLength(8);
    const exp = parseExperimentConfig({
      name: 'x',
      data: { source: 'kaggle' },
      preprocess: { size: 48 },
      model: { kind: 'hierarchical' },
      augment: { d4: true, zoom: 1.1, translate: 2 },
      training: { epochs: 1 },
    });
    expect(inputSize(exp.variants[0].settings)).toBe(40);
  });
  it('question R² is 1 for perfect predictions', () => {
    const t = new Float32Array(3 * ANSWER_COUNT).map((_, i) => (i % 5) / 5 + Math.floor(i / ANSWER_COUNT) / 10);
    expect(computeMetrics(t, t).r2PerQuestion.every((r) => r === 1)).toBe(true);
  });
});
