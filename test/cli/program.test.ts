/**
 * The `gzh` entry point's exit codes: 0 ok (and help), 1 when work failed (an unreadable image),
 * 2 for bad usage, whether Commander finds it (options, arguments) or a command does (conflicting
 * flags, inputs that name no image, colliding GalaxyIDs).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { galaxyId } from '../../src/ensemble/kaggle.js';
import { captureOutput } from '../helpers/capture.js';
import { saveTiny, tinyHierarchical, writeJpegs } from '../ensemble/helpers.js';

let dir: string;
let images: string;
let first: string;
let model: string;

async function gzh(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const before = process.exitCode;
  try {
    const {
      value: code,
      stdout,
      stderr,
    } = await captureOutput(() => runCli(['node', 'gzh', '--backend', 'cpu', '-q', ...args]));
    return { code, stdout, stderr };
  } finally {
    process.exitCode = before;
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gzh-program-'));
  images = join(dir, 'images');
  [first] = await writeJpegs(images, 3);
  const m = tinyHierarchical(5);
  model = await saveTiny(m, join(dir, 'model'), 'hierarchical');
  m.dispose();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gzh exit codes', { timeout: 120_000 }, () => {
  it('0 for a good prediction and for --help', async () => {
    const ok = await gzh('predict', images, '--model', model);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(4);
    expect((await gzh('predict', '--help')).code).toBe(0);
  });

  it(
    'finds the command after valued global options, and lists every command for the overview and a mistyped ' + 'name',
    async () => {
      const overview = await gzh('--help');
      for (const name of [
        'run',
        'compare',
        'runs',
        'synthesize',
        'ingest',
        'preprocess',
        'doctor',
        'predict',
        'evaluate',
        'export-web',
        'serve',
      ])
        expect(overview.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
      const runs = await gzh('--data-dir', join(dir, 'no-data'), 'runs', '--help');
      expect(runs.code).toBe(0);
      expect(runs.stdout).toContain('Usage: gzh runs');
      const typo = await gzh('predcit');
      expect(typo.code).toBe(2);
      expect(typo.stderr).toContain('(Did you mean predict?)');
    },
  );

  it('1 when an image cannot be read (the others are still written)', async () => {
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, 'not a jpeg');
    const r = await gzh('predict', images, bad, '--model', model);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    expect(r.stderr).toContain(`${bad}: not a JPEG`);
  });

  it('2 for usage errors found by the option parser', async () => {
    for (const args of [
      ['predict', images, '--model', model, '--batch-size', '0'],
      ['predict', images, '--model', model, '--batch-size', 'abc'],
      ['predict', images, '--model', model, '--tta', 'rot=0,,90'],
      ['predict', images, '--model', model, '--no-such-option'],
      ['predict', images],
      ['evaluate', '--model', model, '--data', dir, '--split', 'Test', '--catalogue', 'c.sqlite'],
      ['no-such-command'],
      ['--backend', 'bogus', 'predict', images, '--model', model],
      ['ingest', '--format', 'kaggle', '--labels', 'x.csv', '--split', 'abc'],
      ['synthesize', '--out', join(dir, 'syn'), '--size', '2'],
      ['synthesize', '--out', join(dir, 'syn'), '--quality', '500'],
      ['synthesize', '--out', join(dir, 'syn'), '--format', 'fits'],
      ['synthesize', '--out', join(dir, 'syn'), '--workers', '-1'],
      ['doctor', '--seconds', 'abc'],
    ]) {
      const r = await gzh(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/error|unknown backend|must be/);
    }
  });

  it('2 for usage errors a command finds, with a message naming what is wrong', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    const cases: Array<[string[], RegExp]> = [
      [['predict', empty, '--model', model], /no \*\.jpg images in/],
      [['predict', images, '--model', model, '--csv', join(dir, 'x.csv'), '--json'], /choose one/],
      [
        ['evaluate', '--model', model, '--data', dir, '--split', 'test'],
        /no split\.json in or above .*: pass --catalogue/,
      ],
      [
        ['evaluate', '--model', model, '--data', dir, '--catalogue', join(dir, 'c.sqlite')],
        /--catalogue needs --split/,
      ],
      [
        ['evaluate', '--model', model, '--data', dir, '--ids', join(dir, 'no-ids.txt')],
        /no-ids\.txt: cannot read the ids file: ENOENT/,
      ],
      [
        ['synthesize', '--out', join(dir, 'syn-rows'), '--count', '3', '--rows', '5'],
        /rows \(5\) is for the gz2 format/,
      ],
      [
        ['synthesize', '--out', join(dir, 'syn-gz2'), '--format', 'gz2', '--count', '5', '--rows', '3'],
        /rows must be an integer ≥ count/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await gzh(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it(
    'refuses GalaxyIDs that would repeat in the CSV (exit 2), lists a file reached twice once, allows repeats in ' +
      'JSON',
    async () => {
      const other = join(dir, 'other');
      mkdirSync(other, { recursive: true });
      const name = basename(first);
      copyFileSync(first, join(other, name));
      const twice = await gzh('predict', images, other, '--model', model);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toContain(
        `1 GalaxyID(s) would appear more than once in the CSV, e.g. ${galaxyId(name)} from ${first} and ` +
          `${join(other, name)}`,
      );
      const json = await gzh('--json', 'predict', images, other, '--model', model);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toHaveLength(4);
      const same = await gzh('predict', images, first, '--model', model);
      expect(same.code).toBe(0);
      expect(same.stdout.trim().split('\n')).toHaveLength(4);
    },
  );

  it('fails before predicting when the CSV cannot be opened, and exits 1 when a write fails', async () => {
    const missing = join(dir, 'no-such-dir', 'out.csv');
    const r = await gzh('predict', images, '--model', model, '--csv', missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${missing}: cannot write: ENOENT`);
    if (existsSync('/dev/full')) {
      // more rows than a write stream buffers (16 KiB), where a lost 'error' event used to end the process silently
      const many = join(dir, 'many');
      mkdirSync(many, { recursive: true });
      for (let i = 0; i < 120; i++) copyFileSync(first, join(many, `${i}.jpg`));
      const full = await gzh('predict', many, '--model', model, '--csv', '/dev/full');
      expect(full.code).toBe(1);
      expect(full.stderr).toContain('/dev/full: write failed: ENOSPC');
    }
    const csv = join(dir, 'ok.csv');
    expect((await gzh('predict', images, '--model', model, '--csv', csv)).code).toBe(0);
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(4);
  });
});
