import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkGalaxyId, kaggleCsvRow } from '../../src/ensemble/kaggle.js';
import { NonFiniteError } from '../../src/errors.js';
import { ANSWER_COUNT } from '../../src/questions/index.js';

const values = new Float32Array(ANSWER_COUNT).fill(0.25);

describe('Kaggle CSV rows', () => {
  it(
    'any GalaxyID is either refused or gives a row of exactly 38 cells whose first is the id and is never a ' +
      'formula',
    () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'grapheme', maxLength: 12 }),
          fc.constantFrom('', '=', '+', '-', '@', ',', '"', '\n', '\r', '\t'),
          (tail, lead) => {
            const id = `${lead}${tail}`;
            const problem = checkGalaxyId(id);
            if (problem !== null) {
              expect(() => kaggleCsvRow(id, values)).toThrow(RangeError);
              return;
            }
            const line = kaggleCsvRow(id, values);
            const rows = parse(`${line}\n`, { relax_quotes: false }) as string[][];
            expect(rows).toHaveLength(1);
            expect(rows[0]).toHaveLength(1 + ANSWER_COUNT);
            expect(rows[0][0]).toBe(id);
            expect(/^[=+\-@]/.test(rows[0][0])).toBe(false);
          },
        ),
        { numRuns: 2000 },
      );
    },
  );

  it('refuses the characters that break rows and the spreadsheet formula prefixes, accepts ordinary ids', () => {
    for (const bad of ['', 'a,b', 'a"b', 'a\nb', 'a\rb', 'a\tb', '=1+1', '+1', '-1', '@A1', 'x\u0000'])
      expect(checkGalaxyId(bad), JSON.stringify(bad)).not.toBeNull();
    for (const good of ['100008', 'J123456.78+012345.6', 'gal_1', 'a=b', 'x-1'])
      expect(checkGalaxyId(good), good).toBeNull();
  });

  it('never writes a NaN or infinite value', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const v = Float32Array.from(values);
      v[7] = bad;
      expect(() => kaggleCsvRow('1', v)).toThrow(NonFiniteError);
    }
  });
});
