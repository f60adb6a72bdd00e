/**
 * A shard's part file: what one `gzh predict --shard i/N` wrote, complete or absent. It is
 * written through AtomicFileWriter, so a killed task leaves no part (only a hidden temporary),
 * and it says which shard of which input list, predicted by which model, it holds, so a part
 * left from another list or model is never gathered.
 *
 * Layout (UTF-8 lines):
 *   #gzh-part {"format":1,"inputs":"<sha256>","total":L,"shard":i,"shards":N,"start":s,"end":e,"model":"<key>"}
 *   one line per input of [s, e), in input order: a Kaggle CSV row, or `!{"source","kind","reason"}`
 *   #end {"rows":r,"failed":f}
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { CorruptArtifactError } from '../errors.js';
import { AtomicFileWriter } from '../util/atomic.js';

export const PART_FORMAT = 1;
const HEAD = '#gzh-part ';
const END = '#end ';

/** Identity of a part: the shard, the input list it is a shard of, and the model. */
export interface PartMeta {
  readonly format: number;
  /** sha256 of the input paths in order (`scanInputs`). */
  readonly inputs: string;
  /** Number of inputs in the whole list. */
  readonly total: number;
  readonly shard: number;
  readonly shards: number;
  readonly start: number;
  readonly end: number;
  /** `predictionKey` of the model, test-time augmentation and preprocessing. */
  readonly model: string;
}

export interface PartFailure {
  readonly source: string;
  readonly kind: string;
  readonly reason: string;
}

export type PartLine = { readonly row: string } | { readonly failure: PartFailure };

/** Writes one part; nothing appears at `path` unless `commit` is reached. */
export class PartWriter {
  private rows = 0;
  private failed = 0;
  private buffer = '';

  private constructor(private readonly file: AtomicFileWriter) {}

  static async open(path: string, meta: PartMeta): Promise<PartWriter> {
    const writer = new PartWriter(await AtomicFileWriter.open(path));
    writer.buffer = `${HEAD}${JSON.stringify(meta)}\n`;
    return writer;
  }

  async row(csvRow: string): Promise<void> {
    this.rows++;
    await this.append(`${csvRow}\n`);
  }

  async failure(failure: PartFailure): Promise<void> {
    this.failed++;
    await this.append(`!${JSON.stringify({ source: failure.source, kind: failure.kind, reason: failure.reason })}\n`);
  }

  /** Writes the end line, flushes and renames the part into place. */
  async commit(): Promise<{ rows: number; failed: number }> {
    await this.append(`${END}${JSON.stringify({ rows: this.rows, failed: this.failed })}\n`, true);
    await this.file.commit();
    return { rows: this.rows, failed: this.failed };
  }

  /** Removes the temporary file; no part appears. */
  abort(): Promise<void> {
    return this.file.abort();
  }

  private async append(text: string, flush = false): Promise<void> {
    this.buffer += text;
    if (flush || this.buffer.length >= 1 << 16) {
      const out = this.buffer;
      this.buffer = '';
      await this.file.write(out);
    }
  }
}

function corrupt(path: string, problem: string): CorruptArtifactError {
  return new CorruptArtifactError(
    path,
    problem,
    'Delete it and run the sharded predict again; the shard is predicted anew',
  );
}

/** The identity line of a part file (reads only its first line); null when it is absent. */
export async function readPartMeta(path: string): Promise<PartMeta | null> {
  let stream;
  try {
    stream = createReadStream(path, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => stream!.once('open', () => resolve()).once('error', reject));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) return parseHead(path, line);
    throw corrupt(path, 'empty part file');
  } finally {
    lines.close();
    stream.destroy();
  }
}

function parseHead(path: string, line: string): PartMeta {
  if (!line.startsWith(HEAD)) throw corrupt(path, 'not a gzh predict part file (no "#gzh-part" line)');
  try {
    const meta = JSON.parse(line.slice(HEAD.length)) as PartMeta;
    if (meta.format !== PART_FORMAT) throw new Error(`format ${String(meta.format)}, this build reads ${PART_FORMAT}`);
    return meta;
  } catch (error) {
    throw corrupt(path, `unreadable part header: ${(error as Error).message}`);
  }
}

/**
 * The lines of a part, in order, after checking its header against `expected`; checks at the end
 * that it holds exactly one line per input of its range and its end line (a truncated or edited
 * part is refused, naming the file).
 */
export async function* readPart(path: string, expected: PartMeta): AsyncGenerator<PartLine> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let head: PartMeta | null = null;
  let count = 0;
  let ended = false;
  for await (const line of lines) {
    if (head === null) {
      head = parseHead(path, line);
      const differs = (Object.keys(expected) as Array<keyof PartMeta>).find((k) => head![k] !== expected[k]);
      if (differs)
        throw corrupt(
          path,
          `belongs to another run: ${differs} is ${JSON.stringify(head[differs])}, expected ` +
            `${JSON.stringify(expected[differs])}`,
        );
      continue;
    }
    if (ended) throw corrupt(path, 'lines after the end line');
    if (line.startsWith(END)) {
      ended = true;
      continue;
    }
    count++;
    if (line.startsWith('!')) yield { failure: JSON.parse(line.slice(1)) as PartFailure };
    else yield { row: line };
  }
  if (head === null) throw corrupt(path, 'empty part file');
  if (!ended) throw corrupt(path, 'no end line (truncated)');
  if (count !== expected.end - expected.start)
    throw corrupt(path, `holds ${count} inputs, its range has ${expected.end - expected.start}`);
}
