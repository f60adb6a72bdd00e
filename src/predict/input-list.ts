/**
 * The inputs of a prediction, streamed: a list file (one image path per line) or the images and
 * directories named on the command line. A list is never held whole: it is read line by line,
 * once to count and fingerprint it, and again for each range a shard predicts, so memory does not
 * grow with the catalogue.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError } from '../errors.js';
import { checkGalaxyId, galaxyId, listImages } from '../ensemble/kaggle.js';
import { IdSet } from './id-set.js';

/** Where the inputs come from. */
export type InputSource =
  { readonly kind: 'list'; readonly path: string } | { readonly kind: 'paths'; readonly paths: readonly string[] };

/** One input and its 0-based position in the input order. */
export interface InputEntry {
  readonly index: number;
  readonly path: string;
  /** Its line in the list file (1-based, blank lines counted), for a list. */
  readonly line?: number;
}

/** What one pass over the inputs learns: how many there are and a fingerprint of their order. */
export interface InputScan {
  readonly count: number;
  /** sha256 (hex) of the paths in order, each followed by a newline. */
  readonly hash: string;
}

/**
 * The paths of a list file, in order: one per line; blank lines are skipped, a trailing `\r` is
 * dropped (Windows line ends), everything else (spaces included) is part of the path.
 */
export async function* readListFile(path: string): AsyncGenerator<string> {
  for await (const { path: p } of readListLines(path)) yield p;
}

/** The paths of a list file with their line numbers (1-based, blank lines counted). */
async function* readListLines(path: string): AsyncGenerator<{ line: number; path: string }> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
  try {
    await opened;
  } catch (error) {
    throw new InputError(
      `${path}: cannot read the input list: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const raw of lines) {
      n++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() !== '') yield { line: n, path: line };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Every input in order, with its index. */
export async function* inputEntries(source: InputSource): AsyncGenerator<InputEntry> {
  let index = 0;
  if (source.kind === 'paths') {
    for (const path of source.paths) yield { index: index++, path };
    return;
  }
  for await (const { line, path } of readListLines(source.path)) yield { index: index++, path, line };
}

/** The inputs with index in [start, end), in order; stops reading at `end`. */
export async function* inputRange(source: InputSource, start: number, end: number): AsyncGenerator<InputEntry> {
  if (end <= start) return;
  for await (const entry of inputEntries(source)) {
    if (entry.index >= end) return;
    if (entry.index >= start) yield entry;
  }
}

/**
 * The earlier line of a list that gives the GalaxyID `id` (read again from the start), or
 * undefined when none does (two ids that share a hash).
 */
async function earlierLine(
  list: string,
  id: string,
  before: number,
): Promise<{ line: number; path: string } | undefined> {
  for await (const entry of readListLines(list)) {
    if (entry.line >= before) return undefined;
    if (galaxyId(entry.path) === id) return entry;
  }
  return undefined;
}

/** Checks one list entry's GalaxyID: writable into a CSV row, and (for a list) not on an earlier line. */
async function checkEntry(source: InputSource, entry: InputEntry, seen: IdSet): Promise<void> {
  const id = galaxyId(entry.path);
  const where = source.kind === 'list' ? `${source.path}: line ${entry.line}: ` : '';
  const problem = checkGalaxyId(id);
  if (problem) throw new InputError(`${where}${entry.path}: ${problem}`);
  if (source.kind !== 'list' || !seen.add(id)) return;
  const first = await earlierLine(source.path, id, entry.line!);
  if (first) {
    throw new InputError(
      `${where}${entry.path}: GalaxyID ${id} is already on line ${first.line} (${first.path}); the CSV ` +
        `gives each galaxy one row: list each image once (or use --json)`,
    );
  }
}

/**
 * One streamed pass: counts the inputs, fingerprints their order and checks that each file name
 * gives a GalaxyID that can be written into a CSV row (`checkGalaxyId`) and, in a list file, that
 * no GalaxyID comes twice (in bounded memory: `IdSet`), naming the list lines, before any image
 * is predicted.
 */
export async function scanInputs(source: InputSource, options: { checkIds?: boolean } = {}): Promise<InputScan> {
  const hash = createHash('sha256');
  const seen = new IdSet();
  let count = 0;
  for await (const entry of inputEntries(source)) {
    const { index, path } = entry;
    if (options.checkIds !== false) await checkEntry(source, entry, seen);
    hash.update(path);
    hash.update('\n');
    count = index + 1;
  }
  return { count, hash: hash.digest('hex') };
}

/** The input source of `gzh predict`: a list file, or image files and directories expanded now. */
export async function resolveInputSource(images: readonly string[], list: string | undefined): Promise<InputSource> {
  if (list !== undefined) {
    if (images.length > 0) throw new InputError('give images and directories, or --list <file>, not both');
    return { kind: 'list', path: list };
  }
  if (images.length === 0) throw new InputError('no inputs: give image files or directories, or --list <file>');
  return { kind: 'paths', paths: await listImages(images) };
}
