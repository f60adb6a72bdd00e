import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { kaggleCsvHeader, kaggleCsvRow } from '../../src/ensemble/kaggle.js';
import { type ShardPlan, expectedMeta, gatherParts, missingShards, partPath } from '../../src/predict/gather.js';
import { inputRange, scanInputs } from '../../src/predict/input-list.js';
import { PartWriter } from '../../src/predict/part.js';
import { parseShard, shardRange } from '../../src/predict/shard.js';
import { ANSWER_COUNT } from '../../src/questions/index.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-shard-prop-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('shardRange', () => {
  it('puts every input in exactly one shard, in contiguous ranges whose sizes differ by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 }), (length, count) => {
        const owner = new Int32Array(length).fill(-1);
        const sizes: number[] = [];
        let previousEnd = 0;
        for (let index = 0; index < count; index++) {
          const { start, end } = shardRange({ index, count }, length);
          if (start !== previousEnd)
            throw new Error(`shard ${index} starts at ${start}, the previous ended at ${previousEnd}`);
          previousEnd = end;
          sizes.push(end - start);
          for (let k = start; k < end; k++) {
            if (owner[k] !== -1) throw new Error(`input ${k} is in shards ${owner[k]} and ${index}`);
            owner[k] = index;
          }
        }
        expect(previousEnd).toBe(length);
        expect(owner.every((o) => o >= 0)).toBe(true);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('parses i/N and refuses what is not a shard', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(parseShard(' 0 / 1 ')).toEqual({ index: 0, count: 1 });
    for (const bad of ['4/4', '1/0', '-1/3', '1', 'a/b', '1/2/3', '1.5/4'])
      expect(() => parseShard(bad), bad).toThrow(/--shard/);
  });
});

/** A deterministic "prediction" per input, so gathered rows can be checked against the input order. */
function fakeRow(path: string, index: number): string {
  const values = Float32Array.from({ length: ANSWER_COUNT }, (_, a) => ((index * 37 + a) % 1000) / 1000);
  return kaggleCsvRow(path.replace(/\.jpg$/, ''), values);
}

async function writeShard(
  plan: ShardPlan,
  source: { kind: 'list'; path: string },
  index: number,
  failing: (i: number) => boolean,
): Promise<void> {
  const meta = expectedMeta(plan, index);
  const part = await PartWriter.open(partPath(plan, index), meta);
  for await (const { path, index: i } of inputRange(source, meta.start, meta.end)) {
    if (failing(i)) await part.failure({ source: path, kind: 'corrupt', reason: `bad ${i}` });
    else await part.row(fakeRow(path, i));
  }
  await part.commit();
}

describe('gather', () => {
  it(
    'restores the input order from the shards, every input exactly once, failures in order, for any length and ' +
      'shard count',
    async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 400 }),
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 0, max: 7 }),
          fc.nat(),
          async (length, shards, failEvery, rotation) => {
            const dir = join(work, `p${run++}`);
            const list = join(work, `list-${run}.txt`);
            const paths = Array.from({ length }, (_, i) => `${1000 + i * 7}.jpg`);
            writeFileSync(list, paths.map((p) => `${p}\n`).join(''));
            const source = { kind: 'list' as const, path: list };
            const scan = await scanInputs(source);
            expect(scan.count).toBe(length);
            const plan: ShardPlan = { scan, shards, model: 'm', partsDir: dir };
            const failing = (i: number) => failEvery > 0 && i % (failEvery + 2) === 1;
            expect(await missingShards(plan)).toEqual(Array.from({ length: shards }, (_, i) => i));
            // shards finish in any order
            for (let k = 0; k < shards; k++) await writeShard(plan, source, (k + rotation) % shards, failing);
            expect(await missingShards(plan)).toEqual([]);
            const failures: string[] = [];
            const csv = join(dir, 'out.csv');
            const result = await gatherParts(plan, csv, (f) => failures.push(f.source));
            const expectedRows = paths.flatMap((p, i) => (failing(i) ? [] : [fakeRow(p, i)]));
            expect(readFileSync(csv, 'utf8')).toBe([kaggleCsvHeader(), ...expectedRows].join('\n') + '\n');
            expect(failures).toEqual(paths.filter((_, i) => failing(i)));
            expect(result).toEqual({ rows: expectedRows.length, failed: failures.length });
          },
        ),
        { numRuns: 40 },
      );
    },
  );
});
