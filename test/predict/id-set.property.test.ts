import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdSet } from '../../src/predict/id-set.js';

describe('IdSet', () => {
  it('says "seen" exactly for ids added before, whatever the ids and their order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.bigInt({ min: 0n, max: 10n ** 19n }).map(String)), {
          maxLength: 300,
        }),
        (ids) => {
          const set = new IdSet();
          const seen = new Set<string>();
          for (const id of ids) {
            expect(set.add(id)).toBe(seen.has(id));
            seen.add(id);
          }
          expect(set.size).toBe(seen.size);
        },
      ),
    );
  });

  it('stays at most 3/4 full with 8 bytes a slot as it grows: 1 M ids in 2^21 slots (16.8 MB)', () => {
    const set = new IdSet();
    let repeats = 0;
    for (let i = 0; i < 1_000_000; i++) if (set.add(String(587722981741363294n + BigInt(i)))) repeats++;
    expect(repeats).toBe(0);
    expect(set.size).toBe(1_000_000);
    expect(set.bytes).toBe(2 ** 21 * 8);
    expect(set.add('587722981741363294')).toBe(true);
  });
});
