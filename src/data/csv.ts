import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';
import { CsvRecords } from './csv-records.js';

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
        for await (const records of recordBatches(path, onBytes)) {
          for (const values of records) {
            if (line++ === 0) continue; // header
            yield { line: line - 1, values };
          }
        }
      } catch (error) {
        throw readError(path, error, line);
      }
    },
  };
}

/** The file's records, a chunk's worth at a time (64 kB reads). */
async function* recordBatches(path: string, onBytes?: (n: number) => void): AsyncGenerator<string[][]> {
  const input = createReadStream(path, { highWaterMark: 1 << 16 });
  if (onBytes) input.on('data', (chunk) => onBytes(chunk.length));
  let source: NodeJS.ReadableStream = input;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    input.on('error', (error) => gunzip.destroy(error));
    source = input.pipe(gunzip);
  }
  const decoder = new StringDecoder('utf8');
  const parser = new CsvRecords();
  try {
    for await (const chunk of source) {
      const records = parser.push(decoder.write(chunk as Buffer));
      if (records.length > 0) yield records;
    }
    const rest = [...parser.push(decoder.end()), ...parser.end()];
    if (rest.length > 0) yield rest;
  } finally {
    input.destroy();
  }
}

async function readHeader(path: string): Promise<string[]> {
  try {
    for await (const records of recordBatches(path)) return records[0];
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
