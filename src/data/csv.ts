import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { InputError } from '../errors.js';

/** A CSV file read as a header plus string rows; `.gz` files are decompressed on the fly. */
export interface CsvTable {
  readonly header: readonly string[];
  /** Rows in file order; `line` is the 1-based data row number (header excluded). */
  rows(): AsyncIterable<{ line: number; values: readonly string[] }>;
}

/** Streams a (possibly gzipped) CSV file without loading it whole; the header is read first. */
export async function openCsv(path: string, onBytes?: (n: number) => void): Promise<CsvTable> {
  const header = await readHeader(path);
  return {
    header,
    async *rows() {
      let line = 0;
      try {
        for await (const record of stream(path, onBytes)) {
          if (line++ === 0) continue; // header
          yield { line: line - 1, values: record as string[] };
        }
      } catch (error) {
        throw readError(path, error, line);
      }
    },
  };
}

function stream(path: string, onBytes?: (n: number) => void): AsyncIterable<unknown> {
  const parser = parse({ relax_column_count: true, skip_empty_lines: true, bom: true, trim: true });
  const input = createReadStream(path);
  if (onBytes) input.on('data', (chunk) => onBytes(chunk.length));
  input.on('error', (error) => parser.destroy(error));
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    gunzip.on('error', (error) => parser.destroy(error));
    input.pipe(gunzip).pipe(parser);
  } else {
    input.pipe(parser);
  }
  return parser;
}

async function readHeader(path: string): Promise<string[]> {
  const parser = stream(path) as AsyncIterable<unknown> & { destroy(): void };
  try {
    for await (const record of parser) {
      parser.destroy();
      return record as string[];
    }
  } catch (error) {
    throw readError(path, error, 0);
  }
  throw new InputError(`${path}: empty CSV file (no header row)`);
}

/** An error reading a CSV file, naming the file and what went wrong (gzip, CSV syntax, I/O). */
function readError(path: string, error: unknown, records: number): Error {
  if (error instanceof InputError) return error;
  const e = error as NodeJS.ErrnoException;
  const what = e.code?.startsWith('Z_')
    ? 'not a readable gzip file'
    : e.code?.startsWith('CSV_')
      ? `malformed CSV after ${records} record(s)`
      : 'cannot read the file';
  return new InputError(`${path}: ${what}: ${e.message ?? String(error)}`, { cause: error });
}

/** Parses a CSV number: empty, "nan", "null" and non-numeric text give NaN. */
export function parseNumber(text: string | undefined): number {
  if (text === undefined) return Number.NaN;
  const t = text.trim();
  if (t === '') return Number.NaN;
  const value = Number(t);
  return Number.isNaN(value) ? Number.NaN : value;
}
