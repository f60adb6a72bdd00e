import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kaggleCsvRow } from '../../src/ensemble/kaggle.js';
import { CorruptArtifactError } from '../../src/errors.js';
import { type ShardPlan, expectedMeta, gatherParts, missingShards, partPath } from '../../src/predict/gather.js';
import { PartWriter, readPartMeta } from '../../src/predict/part.js';
import { ANSWER_COUNT } from '../../src/questions/index.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-part-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const row = (id: string) => kaggleCsvRow(id, new Float32Array(ANSWER_COUNT).fill(0.5));

function plan(name: string, over: Partial<ShardPlan> = {}): ShardPlan {
  return { scan: { count: 4, hash: 'h1' }, shards: 2, model: 'm1', partsDir: join(work, name), ...over };
}

async function writeComplete(p: ShardPlan, index: number): Promise<void> {
  const meta = expectedMeta(p, index);
  const w = await PartWriter.open(partPath(p, index), meta);
  for (let i = meta.start; i < meta.end; i++) await w.row(row(String(i)));
  await w.commit();
}

describe('part files', () => {
  it('appear only when committed: an aborted or unfinished writer leaves no part', async () => {
    const p = plan('abort');
    const w = await PartWriter.open(partPath(p, 0), expectedMeta(p, 0));
    await w.row(row('0'));
    expect(existsSync(partPath(p, 0))).toBe(false);
    await w.abort();
    expect(readdirSync(p.partsDir)).toEqual([]);
    expect(await missingShards(p)).toEqual([0, 1]);
  });

  it('a part of another input list, shard count or model is predicted again and never gathered', async () => {
    const p = plan('stale');
    await writeComplete(p, 0);
    await writeComplete(p, 1);
    expect(await missingShards(p)).toEqual([]);
    for (const other of [plan('stale', { scan: { count: 4, hash: 'h2' } }), plan('stale', { model: 'm2' })]) {
      expect(await missingShards(other)).toEqual([0, 1]);
      await expect(gatherParts(other, join(work, 'stale.csv'), () => {})).rejects.toThrow(/belongs to another run/);
    }
    expect(existsSync(join(work, 'stale.csv'))).toBe(false);
    expect((await readPartMeta(partPath(p, 1)))?.start).toBe(2);
  });

  it('a truncated or damaged part is refused by the gather, naming it, and the previous CSV stays', async () => {
    const p = plan('damaged');
    await writeComplete(p, 0);
    await writeComplete(p, 1);
    const csv = join(work, 'damaged.csv');
    writeFileSync(csv, 'previous\n');
    const path = partPath(p, 1);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.split('\n').slice(0, 2).join('\n') + '\n'); // end line and one row lost
    const error = await gatherParts(p, csv, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptArtifactError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/truncated/);
    expect(readFileSync(csv, 'utf8')).toBe('previous\n');
    writeFileSync(path, 'GalaxyID,Class1.1\n');
    await expect(gatherParts(p, csv, () => {})).rejects.toThrow(/not a gzh predict part/);
    expect(await missingShards(p)).toEqual([1]);
  });

  it('a part with more or fewer lines than its range is refused', async () => {
    const p = plan('count');
    await writeComplete(p, 0);
    const meta = expectedMeta(p, 1);
    const w = await PartWriter.open(partPath(p, 1), meta);
    await w.row(row('2'));
    await w.commit();
    await expect(gatherParts(p, join(work, 'count.csv'), () => {})).rejects.toThrow(/holds 1 inputs, its range has 2/);
  });
});
