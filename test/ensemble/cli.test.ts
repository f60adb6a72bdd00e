import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIds, register as registerEvaluate } from '../../src/cli/commands/evaluate.js';
import { parseTta, register as registerPredict } from '../../src/cli/commands/predict.js';
import { formatProbability, kaggleCsvHeader, readKaggleSolutions } from '../../src/ensemble/kaggle.js';
import { EnsemblePredictor } from '../../src/ensemble/predictor.js';
import { writeCatalogue } from '../../src/data/catalogue.js';
import { writeSplitFile } from '../../src/experiments/split-file.js';
import { KAGGLE_COLUMNS, toCumulative, QUESTIONS, ANSWER_COUNT } from '../../src/questions/index.js';
import { computeMetrics } from '../../src/train/metrics.js';
import { type CliResult, runInProcess, testProgram } from '../helpers/cli.js';
import { saveTiny, tinyHierarchical, writeJpegs } from './helpers.js';

let dir: string;
let kaggle: string;
let model: string;
const ids = ['100', '101', '102', '103', '104'];

const run = (args: string[]): Promise<CliResult> => runInProcess(testProgram(registerPredict, registerEvaluate), args);

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-cli-'));
  kaggle = join(dir, 'kaggle');
  await writeJpegs(join(kaggle, 'images_training_rev1'), ids.length);
  const rows = ids.map((id, i) => {
    const cond = new Float64Array(ANSWER_COUNT);
    for (const q of QUESTIONS)
      q.answers.forEach((a, k) => (cond[a.index] = (k === i % q.answers.length ? 2 : 1) / (q.answers.length + 1)));
    return [id, ...Array.from(toCumulative(cond, { q6Reach: 'kaggle' }), formatProbability)].join(',');
  });
  writeFileSync(join(kaggle, 'training_solutions_rev1.csv'), [kaggleCsvHeader(), ...rows].join('\n') + '\n');
  const m = tinyHierarchical(31);
  model = await saveTiny(m, join(dir, 'model'), 'hierarchical');
  m.dispose();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gzh predict', { timeout: 120_000 }, () => {
  it('writes a Kaggle-format CSV for a directory, matching the library', async () => {
    const csv = join(dir, 'out.csv');
    const r = await run([
      'predict',
      join(kaggle, 'images_training_rev1'),
      '--model',
      model,
      '--csv',
      csv,
      '--tta',
      'd4',
    ]);
    expect(r.exitCode).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(`GalaxyID,${KAGGLE_COLUMNS.join(',')}`);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(ids);
    for (const l of lines.slice(1)) {
      const cells = l.split(',');
      expect(cells).toHaveLength(38);
      for (const c of cells.slice(1)) expect(c).toMatch(/^(0|1|0\.\d{1,6})$/);
    }
    const p = await EnsemblePredictor.load(model, { tta: 'd4' });
    const lib = await p.predict(join(kaggle, 'images_training_rev1', '102.jpg'));
    p.dispose();
    expect(lines[3].split(',').slice(1).map(Number)).toEqual(
      Array.from(lib.cumulative, (x) => Number(formatProbability(x))),
    );
    expect(r.stderr).toMatch(/5 predicted/);
  });

  it('reports a bad image on stderr, naming it, and still writes the others (exit 1)', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, '999.jpg'), 'not an image');
    const r = await run([
      'predict',
      join(kaggle, 'images_training_rev1', '100.jpg'),
      join(bad, '999.jpg'),
      join(dir, 'missing.jpg'),
      '--model',
      model,
    ]);
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1].startsWith('100,')).toBe(true);
    expect(r.stderr).toContain(`${join(bad, '999.jpg')}: not a JPEG`);
    expect(r.stderr).toContain(`${join(dir, 'missing.jpg')}: cannot read file: ENOENT`);
  });

  it('prints JSON with typed answers and uncertainty', async () => {
    const r = await run([
      'predict',
      join(kaggle, 'images_training_rev1', '101.jpg'),
      '--model',
      model,
      '--json',
      '--tta',
      'flip',
      '--convention',
      'conditional',
    ]);
    const [item] = JSON.parse(r.stdout);
    expect(item.galaxyId).toBe('101');
    expect(item.views).toBe(2);
    expect(item.answers.q1.smooth + item.answers.q1.features_or_disk + item.answers.q1.star_or_artifact).toBeCloseTo(
      1,
      5,
    );
    expect(item.cumulative['Class1.1']).toBeCloseTo(item.answers.q1.smooth, 5);
    expect(item.uncertainty).toHaveLength(37);
  });

  it('parses TTA grids, and names what is wrong with a malformed one', () => {
    expect(parseTta('d4')).toBe('d4');
    expect(parseTta(' D4 ')).toBe('d4');
    expect(parseTta('rot=0,45;flip;zoom=1,1.2')).toEqual({ rotations: [0, 45], flips: true, zooms: [1, 1.2] });
    expect(parseTta(' rot = 0, 90 ; flip=false ')).toEqual({ rotations: [0, 90], flips: false });
    const cases: Array<[string, RegExp]> = [
      ['spin=3', /unknown setting "spin": use none \| flip \| rot4 \| d4 or a grid like/],
      ['rot=', /"rot=": expected rot=<number>,<number>,… \(degrees\)/],
      ['rot=0,,90', /"rot=0,,90": expected rot=/],
      ['zoom=1,x', /"zoom=1,x": expected zoom=<number>,<number>,… \(magnifications\)/],
      ['rot=0=90', /"rot=0=90": one "=" per setting/],
      ['flip=maybe', /"flip=maybe": flip takes no value, or true \/ false/],
      ['rot=0;rot=90', /"rot" is given twice/],
      ['', /empty/],
      [' ; ', /empty/],
    ];
    for (const [spec, message] of cases) expect(() => parseTta(spec), JSON.stringify(spec)).toThrow(message);
  });

  it('reads GalaxyIDs from an ids file with a BOM, a header, quotes and image names', () => {
    const file = join(dir, 'ids-mixed.csv');
    writeFileSync(file, '\uFEFFGalaxyID,x\r\n"100",1\r\n101.jpg\r\n\r\nimages/102.JPEG,2\n');
    expect(readIds(file)).toEqual(['100', '101', '102']);
    writeFileSync(file, 'GalaxyID\n');
    expect(() => readIds(file)).toThrow(/no GalaxyIDs in the ids file/);
  });

  it('names an unreadable model directory', async () => {
    await expect(run(['predict', join(kaggle, 'images_training_rev1'), '--model', join(dir, 'nope')])).rejects.toThrow(
      new RegExp(`${join(dir, 'nope')}: no such model or ensemble directory`),
    );
  });
});

describe('gzh evaluate', { timeout: 120_000 }, () => {
  it('prints RMSE, R², per-answer R² and per-question RMSE that match the metrics of the predictions', async () => {
    const r = await run(['evaluate', '--model', model, '--data', kaggle, '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.count).toBe(5);
    const p = await EnsemblePredictor.load(model);
    const preds = await p.predictMany(ids.map((id) => join(kaggle, 'images_training_rev1', `${id}.jpg`)));
    p.dispose();
    const truth = readFileSync(join(kaggle, 'training_solutions_rev1.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .flatMap((l) => l.split(',').slice(1).map(Number));
    const predicted = preds.flatMap((o) => (o.ok ? Array.from(o.prediction.cumulative) : []));
    const m = computeMetrics(Float32Array.from(truth), predicted);
    expect(out.rmse).toBeCloseTo(m.rmse, 6);
    expect(out.r2).toBeCloseTo(m.r2, 6);
    expect(out.rmsePerQuestion.q7).toBeCloseTo(m.rmsePerQuestion[6], 6);
    expect(Object.keys(out.r2PerAnswer)).toEqual([...KAGGLE_COLUMNS]);

    const text = await run(['evaluate', '--model', model, '--data', kaggle]);
    expect(text.stdout).toMatch(/RMSE\s+0\.\d+/);
    expect(text.stdout).toMatch(/R² \(global\)/);
    expect(text.stdout).toMatch(/q11\s+arms_number\s+RMSE/);
    expect(text.stdout).toMatch(/Class1\.1\s+q1\.smooth\s+R²/);

    writeFileSync(join(dir, 'ids.txt'), '101\n103\n');
    const some = JSON.parse(
      (await run(['evaluate', '--model', model, '--data', kaggle, '--ids', join(dir, 'ids.txt'), '--json'])).stdout,
    );
    expect(some.count).toBe(2);
  });

  it(
    "--split scores the run's split (its split.json), or a catalogue's with a warning when " + "it is not the run's",
    async () => {
      const runDir = join(dir, 'run-x');
      const inRun = join(runDir, 'variants', 'v', 'member-0', 'model');
      mkdirSync(inRun, { recursive: true });
      cpSync(model, inRun, { recursive: true });
      writeSplitFile(runDir, {
        catalogue: join(dir, 'gone.sqlite'),
        seed: 1,
        ids: { train: ['100', '101'], validation: ['102'], test: ['103', '104'] },
      });
      const test = JSON.parse(
        (await run(['evaluate', '--model', inRun, '--data', kaggle, '--split', 'test', '--json'])).stdout,
      );
      expect(test.count).toBe(2);
      expect(test.split).toEqual({ name: 'test', from: join(runDir, 'split.json') });
      writeFileSync(join(dir, 'ids-some.txt'), '101\n103\n');
      const both = JSON.parse(
        (
          await run([
            'evaluate',
            '--model',
            inRun,
            '--data',
            kaggle,
            '--split',
            'train',
            '--ids',
            join(dir, 'ids-some.txt'),
            '--json',
          ])
        ).stdout,
      );
      expect(both.count).toBe(1);
      const text = await run(['evaluate', '--model', inRun, '--data', kaggle, '--split', 'validation']);
      expect(text.stdout).toContain(`split       validation (from ${join(runDir, 'split.json')})`);
      expect(text.stdout).toMatch(/galaxies {4}1 scored/);
      await expect(run(['evaluate', '--model', model, '--data', kaggle, '--split', 'test'])).rejects.toThrow(
        /no split\.json in or above .*: pass --catalogue/,
      );

      const catalogue = join(dir, 'cat.sqlite');
      const galaxies = ids.map((id, i) => ({
        id,
        source: 'kaggle',
        imagePath: null,
        gz2Class: null,
        stratClass: 'x',
        split: (i < 3 ? 'train' : i === 3 ? 'test' : 'validation') as 'train',
        conditional: new Float32Array(ANSWER_COUNT),
        cumulative: new Float32Array(ANSWER_COUNT),
        counts: null,
        row: i + 1,
      }));
      writeCatalogue(catalogue, { meta: {}, galaxies, rejections: [] });
      const other = await run([
        'evaluate',
        '--model',
        inRun,
        '--data',
        kaggle,
        '--split',
        'test',
        '--catalogue',
        catalogue,
        '--json',
      ]);
      expect(JSON.parse(other.stdout).count).toBe(1);
      expect(other.stderr).toContain(
        `warning: the test split of ${catalogue} is not the one the model's run used (${join(runDir, 'split.json')})`,
      );
    },
  );

  it('refuses a labels file that gives one GalaxyID twice, naming both rows', async () => {
    const twice = join(dir, 'kaggle-twice');
    mkdirSync(twice, { recursive: true });
    const lines = readFileSync(join(kaggle, 'training_solutions_rev1.csv'), 'utf8').trim().split('\n');
    writeFileSync(join(twice, 'training_solutions_rev1.csv'), [...lines, lines[2]].join('\n') + '\n');
    await expect(readKaggleSolutions(join(twice, 'training_solutions_rev1.csv'))).rejects.toThrow(
      /: data rows 2 and 6 both have GalaxyID 101/,
    );
  });

  it('names a directory that is not in Kaggle format', async () => {
    await expect(run(['evaluate', '--model', model, '--data', dir])).rejects.toThrow(
      new RegExp(`${join(dir, 'training_solutions_rev1.csv')}: labels file not found`),
    );
  });
});
