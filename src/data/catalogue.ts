import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CorruptArtifactError, InputError } from '../errors.js';
import { installFileSync, tempSibling } from '../util/atomic.js';
import { ANSWER_COUNT, TREE_VERSION } from '../questions/index.js';
import type { SplitName } from './batch.js';

/**
 * The galaxy catalogue: one SQLite file with
 * - `galaxies`: id, source, image path (absolute, NULL for label-only catalogues), GZ2 class when
 *   the source has one, stratification class, split, 37 conditional and 37 cumulative targets and
 *   37 vote counts (NULL when unknown) as little-endian float32 BLOBs, and the source row number;
 * - `rejections`: every input row or image that did not become a galaxy, with its reason;
 * - `meta`: how the catalogue was made (source, value kind, conventions, split seed and ratios…).
 * It is written row by row into a temporary file (in transactions of a few thousand rows) and
 * renamed over the old one when complete, so a killed ingest leaves the previous catalogue untouched.
 */
export const CATALOGUE_SCHEMA_VERSION = '1';

/** Why a row or an image was left out of a catalogue. */
export type RejectionReason =
  | 'duplicate-id'
  | 'invalid-value'
  | 'tree-violation'
  | 'no-image-mapping'
  | 'missing-image'
  | 'corrupt-image'
  | 'orphan-image';

/** A row or image left out of a catalogue, and why. */
export interface Rejection {
  /** 1-based data row in the labels file (header excluded); null for an image without a row. */
  readonly row: number | null;
  /** GalaxyID, when known. */
  readonly galaxyId: string | null;
  /** Why it was left out. */
  readonly reason: RejectionReason;
  /** What exactly was wrong, e.g. the question whose sum is off. */
  readonly detail: string;
}

/** One galaxy of a catalogue: its labels in both conventions, its split and its image. */
export interface GalaxyRecord {
  /** GalaxyID. */
  readonly id: string;
  /** Which data set it comes from (kaggle, gz2). */
  readonly source: string;
  /** Its image file, or null for a labels-only catalogue. */
  readonly imagePath: string | null;
  /** GZ2 morphology class (gz2_class), when the data has one. */
  readonly gz2Class: string | null;
  /** The class the split is stratified by. */
  readonly stratClass: string;
  /** The split it belongs to. */
  readonly split: SplitName;
  /** 37 conditional (GZ2-convention) vote fractions. */
  readonly conditional: Float32Array;
  /** 37 cumulative (Kaggle-convention) vote fractions. */
  readonly cumulative: Float32Array;
  /** 37 vote counts, when the data has them. */
  readonly counts: Float32Array | null;
  /** 1-based data row in the labels file. */
  readonly row: number;
}

export interface CatalogueContents {
  readonly galaxies: readonly GalaxyRecord[];
  readonly rejections: readonly Rejection[];
  readonly meta: Readonly<Record<string, string>>;
}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE galaxies (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  image_path TEXT,
  gz2_class TEXT,
  strat_class TEXT NOT NULL,
  split TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test')),
  cond BLOB NOT NULL,
  cum BLOB NOT NULL,
  counts BLOB,
  source_row INTEGER NOT NULL
);
CREATE TABLE rejections (
  seq INTEGER PRIMARY KEY,
  source_row INTEGER,
  galaxy_id TEXT,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL
);
`;

function blob(values: Float32Array): Buffer {
  if (values.length !== ANSWER_COUNT) throw new RangeError(`expected ${ANSWER_COUNT} values, got ${values.length}`);
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function floats(buffer: Buffer): Float32Array {
  const copy = new Float32Array(buffer.byteLength / 4);
  new Uint8Array(copy.buffer).set(buffer);
  return copy;
}

/** Columns every table of a catalogue must have (checked when one is opened). */
const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  meta: ['key', 'value'],
  galaxies: ['id', 'source', 'image_path', 'gz2_class', 'strat_class', 'split', 'cond', 'cum', 'counts', 'source_row'],
  rejections: ['seq', 'source_row', 'galaxy_id', 'reason', 'detail'],
};

const REPAIR = 'Run `gzh ingest` again (`gzh run` rebuilds its cached catalogues by itself)';

/** Built after the rows are in (and their splits set): cheaper than keeping it up to date row by row. */
const INDEXES = 'CREATE INDEX galaxies_split ON galaxies (split, source_row);';
/** Rows written per transaction. */
const ROWS_PER_TRANSACTION = 4096;

/**
 * Writes a complete catalogue atomically: everything goes into a temporary sibling, which is then
 * flushed and renamed over `path`. Re-running with the same input gives the same rows.
 */
export function writeCatalogue(path: string, contents: CatalogueContents): void {
  const writer = CatalogueWriter.open(path);
  try {
    for (const g of contents.galaxies) writer.galaxy(g);
    for (const r of contents.rejections) writer.rejection(r);
    writer.commit(contents.meta);
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** A catalogued galaxy's image: its id and the image file. */
export interface CatalogueImage {
  /** GalaxyID. */
  readonly id: string;
  /** Path of its image file. */
  readonly imagePath: string;
}

/**
 * A catalogue written row by row, for inputs too large to hold: rows go into a temporary sibling of
 * `path` in transactions of {@link ROWS_PER_TRANSACTION}; `commit` renames it over `path`, `abort`
 * (or `cleanStaleTemps` after a crash) removes it. Until `commit`, `path` is untouched.
 */
export class CatalogueWriter {
  private readonly insertGalaxy: Database.Statement;
  private readonly insertRejection: Database.Statement;
  private readonly assignSplit: Database.Statement;
  private galaxies = 0;
  private rejections = 0;
  private pending = 0;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly db: Database.Database,
  ) {
    this.insertGalaxy = db.prepare(
      `INSERT INTO galaxies (id, source, image_path, gz2_class, strat_class, split, cond, cum, counts, source_row)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertRejection = db.prepare(
      'INSERT INTO rejections (source_row, galaxy_id, reason, detail) VALUES (?, ?, ?, ?)',
    );
    this.assignSplit = db.prepare('UPDATE galaxies SET strat_class = ?, split = ? WHERE rowid = ?');
    db.exec('BEGIN');
  }

  /** Starts a catalogue that will replace `path` on commit. */
  static open(path: string): CatalogueWriter {
    const tmp = tempSibling(path);
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.exec(SCHEMA);
      return new CatalogueWriter(path, tmp, db);
    } catch (error) {
      db.close();
      rmSync(tmp, { force: true });
      throw error;
    }
  }

  private step(): void {
    if (++this.pending < ROWS_PER_TRANSACTION) return;
    this.db.exec('COMMIT; BEGIN');
    this.pending = 0;
  }

  /** Adds a galaxy; its stratification class and split may be set later with {@link assign}. */
  galaxy(g: GalaxyRecord): void {
    this.insertGalaxy.run(
      g.id,
      g.source,
      g.imagePath,
      g.gz2Class,
      g.stratClass,
      g.split,
      blob(g.conditional),
      blob(g.cumulative),
      g.counts ? blob(g.counts) : null,
      g.row,
    );
    this.galaxies++;
    this.step();
  }

  rejection(r: Rejection): void {
    this.insertRejection.run(r.row, r.galaxyId, r.reason, r.detail);
    this.rejections++;
    this.step();
  }

  /** Sets the stratification class and split of the `index`-th galaxy added (0-based). */
  assign(index: number, stratClass: string, split: SplitName): void {
    this.assignSplit.run(stratClass, split, index + 1);
    this.step();
  }

  /** Writes the meta table and the indexes, then installs the file at `path`. */
  commit(meta: Readonly<Record<string, string>>): void {
    try {
      const insertMeta = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      const all: Record<string, string> = {
        schema_version: CATALOGUE_SCHEMA_VERSION,
        tree_version: TREE_VERSION,
        ...meta,
        galaxy_count: String(this.galaxies),
        rejection_count: String(this.rejections),
      };
      for (const [key, value] of Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1))) insertMeta.run(key, value);
      this.db.exec(INDEXES);
      this.db.exec('COMMIT');
    } finally {
      this.db.close();
    }
    installFileSync(this.tmp, this.path);
  }

  /** Drops the temporary file; `path` is left as it was. Safe to call after a failed commit. */
  abort(): void {
    if (this.db.open) this.db.close();
    rmSync(this.tmp, { force: true });
  }
}

/** Opens a catalogue read-only and checks it is one: a SQLite database with the catalogue schema. */
function openVerified(path: string): Database.Database {
  if (!existsSync(path)) throw new InputError(`catalogue not found: ${path} (run \`gzh ingest\` first)`);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
      const have = new Set(
        (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name),
      );
      const missing = columns.filter((c) => !have.has(c));
      if (missing.length > 0) {
        throw new CorruptArtifactError(path, `not a catalogue: table ${table} lacks ${missing.join(', ')}`, REPAIR);
      }
    }
    const check = db.prepare('PRAGMA quick_check').pluck().all() as string[];
    if (check.length !== 1 || check[0] !== 'ok')
      throw new CorruptArtifactError(path, `damaged database (${check.slice(0, 3).join('; ')})`, REPAIR);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof CorruptArtifactError) throw error;
    throw new CorruptArtifactError(path, `not a readable catalogue (${(error as Error).message})`, REPAIR, {
      cause: error,
    });
  }
}

/**
 * Whether `path` holds a complete catalogue this version reads (schema, version and SQLite's own
 * check); `problem` says why not. Callers that cache catalogues rebuild the ones that fail.
 */
export function verifyCatalogue(path: string): { ok: true } | { ok: false; problem: string } {
  try {
    new Catalogue(path).close();
    return { ok: true };
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
}

/** A galaxy as read back from a catalogue. */
export interface CatalogueRow extends GalaxyRecord {}

function rowOf(r: Record<string, unknown>): CatalogueRow {
  return {
    id: r.id as string,
    source: r.source as string,
    imagePath: (r.image_path as string | null) ?? null,
    gz2Class: (r.gz2_class as string | null) ?? null,
    stratClass: r.strat_class as string,
    split: r.split as SplitName,
    conditional: floats(r.cond as Buffer),
    cumulative: floats(r.cum as Buffer),
    counts: r.counts ? floats(r.counts as Buffer) : null,
    row: r.source_row as number,
  };
}

/** Read access to a catalogue written by writeCatalogue. */
export class Catalogue {
  private readonly db: Database.Database;

  /**
   * @param path - the catalogue file (SQLite); throws CorruptArtifactError when it is not a catalogue this version
   * reads.
   */
  constructor(readonly path: string) {
    this.db = openVerified(path);
    const version = this.meta().schema_version;
    if (version !== CATALOGUE_SCHEMA_VERSION) {
      this.db.close();
      throw new CorruptArtifactError(
        path,
        `catalogue schema ${version ?? '(none)'}, this version reads ${CATALOGUE_SCHEMA_VERSION}`,
        REPAIR,
      );
    }
  }

  /** The catalogue's meta table: schema version, source files, split seed and ratios, … */
  meta(): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>;
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** Galaxies in the catalogue, or in one split. */
  count(split?: SplitName): number {
    const row = split
      ? (this.db.prepare('SELECT COUNT(*) AS n FROM galaxies WHERE split = ?').get(split) as { n: number })
      : (this.db.prepare('SELECT COUNT(*) AS n FROM galaxies').get() as { n: number });
    return row.n;
  }

  /** Galaxies in source-row order, optionally of one split. */
  galaxies(split?: SplitName): CatalogueRow[] {
    return [...this.iterate(split)];
  }

  /**
   * Galaxies in source-row order, optionally of one split, one at a time: memory does not grow
   * with the catalogue. The catalogue must not be closed before the iteration ends.
   */
  *iterate(split?: SplitName): Generator<CatalogueRow> {
    const sql = `SELECT * FROM galaxies ${split ? 'WHERE split = ?' : ''} ORDER BY source_row`;
    const statement = this.db.prepare(sql);
    const rows = (split ? statement.iterate(split) : statement.iterate()) as IterableIterator<Record<string, unknown>>;
    for (const r of rows) yield rowOf(r);
  }

  /** Id and image path of every galaxy that has an image, in source-row order (no targets read). */
  images(): CatalogueImage[] {
    return this.db
      .prepare('SELECT id, image_path AS imagePath FROM galaxies WHERE image_path IS NOT NULL ORDER BY source_row')
      .all() as CatalogueImage[];
  }

  /** Every rejected row or image, in file order. */
  rejections(): Rejection[] {
    const rows = this.db.prepare('SELECT * FROM rejections ORDER BY seq').all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      row: (r.source_row as number | null) ?? null,
      galaxyId: (r.galaxy_id as string | null) ?? null,
      reason: r.reason as RejectionReason,
      detail: r.detail as string,
    }));
  }

  /** Number of galaxies per (split, stratification class). */
  classCounts(): Array<{
    /** The split. */
    split: SplitName;
    /** A stratification class. */
    stratClass: string;
    /** Galaxies of that class in that split. */
    n: number;
  }> {
    return this.db
      .prepare(
        'SELECT split, strat_class AS stratClass, COUNT(*) AS n FROM galaxies GROUP BY split, strat_class ' +
          'ORDER BY split, strat_class',
      )
      .all() as Array<{ split: SplitName; stratClass: string; n: number }>;
  }

  /** Close the database. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Open a catalogue for reading (throws CorruptArtifactError naming the file when it is damaged). */
export function openCatalogue(path: string): Catalogue {
  return new Catalogue(path);
}
