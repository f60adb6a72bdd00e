/**
 * The CSV record parser gives csv-parse's records (with the options ingest used it with: trim, BOM,
 * blank lines skipped, any column count) for any table and any split of the text into chunks, and
 * names malformed quoting.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvRecords } from '../../src/data/csv-records.js';
import { openCsv } from '../../src/data/csv.js';

const work = mkdtempSync(join(tmpdir(), 'gzh-csv-records-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const REFERENCE = { relax_column_count: true, skip_empty_lines: true, bom: true, trim: true } as const;

/** A field: plain text, or text with commas, quotes, line breaks and padding that needs quoting. */
const field = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{0,8}$/),
  fc.stringMatching(/^[ A-Za-z0-9.,"\n-]{0,10}$/).map((s) => ({ quoted: s })),
  fc.stringMatching(/^[A-Za-z0-9.]{1,6}$/).map((s) => ` ${s}  `),
);
type Field = string | { quoted: string };
const cell = (f: Field) => (typeof f === 'string' ? f : ` "${f.quoted.replace(/"/g, '""')}" `);

function parseChunks(text: string, cuts: number[]): string[][] {
  const parser = new CsvRecords();
  const out: string[][] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(...parser.push(text.slice(start, Math.max(start, cut))));
    start = Math.max(start, cut);
  }
  out.push(...parser.push(text.slice(start)), ...parser.end());
  return out;
}

describe('CsvRecords', () => {
  it('equals csv-parse for any table, line ending, BOM and chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.nat({ max: 400 }), { maxLength: 6 }),
        (rows, eol, bom, cuts) => {
          const lines = rows.map((r) => r.map(cell).join(',')).filter((l) => l.trim() !== '');
          const text = `${bom ? '\uFEFF' : ''}${lines.join(eol)}${eol}${eol}`;
          expect(parseChunks(text, cuts)).toEqual(parse(text, REFERENCE));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a quote left open, text after a closing quote and a quote inside a plain field are syntax errors', () => {
    expect(() => parseChunks('a,b\n1,"open\n', [])).toThrow(/not closed/);
    expect(() => parseChunks('a,"b"c\n', [])).toThrow(/after a closing quote/);
    expect(() => parseChunks('a,b"c\n', [])).toThrow(/inside an unquoted field/);
  });

  it('openCsv reads plain and gzipped files alike and names a malformed one', async () => {
    const text = 'GalaxyID,Class1.1\n1, 0.5\n\n2,"0.25"\n';
    writeFileSync(join(work, 'a.csv'), text);
    writeFileSync(join(work, 'a.csv.gz'), gzipSync(text));
    for (const name of ['a.csv', 'a.csv.gz']) {
      const table = await openCsv(join(work, name));
      const rows = [];
      for await (const row of table.rows()) rows.push(row);
      expect(table.header).toEqual(['GalaxyID', 'Class1.1']);
      expect(rows).toEqual([
        { line: 1, values: ['1', '0.5'] },
        { line: 2, values: ['2', '0.25'] },
      ]);
    }
    writeFileSync(join(work, 'bad.csv'), 'a,b\n1,"2\n');
    const bad = await openCsv(join(work, 'bad.csv'));
    await expect(
      (async () => {
        for await (const row of bad.rows()) void row;
      })(),
    ).rejects.toThrow(/bad\.csv: malformed CSV after 1 record/);
  });
});
