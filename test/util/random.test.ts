import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/util/random.js';

describe('Random', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = new Random(seed);
        const b = new Random(seed);
        const c = new Random(seed + 1);
        const first = Array.from({ length: 8 }, () => a.nextUint32());
        expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(first);
        expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(first);
      }),
    );
  });

  it('derives independent, reproducible streams from labels', () => {
    const draw = (r: Random) => Array.from({ length: 4 }, () => r.next());
    expect(draw(Random.derive(7, 'epoch', 3))).toEqual(draw(Random.derive(7, 'epoch', 3)));
    expect(draw(Random.derive(7, 'epoch', 3))).not.toEqual(draw(Random.derive(7, 'epoch', 4)));
    // Label boundaries matter: ('ab', 'c') is not ('a', 'bc').
    expect(draw(Random.derive(7, 'ab', 'c'))).not.toEqual(draw(Random.derive(7, 'a', 'bc')));
  });

  it('keeps draws in range and permutations complete', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 200 }), (seed, n) => {
        const r = new Random(seed);
        for (let i = 0; i < 50; i++) {
          const u = r.next();
          expect(u).toBeGreaterThanOrEqual(0);
          expect(u).toBeLessThan(1);
          const k = r.int(-3, 5);
          expect(k).toBeGreaterThanOrEqual(-3);
          expect(k).toBeLessThanOrEqual(5);
        }
        expect([...r.permutation(n)].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it('draws normal, categorical and Poisson values with the right means', () => {
    const r = new Random(123);
    const n = 20_000;
    let normal = 0;
    let small = 0;
    let large = 0;
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      normal += r.normal(2, 3);
      small += r.poisson(2.5);
      large += r.poisson(40);
      counts[r.categorical([1, 0, 3])]++;
    }
    expect(normal / n).toBeCloseTo(2, 1);
    expect(small / n).toBeCloseTo(2.5, 1);
    expect(Math.abs(large / n - 40)).toBeLessThan(0.3);
    expect(counts[1]).toBe(0);
    expect(counts[2] / n).toBeCloseTo(0.75, 1);
    expect(r.poisson(0)).toBe(0);
    expect(() => r.categorical([0, 0])).toThrow(/positive weight/);
  });
});
