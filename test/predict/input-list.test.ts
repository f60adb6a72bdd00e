import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { inputRange, readListFile, resolveInputSource, scanInputs } from '../../src/predict/input-list.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-list-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('input lists', () => {
  it('reads one path per line, skipping blank lines and Windows line ends, keeping spaces inside paths', async () => {
    const list = join(work, 'a.txt');
    writeFileSync(list, 'a/1.jpg\r\n\n  \nb c/2.jpg\n3.jpg');
    expect(await collect(readListFile(list))).toEqual(['a/1.jpg', 'b c/2.jpg', '3.jpg']);
    const source = { kind: 'list' as const, path: list };
    expect((await collect(inputRange(source, 1, 3))).map((e) => [e.index, e.path])).toEqual([
      [1, 'b c/2.jpg'],
      [2, '3.jpg'],
    ]);
    expect(await collect(inputRange(source, 2, 2))).toEqual([]);
  });

  it('fingerprints the paths in order: the same list as a file or as named paths has the same hash', async () => {
    const list = join(work, 'b.txt');
    writeFileSync(list, 'x/1.jpg\nx/2.jpg\n');
    const fromFile = await scanInputs({ kind: 'list', path: list });
    const fromPaths = await scanInputs({ kind: 'paths', paths: ['x/1.jpg', 'x/2.jpg'] });
    const swapped = await scanInputs({ kind: 'paths', paths: ['x/2.jpg', 'x/1.jpg'] });
    expect(fromFile).toEqual(fromPaths);
    expect(fromFile.count).toBe(2);
    expect(swapped.hash).not.toBe(fromFile.hash);
  });

  it(
    'refuses, naming the list line, a file name whose GalaxyID would break a CSV row or ' + 'inject a formula',
    async () => {
      for (const bad of [
        'dir/=HYPERLINK(1).jpg',
        'a,b.jpg',
        'x/"q".jpg',
        '+1.jpg',
        '-2.jpg',
        '@sum.jpg',
        'tab\there.jpg',
      ]) {
        const list = join(work, 'bad.txt');
        writeFileSync(list, `ok/1.jpg\n${bad}\n`);
        const error = await scanInputs({ kind: 'list', path: list }).catch((e: unknown) => e);
        expect(error, bad).toBeInstanceOf(InputError);
        expect((error as Error).message).toContain(`${list}: line 2:`);
      }
      expect((await scanInputs({ kind: 'list', path: join(work, 'bad.txt') }, { checkIds: false })).count).toBe(2);
    },
  );

  it(
    'refuses a GalaxyID listed twice, naming both lines (blank ' + 'lines counted) and both paths; --json takes it',
    async () => {
      const list = join(work, 'dup.txt');
      writeFileSync(list, 'a/100008.jpg\n\nb/100023.jpg\nc/100053.jpg\r\n\nother/100023.jpeg\nd/100078.jpg\n');
      const error = await scanInputs({ kind: 'list', path: list }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toBe(
        `${list}: line 6: other/100023.jpeg: GalaxyID 100023 is already on line 3 (b/100023.jpg); the CSV ` +
          `gives each galaxy one row: list each image once (or use --json)`,
      );
      expect((await scanInputs({ kind: 'list', path: list }, { checkIds: false })).count).toBe(5);
      // the same ids without the repeat pass
      writeFileSync(list, 'a/100008.jpg\nb/100023.jpg\nc/100053.jpg\nd/100078.jpg\n');
      expect((await scanInputs({ kind: 'list', path: list })).count).toBe(4);
    },
  );

  it('finds the one repeated id among 300,000 listed galaxies', async () => {
    const list = join(work, 'big.txt');
    const ids = Array.from({ length: 300_000 }, (_, i) => `images/${587722981741363294n + BigInt(i * 7919)}.jpg`);
    writeFileSync(list, `${ids.join('\n')}\n`);
    expect((await scanInputs({ kind: 'list', path: list })).count).toBe(300_000);
    writeFileSync(list, `${ids.join('\n')}\nelsewhere/${587722981741363294n + BigInt(123_456 * 7919)}.jpg\n`);
    await expect(scanInputs({ kind: 'list', path: list })).rejects.toThrow(
      /line 300001: .* is already on line 123457 /,
    );
  });

  it('a missing list is an input error; images and a list together are refused', async () => {
    await expect(scanInputs({ kind: 'list', path: join(work, 'none.txt') })).rejects.toThrow(
      /cannot read the input list: ENOENT/,
    );
    await expect(resolveInputSource(['a.jpg'], 'l.txt')).rejects.toThrow(/not both/);
    await expect(resolveInputSource([], undefined)).rejects.toThrow(/no inputs/);
  });
});
