/**
 * The image folder of an ingest gives, for any listing order, what the sorted listing ingest used
 * to build gave: each asset's file (the last in sorted order when several share a name), the
 * claims, and the unclaimed files in sorted-listing order.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageFolder } from '../../src/data/image-folder.js';

/** The listing ingest built before: the sorted names, the last file of an asset winning. */
function sortedListing(names: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of [...names].sort()) {
    const ext = extname(file).toLowerCase();
    if (ext === '.jpg' || ext === '.jpeg') files.set(file.slice(0, -ext.length), file);
  }
  return files;
}

/**
 * File names crafted to collide: a few stems, JPEG extensions in any case, other extensions, dots
 * (`1.b.jpg` sorts between `1.JPG` and `1.jpg`).
 */
const names = fc.uniqueArray(
  fc
    .tuple(
      fc.constantFrom('1', '12', '123', '1.2', '1.b', '1.jpg', 'a', 'A', 'b.X', '12.3', ''),
      fc.constantFrom('.jpg', '.JPG', '.jpeg', '.Jpeg', '.png', '.jpg.txt', '', '.jpg '),
    )
    .map(([stem, ext]) => stem + ext)
    .filter((n) => n !== ''),
  { maxLength: 40 },
);

describe('image folder', () => {
  it('gives the files, claims and orphans of the sorted listing, whatever the listing order', () => {
    fc.assert(
      fc.property(
        names,
        fc.array(fc.constantFrom('1', '12', '123', '1.2', 'a', 'A', 'b.X', 'nope', '1.jpg'), { maxLength: 12 }),
        fc.integer(),
        (listed, claims, seed) => {
          const shuffled = fc.sample(fc.shuffledSubarray(listed, { minLength: listed.length }), {
            seed,
            numRuns: 1,
          })[0];
          const expected = sortedListing(listed);
          const folder = new ImageFolder('/data/images', shuffled);
          expect(folder.size).toBe(expected.size);
          const claimed = new Set<string>();
          for (const asset of claims) {
            expect(folder.claim(asset)).toBe(expected.get(asset));
            claimed.add(asset);
          }
          const orphans = [...expected].filter(([asset]) => !claimed.has(asset));
          expect(folder.unclaimed()).toEqual(orphans.map(([asset, file]) => ({ asset, file })));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('joins paths as path.join does for a normalised folder, the root included', () => {
    expect(new ImageFolder('/data/images', []).path('1.jpg')).toBe('/data/images/1.jpg');
    expect(new ImageFolder('/', []).path('1.jpg')).toBe('/1.jpg');
  });

  const work = mkdtempSync(join(tmpdir(), 'gzh-image-folder-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('lists a folder on disk', async () => {
    for (const name of ['2.jpg', '1.JPEG', 'notes.txt', '3.png']) writeFileSync(join(work, name), '');
    const folder = await ImageFolder.list(work);
    expect(folder.size).toBe(2);
    expect(folder.claim('2')).toBe('2.jpg');
    expect(folder.unclaimed()).toEqual([{ asset: '1', file: '1.JPEG' }]);
  });
});
