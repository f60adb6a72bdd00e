import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  D4_ELEMENTS,
  D4_IDENTITY,
  type D4Element,
  applyAllD4,
  applyD4,
  composeD4,
  d4Equals,
  d4Index,
  d4SourceMatrix,
  d4Table,
  inverseD4,
} from '../../src/augment/d4.js';
import { distinctImages, expectD4Composes, useCpu } from './helpers.js';

beforeAll(useCpu);

const R: D4Element = { rotations: 1, flip: false };
const F: D4Element = { rotations: 0, flip: true };

/** Reference: the element's pixel map written out from its definition (mirror, then r CCW turns). */
function reference(x: number[][], e: D4Element): number[][] {
  let y = e.flip ? x.map((row) => [...row].reverse()) : x.map((row) => [...row]);
  for (let k = 0; k < e.rotations; k++) {
    const n = y.length,
      m = y[0].length;
    // CCW: out[i][j] = in[j][m-1-i]
    y = Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => y[j][m - 1 - i]));
  }
  return y;
}

const elementArb = fc.integer({ min: 0, max: 7 }).map((i) => D4_ELEMENTS[i]);

describe('D4 group table', () => {
  it('has 8 distinct elements with identity first', () => {
    expect(D4_ELEMENTS).toHaveLength(8);
    expect(new Set(D4_ELEMENTS.map(d4Index)).size).toBe(8);
    expect(D4_IDENTITY).toEqual({ rotations: 0, flip: false });
  });

  it('is a group: identity, inverses, associativity, Latin square', () => {
    const table = d4Table();
    for (const row of table) expect(new Set(row).size).toBe(8);
    for (let j = 0; j < 8; j++) expect(new Set(table.map((r) => r[j])).size).toBe(8);
    for (const a of D4_ELEMENTS) {
      expect(composeD4(D4_IDENTITY, a)).toEqual(a);
      expect(composeD4(a, D4_IDENTITY)).toEqual(a);
      expect(composeD4(a, inverseD4(a))).toEqual(D4_IDENTITY);
      expect(composeD4(inverseD4(a), a)).toEqual(D4_IDENTITY);
      for (const b of D4_ELEMENTS)
        for (const c of D4_ELEMENTS) {
          expect(d4Equals(composeD4(composeD4(a, b), c), composeD4(a, composeD4(b, c)))).toBe(true);
        }
    }
  });

  it('satisfies the dihedral relations R⁴ = F² = 1, F R F = R⁻¹ and is non-abelian', () => {
    const r2 = composeD4(R, R);
    expect(composeD4(r2, r2)).toEqual(D4_IDENTITY);
    expect(composeD4(F, F)).toEqual(D4_IDENTITY);
    expect(composeD4(composeD4(F, R), F)).toEqual(inverseD4(R));
    expect(d4Equals(composeD4(R, F), composeD4(F, R))).toBe(false);
  });

  it('source matrices form the same group (matrix product = composition)', () => {
    const mul = (a: number[], b: number[]) =>
      [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]].map(
        (v) => v + 0,
      );
    // out(p) = (a∘b)(x)(p) = b(x)(A p) = x(B A p): lookup matrices compose in reverse order.
    for (const a of D4_ELEMENTS)
      for (const b of D4_ELEMENTS) {
        expect(d4SourceMatrix(composeD4(a, b))).toEqual(mul(d4SourceMatrix(b), d4SourceMatrix(a)));
      }
  });
});

describe('applyD4 on tensors', () => {
  it('matches the written-out pixel map for every element (non-square, multi-channel)', () => {
    const x = distinctImages(2, 3, 5, 2);
    const arr = x.arraySync();
    for (const e of D4_ELEMENTS) {
      const y = applyD4(x, e);
      const got = y.arraySync();
      for (let b = 0; b < 2; b++)
        for (let ch = 0; ch < 2; ch++) {
          const plane = arr[b].map((row) => row.map((px) => px[ch]));
          const gotPlane = got[b].map((row) => row.map((px) => px[ch]));
          expect(gotPlane).toEqual(reference(plane, e));
        }
      y.dispose();
    }
    x.dispose();
  });

  it('every element is an exact permutation of pixels (distinct values; whole pixels move)', () => {
    const x = distinctImages(1, 6, 6, 3);
    const src = Array.from(x.dataSync());
    for (const e of D4_ELEMENTS) {
      const y = applyD4(x, e);
      const out = Array.from(y.dataSync());
      expect([...out].sort((p, q) => p - q)).toEqual([...src].sort((p, q) => p - q));
      // channel vectors stay together: each output pixel is some input pixel (values 3k, 3k+1, 3k+2)
      for (let i = 0; i < out.length; i += 3) {
        expect(out[i] % 3).toBe(0);
        expect(out[i + 1]).toBe(out[i] + 1);
        expect(out[i + 2]).toBe(out[i] + 2);
      }
      y.dispose();
    }
    x.dispose();
  });

  it('preserves the multiset of values on arbitrary images', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }),
        elementArb,
        (vals, e) => {
          const x = tf.tensor4d(vals, [1, 4, 4, 1]);
          const y = applyD4(x, e);
          const sorted = (a: ArrayLike<number>) => Array.from(a).sort((p, q) => p - q);
          const ok = JSON.stringify(sorted(y.dataSync())) === JSON.stringify(sorted(vals));
          tf.dispose([x, y]);
          return ok;
        },
      ),
      { numRuns: 40 },
    );
  });

  it('composition table matches applying in sequence (all 64 pairs)', () => {
    expectD4Composes(distinctImages(2, 4, 4, 1));
  });

  it('inverses undo, four 90° turns and two mirrors are the identity', () => {
    const x = distinctImages(2, 5, 5, 3);
    const ref = Array.from(x.dataSync());
    for (const e of D4_ELEMENTS) {
      const back = tf.tidy(() => applyD4(applyD4(x, e), inverseD4(e)));
      expect(Array.from(back.dataSync())).toEqual(ref);
      back.dispose();
    }
    const four = tf.tidy(() => applyD4(applyD4(applyD4(applyD4(x, R), R), R), R));
    const two = tf.tidy(() => applyD4(applyD4(x, F), F));
    expect(Array.from(four.dataSync())).toEqual(ref);
    expect(Array.from(two.dataSync())).toEqual(ref);
    const once = applyD4(x, R);
    expect(Array.from(once.dataSync())).not.toEqual(ref);
    tf.dispose([four, two, once, x]);
  });

  it('the identity returns a new tensor and applyAllD4 gives 8 distinct views', () => {
    const x = distinctImages(1, 4, 4, 1);
    const id = applyD4(x, D4_IDENTITY);
    expect(id).not.toBe(x);
    x.dispose();
    expect(id.isDisposed).toBe(false);
    const all = applyAllD4(id);
    expect(new Set(all.map((t) => Array.from(t.dataSync()).join(','))).size).toBe(8);
    tf.dispose([id, ...all]);
  });

  it('leaks no tensors', () => {
    const x = distinctImages(1, 4, 4, 1);
    const before = tf.memory().numTensors;
    for (const e of D4_ELEMENTS) applyD4(x, e).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rejects bad elements', () => {
    const x = distinctImages(1, 2, 2, 1);
    expect(() => applyD4(x, { rotations: 4 as 0, flip: false })).toThrow(/rotations/);
    x.dispose();
  });
});
