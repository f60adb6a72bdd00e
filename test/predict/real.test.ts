import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA, realDataAvailable } from '../helpers/data.js';
import { saveTiny, tinyHierarchical } from '../ensemble/helpers.js';
import { testCli } from '../helpers/cli-bundle.js';
import { predictInProcess as predict } from './helpers.js';

const data = realDataAvailable(DATA.kaggleImages);
const COUNT = 200;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gzh-predict-real-'));
});
afterAll(() => {
  delete process.env.GZH_CLI_ENTRY;
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!data.available)(
  `sharded predict on real Kaggle images${data.reason ? ` (skipped: ${data.reason})` : ''}`,
  { timeout: 300_000 },
  () => {
    it(
      `${COUNT} shared Kaggle images in 4 shards (--executor local --jobs 2) give the CSV of one predict, byte ` +
        'for byte',
      async () => {
        await tf.setBackend('cpu');
        process.env.GZH_CLI_ENTRY = testCli()[1];
        const m = tinyHierarchical(3, 30);
        const model = await saveTiny(m, join(dir, 'model'), 'hierarchical', { mode: 'contour', size: 32, channels: 1 });
        m.dispose();
        const files = readdirSync(DATA.kaggleImages)
          .filter((f) => f.endsWith('.jpg'))
          .sort()
          .slice(0, COUNT);
        expect(files).toHaveLength(COUNT);
        const list = join(dir, 'catalogue.txt');
        writeFileSync(list, files.map((f) => `${join(DATA.kaggleImages, f)}\n`).join(''));

        const single = await predict(['--list', list, '--model', model, '--csv', join(dir, 'single.csv')]);
        expect(single.exitCode, single.stderr).toBe(0);
        const expected = readFileSync(join(dir, 'single.csv'), 'utf8');
        expect(
          expected
            .trim()
            .split('\n')
            .slice(1)
            .map((l) => l.split(',')[0]),
        ).toEqual(files.map((f) => f.replace('.jpg', '')));

        const sharded = await predict([
          '--list',
          list,
          '--model',
          model,
          '--csv',
          join(dir, 'sharded.csv'),
          '--shards',
          '4',
          '--executor',
          'local',
          '--jobs',
          '2',
        ]);
        expect(sharded.exitCode, sharded.stderr).toBe(0);
        expect(sharded.stderr).toMatch(/4 to predict \(local, 2 job\(s\)\)/);
        expect(readFileSync(join(dir, 'sharded.csv'), 'utf8')).toBe(expected);
      },
    );
  },
);
