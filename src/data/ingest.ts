import { existsSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { cleanStaleTemps } from '../util/atomic.js';
import { type JpegChecker, createJpegChecker } from './images/jpeg-check-pool.js';
import { ImageFolder } from './image-folder.js';
import { OrderedChecks } from './ordered-checks.js';
import { basename, resolve } from 'node:path';
import {
  ANSWERS,
  ANSWER_COUNT,
  KAGGLE_COLUMNS,
  toConditional,
  toCumulative,
  validateVector,
  type UnreachedPolicy,
} from '../questions/index.js';
import { SilentProgress, type Progress } from '../util/progress.js';
import type { SplitName } from './batch.js';
import { CatalogueWriter, type Rejection, type RejectionReason } from './catalogue.js';
import { openCsv, parseNumber } from './csv.js';
import { DEFAULT_SPLIT_RATIOS, SPLIT_ALGORITHM, type SplitRatios, stratifiedSplit } from './split.js';
import { type RareClassOptions, majorityPathClass, reduceRareClasses } from './strat.js';

/** Layout of the labels: the Kaggle solutions CSV or GZ2 (Hart et al. 2016) labels. */
export type IngestFormat = 'kaggle' | 'gz2';
/** Which GZ2 fraction columns are the labels. */
export type ValueKind = 'debiased' | 'weighted_fraction' | 'fraction';
export const VALUE_KINDS: readonly ValueKind[] = ['debiased', 'weighted_fraction', 'fraction'];

/**
 * Default tolerances of the tree check, per input.
 * - Kaggle solutions are exact to ~1e-6.
 * - GZ2 `fraction` / `weighted_fraction` are stored rounded to 3 decimals, so a question's sum can
 *   be off by up to (number of answers) × 0.0005 = 0.0035 for the 7-answer Q8; measured maximum
 *   on the GZ2 sample and the Stripe 82 table: 0.002. Tolerance 0.005 covers the worst case.
 * - GZ2 `debiased` values are debiased answer by answer (Hart et al. 2016) and are not a
 *   distribution: Stripe 82 question sums are off by up to 0.51 (median 0.012). They are therefore
 *   renormalised within each question (= toConditional) before the check, which then only
 *   catches negative or non-finite values.
 */
export const KAGGLE_TOLERANCE = 1e-5;
export const GZ2_TOLERANCE: Readonly<Record<ValueKind, number>> = {
  fraction: 0.005,
  weighted_fraction: 0.005,
  debiased: 1e-6,
};

/** Conditional values of questions nobody reached are stored as zeros in every catalogue. */
export const UNREACHED_POLICY: UnreachedPolicy = 'zero';
/** Cumulative targets follow the Kaggle convention, Q6 reached with probability 1. */
export const Q6_CONVENTION = 'kaggle' as const;

/** Options of `ingest`. */
export interface IngestOptions {
  /** Layout of the labels file. */
  readonly format: IngestFormat;
  /** Labels CSV (`.csv` or `.csv.gz`). */
  readonly labels: string;
  /** Image folder; required unless `labelsOnly`. */
  readonly images?: string;
  /** GZ2 only: `gz2_filename_mapping.csv` (objid → asset_id) when the labels lack `asset_id`. */
  readonly mapping?: string;
  /** Catalogue without images (e.g. the Stripe 82 vote table): image checks are skipped. */
  readonly labelsOnly?: boolean;
  /**
   * GZ2 only: which value columns become the targets (default `weighted_fraction`, the closest to
   * the Kaggle labels; `debiased` values are renormalised per question).
   */
  readonly values?: ValueKind;
  /** GZ2 only: value kind used for answers whose `values` column is missing (default: error). */
  readonly fallbackValues?: ValueKind;
  /** Absolute tolerance of the tree check (default KAGGLE_TOLERANCE / GZ2_TOLERANCE[values]). */
  readonly tolerance?: number;
  /** Column holding the galaxy id (default `GalaxyID`; GZ2: `dr7objid`, else `objid`). */
  readonly idColumn?: string;
  /** Seed of the stratified split (default 42). */
  readonly seed?: number;
  /** Split fractions (default DEFAULT_SPLIT_RATIOS). */
  readonly split?: SplitRatios;
  /** How rare GZ2 classes are merged before stratifying. */
  readonly rareClasses?: RareClassOptions;
  /** Progress bar (default: silent). */
  readonly progress?: Progress;
  /**
   * Worker threads that check the images (open, read head and tail) while this thread parses and
   * writes; default one per CPU beside this thread, at most two; 0 checks on this thread. The
   * catalogue is the same for any number.
   */
  readonly checkWorkers?: number;
  /** @internal A checker the caller owns (fault tests stop its workers); replaces `checkWorkers`. */
  readonly jpegChecker?: JpegChecker;
}

/** What `ingest` did. */
export interface IngestReport {
  /** The catalogue written. */
  readonly catalogue: string;
  /** Layout of the labels. */
  readonly format: IngestFormat;
  /** Data rows read. */
  readonly rows: number;
  /** Galaxies accepted into the catalogue. */
  readonly accepted: number;
  /** Rows and images rejected. */
  readonly rejected: number;
  /** Rejections per reason. */
  readonly rejectedByReason: Partial<Record<RejectionReason, number>>;
  /** The first rejections (all of them are in the catalogue's `rejections` table). */
  readonly firstRejections: readonly Rejection[];
  /** Galaxies per split. */
  readonly splits: Record<SplitName, number>;
  /** Number of stratification classes. */
  readonly classes: number;
  /** Whether the catalogue holds vote counts. */
  readonly hasCounts: boolean;
  /** The catalogue's meta table. */
  readonly meta: Readonly<Record<string, string>>;
}

/** What one pass over the labels gathered besides the rows it wrote: just enough for the split. */
interface Scan {
  rows: number;
  /** Accepted galaxies' ids and raw stratification classes, in the order they were written. */
  readonly ids: string[];
  readonly classes: string[];
  readonly rejections: RejectionTally;
  withGz2Class: number;
  allCounts: boolean;
}

/** Rejection counts by reason and the first few rejections (all of them are in the catalogue). */
interface RejectionTally {
  count: number;
  readonly byReason: Partial<Record<RejectionReason, number>>;
  readonly first: Rejection[];
}

/** Reads a labels table (and its images), checks every row and writes the catalogue atomically. */
export async function ingest(cataloguePath: string, options: IngestOptions): Promise<IngestReport> {
  const labelsOnly = options.labelsOnly ?? false;
  checkInputs(options, labelsOnly);
  const withImages = !labelsOnly && options.images !== undefined;
  // started first: the workers load while this thread lists the images and opens the labels
  const checker = options.jpegChecker ?? createJpegChecker(withImages ? options.checkWorkers : 0);
  try {
    return await ingestChecked(cataloguePath, options, labelsOnly, checker);
  } finally {
    if (!options.jpegChecker) await checker.close();
  }
}

async function ingestChecked(
  cataloguePath: string,
  options: IngestOptions,
  labelsOnly: boolean,
  checker: JpegChecker,
): Promise<IngestReport> {
  const seed = options.seed ?? 42;
  const ratios = options.split ?? DEFAULT_SPLIT_RATIOS;
  const imageDir = options.images ? resolve(options.images) : null;
  // the folder is listed on libuv's threads while the labels (and a GZ2 filename mapping) are opened
  const listing = labelsOnly || !imageDir ? null : ImageFolder.list(imageDir);
  listing?.catch(() => {}); // awaited below
  const reader = await openReader(options).catch(async (error: unknown) => {
    await listing; // a folder that cannot be listed is reported first, as it is found first
    throw error;
  });
  const images = await listing;
  await cleanStaleTemps(resolve(cataloguePath)); // what killed ingests left behind
  const writer = CatalogueWriter.open(cataloguePath);
  try {
    const scan = await scanRows(reader, options, images, writer, checker);
    if (scan.ids.length === 0) throw new InputError(emptyMessage(cataloguePath, options, scan.rows, scan.rejections));
    const { splits, classes } = assignSplits(writer, scan, seed, ratios, options.rareClasses);
    const meta = catalogueMeta(options, reader, scan, imageDir, labelsOnly, seed, ratios);
    writer.commit(meta);
    return {
      catalogue: resolve(cataloguePath),
      format: options.format,
      rows: scan.rows,
      accepted: scan.ids.length,
      rejected: scan.rejections.count,
      rejectedByReason: scan.rejections.byReason,
      firstRejections: scan.rejections.first,
      splits,
      classes,
      hasCounts: meta.has_counts === 'true',
      meta,
    };
  } catch (error) {
    writer.abort();
    throw error;
  }
}

function openReader(options: IngestOptions): Promise<RowReader> {
  return options.format === 'kaggle' ? kaggleReader(options) : gz2Reader(options);
}

function checkInputs(options: IngestOptions, labelsOnly: boolean): void {
  if (!existsSync(options.labels)) throw new InputError(`labels file not found: ${options.labels}`);
  if (labelsOnly) return;
  if (!options.images)
    throw new InputError('an image folder is needed (--images), or ask for a label-only catalogue (--labels-only)');
  if (!existsSync(options.images) || !statSync(options.images).isDirectory()) {
    throw new InputError(`image folder not found: ${options.images}`);
  }
}

/** A parsed row on its way to the catalogue: rejected, or a galaxy waiting for its image check. */
type RowOutcome =
  | { readonly rejection: Rejection }
  | {
      readonly rejection?: undefined;
      readonly line: number;
      readonly id: string;
      /** Its image file's name (for a corrupt-image rejection), null when it has none. */
      readonly file: string | null;
      readonly imagePath: string | null;
      readonly gz2Class: string | null;
      readonly vectors: ParsedRow['vectors'];
    };

/**
 * One pass over the labels: every row is checked and written to the catalogue as it is read (the
 * galaxies with a placeholder split), so memory holds only ids and classes, not the targets. The
 * image checks run on the checker's threads a batch at a time while parsing goes on; rows are
 * written in file order once their batch is checked (ordered-checks.ts).
 */
async function scanRows(
  reader: RowReader,
  options: IngestOptions,
  images: ImageFolder | null,
  writer: CatalogueWriter,
  checker: JpegChecker,
): Promise<Scan> {
  const progress = options.progress ?? new SilentProgress();
  const scan: Scan = {
    rows: 0,
    ids: [],
    classes: [],
    rejections: { count: 0, byReason: {}, first: [] },
    withGz2Class: 0,
    allCounts: true,
  };
  const reject = rejecter(writer, scan.rejections);
  const classNames = new Map<string, string>(); // one string per class, shared by its members
  const accept = (row: Exclude<RowOutcome, { rejection: Rejection }>) => {
    const raw = row.gz2Class ?? majorityPathClass(row.vectors.conditional);
    if (!classNames.has(raw)) classNames.set(raw, raw);
    scan.ids.push(row.id);
    scan.classes.push(classNames.get(raw)!);
    if (row.gz2Class !== null) scan.withGz2Class++;
    if (row.vectors.counts === null) scan.allCounts = false;
    writer.galaxy({
      id: row.id,
      source: options.format,
      imagePath: row.imagePath,
      gz2Class: row.gz2Class,
      stratClass: '',
      split: 'train',
      ...row.vectors,
      row: row.line,
    });
  };
  const queue = new OrderedChecks<RowOutcome>(checker, (row, problem) => {
    if (row.rejection) reject(row.rejection);
    else if (problem !== null)
      reject({ row: row.line, galaxyId: row.id, reason: 'corrupt-image', detail: `${row.file}: ${problem}` });
    else accept(row);
  });
  const seen = new Map<string, number>();
  progress.start(statSync(options.labels).size, `ingest ${basename(options.labels)} (bytes)`);
  try {
    for await (const { line, values } of reader.table.rows()) {
      scan.rows++;
      const row = parseRow(reader, images, seen, line, values);
      queue.add(row, row.rejection ? null : row.imagePath);
    }
  } catch (error) {
    queue.finish(); // an earlier row's failure comes first
    throw error;
  }
  queue.finish();
  progress.stop();
  if (images) {
    for (const { asset, file } of images.unclaimed())
      reject({ row: null, galaxyId: asset, reason: 'orphan-image', detail: `image ${file} has no label row` });
  }
  return scan;
}

/** Records a rejection in the catalogue and in the tally. */
function rejecter(writer: CatalogueWriter, tally: RejectionTally): (r: Rejection) => void {
  return (r) => {
    writer.rejection(r);
    tally.count++;
    tally.byReason[r.reason] = (tally.byReason[r.reason] ?? 0) + 1;
    if (tally.first.length < 10) tally.first.push(r);
  };
}

function rejected(row: number, galaxyId: string | null, reason: RejectionReason, detail: string): RowOutcome {
  return { rejection: { row, galaxyId, reason, detail } };
}

/** Checks one labels row: duplicate id, values, tree, image (claimed even when the row is rejected). */
function parseRow(
  reader: RowReader,
  images: ImageFolder | null,
  seen: Map<string, number>,
  line: number,
  values: readonly string[],
): RowOutcome {
  const id = ownCopy((values[reader.idIndex] ?? '').trim());
  if (id === '') return rejected(line, null, 'invalid-value', `empty id column ${reader.idColumn}`);
  const first = seen.get(id);
  if (first !== undefined)
    return rejected(line, id, 'duplicate-id', `id ${id} already on row ${first}; the first row is kept`);
  seen.set(id, line);
  // the row's image counts as claimed even when the row is rejected below (it is not an orphan)
  const asset = images ? reader.asset(id, values) : null;
  const file = asset !== null ? images!.claim(asset) : undefined;
  const parsed = reader.parse(values);
  if (typeof parsed === 'string') return rejected(line, id, 'invalid-value', parsed);
  const violations = validateVector(parsed.check, reader.validate);
  if (violations.length > 0) {
    const shown = violations
      .slice(0, 3)
      .map((v) => v.message)
      .join('; ');
    return rejected(
      line,
      id,
      'tree-violation',
      violations.length > 3 ? `${shown}; … ${violations.length} in all` : shown,
    );
  }
  if (images) {
    if (asset === null) return rejected(line, id, 'no-image-mapping', reader.mappingHint);
    if (file === undefined) return rejected(line, id, 'missing-image', `no image ${asset}.jpg in ${images.dir}`);
  }
  const gz2Class = reader.gz2Class(values);
  const imagePath = images && file !== undefined ? images.path(file) : null;
  return { line, id, file: file ?? null, imagePath, gz2Class, vectors: parsed.vectors };
}

/**
 * A copy of `text` that does not share memory with the string it was cut from. A field cut from a
 * CSV line can be a slice that keeps the whole line alive (a 2 kB Hart16 row for an 18-digit
 * dr7objid); ingest keeps every id until the split, so it keeps copies.
 */
function ownCopy(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

/** Stratifies the accepted galaxies, splits them and stores class and split in the catalogue. */
function assignSplits(
  writer: CatalogueWriter,
  scan: Scan,
  seed: number,
  ratios: SplitRatios,
  rare: RareClassOptions | undefined,
) {
  const stratClasses = reduceRareClasses(scan.classes, rare);
  const split = stratifiedSplit(
    scan.ids.map((id, i) => ({ id, stratClass: stratClasses[i] })),
    seed,
    ratios,
  );
  const splits = { train: 0, validation: 0, test: 0 } as Record<SplitName, number>;
  scan.ids.forEach((id, i) => {
    const name = split.get(id)!;
    splits[name]++;
    writer.assign(i, stratClasses[i], name);
  });
  return { splits, classes: new Set(stratClasses).size };
}

function catalogueMeta(
  options: IngestOptions,
  reader: RowReader,
  scan: Scan,
  imageDir: string | null,
  labelsOnly: boolean,
  seed: number,
  ratios: SplitRatios,
): Record<string, string> {
  const accepted = scan.ids.length;
  return {
    source_format: options.format,
    labels_file: resolve(options.labels),
    images_dir: imageDir ?? '',
    labels_only: String(labelsOnly),
    id_column: reader.idColumn,
    ...reader.meta,
    conditional_unreached: UNREACHED_POLICY,
    cumulative_q6_reach: Q6_CONVENTION,
    tree_tolerance: String(reader.validate.tolerance),
    strat_class_source:
      scan.withGz2Class === accepted
        ? 'gz2_class'
        : scan.withGz2Class === 0
          ? 'majority-path'
          : 'gz2_class, else majority-path',
    rare_class_min_members: String(options.rareClasses?.minMembers ?? 12),
    rare_class_super_rare_max: String(options.rareClasses?.superRareMax ?? 3),
    split_seed: String(seed),
    split_ratios: ratios.join(','),
    split_algorithm: SPLIT_ALGORITHM,
    has_counts: String(accepted > 0 && scan.allCounts),
  };
}

/** Why an ingest accepted nothing; the catalogue at `path` is left as it was. */
function emptyMessage(path: string, options: IngestOptions, rows: number, rejections: RejectionTally): string {
  const reasons = Object.entries(rejections.byReason)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  const firstOne = rejections.first[0];
  const first = firstOne ? `; first: ${firstOne.reason}: ${firstOne.detail}` : '';
  const what =
    rows === 0
      ? `${options.labels} has no data rows`
      : `none of the ${rows} rows of ${options.labels} was accepted (${reasons})${first}`;
  return `${what}; no catalogue written${existsSync(path) ? ` (${path} is left as it was)` : ''}`;
}

/** A row's values: what the tree check reads, and the targets the catalogue stores. */
interface ParsedRow {
  check: Float64Array;
  vectors: { conditional: Float32Array; cumulative: Float32Array; counts: Float32Array | null };
}

interface RowReader {
  table: Awaited<ReturnType<typeof openCsv>>;
  idColumn: string;
  idIndex: number;
  validate: Parameters<typeof validateVector>[1];
  mappingHint: string;
  meta: Record<string, string>;
  /** Targets of a row, or a message naming the bad values. */
  parse(values: readonly string[]): string | ParsedRow;
  asset(id: string, values: readonly string[]): string | null;
  gz2Class(values: readonly string[]): string | null;
}

function columnIndex(header: readonly string[], name: string, file: string): number {
  const index = header.indexOf(name);
  if (index < 0) throw new Error(`${file}: no column "${name}" (columns: ${header.slice(0, 8).join(', ')}, …)`);
  return index;
}

/** Reads the 37 values at `indices` into `out` (reused row after row); a message naming bad values. */
function readVector(
  values: readonly string[],
  indices: readonly number[],
  names: readonly string[],
  out: Float64Array,
): Float64Array | string {
  let bad: string[] | undefined;
  for (let i = 0; i < ANSWER_COUNT; i++) {
    const v = parseNumber(values[indices[i]]);
    if (Number.isNaN(v)) (bad ??= []).push(`${names[i]}=${JSON.stringify(values[indices[i]] ?? '')}`);
    out[i] = v;
  }
  if (bad) return `not a number: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` … ${bad.length} in all` : ''}`;
  return out;
}

/** A galaxy's target vectors as views of one buffer (one allocation a row, not two or three). */
function targetVectors(conditional: Float64Array, cumulative: Float64Array, counts: Float64Array | null) {
  const all = new Float32Array(ANSWER_COUNT * (counts ? 3 : 2));
  const view = (k: number, values: Float64Array) => {
    const v = all.subarray(k * ANSWER_COUNT, (k + 1) * ANSWER_COUNT);
    v.set(values); // float64 → float32 exactly as Float32Array.from
    return v;
  };
  return {
    conditional: view(0, conditional),
    cumulative: view(1, cumulative),
    counts: counts ? view(2, counts) : null,
  };
}

async function kaggleReader(options: IngestOptions): Promise<RowReader> {
  const progress = options.progress;
  const table = await openCsv(options.labels, progress ? (n) => progress.tick(n) : undefined);
  const idColumn = options.idColumn ?? 'GalaxyID';
  const idIndex = columnIndex(table.header, idColumn, options.labels);
  const indices = KAGGLE_COLUMNS.map((c) => columnIndex(table.header, c, options.labels));
  const tolerance = options.tolerance ?? KAGGLE_TOLERANCE;
  const scratch = new Float64Array(ANSWER_COUNT); // a row's values, checked before the next row is read
  return {
    table,
    idColumn,
    idIndex,
    validate: { convention: 'cumulative', q6Reach: 'kaggle', tolerance },
    mappingHint: 'no image name',
    meta: { value_kind: 'kaggle-cumulative' },
    parse(values) {
      const cum = readVector(values, indices, KAGGLE_COLUMNS, scratch);
      if (typeof cum === 'string') return cum;
      return { check: cum, vectors: targetVectors(toConditional(cum, { unreached: UNREACHED_POLICY }), cum, null) };
    },
    asset: (id) => id,
    gz2Class: () => null,
  };
}

async function gz2Reader(options: IngestOptions): Promise<RowReader> {
  const progress = options.progress;
  const table = await openCsv(options.labels, progress ? (n) => progress.tick(n) : undefined);
  const { header } = table;
  const file = options.labels;
  const idColumn = options.idColumn ?? (header.includes('dr7objid') ? 'dr7objid' : 'objid');
  const idIndex = columnIndex(header, idColumn, file);
  const kind = options.values ?? 'weighted_fraction';
  const names: string[] = [];
  const indices: number[] = [];
  const missing: string[] = [];
  const fellBack: string[] = [];
  for (const answer of ANSWERS) {
    const name = `${answer.gz2Column}_${kind}`;
    let index = header.indexOf(name);
    if (index < 0 && options.fallbackValues) {
      const fallback = `${answer.gz2Column}_${options.fallbackValues}`;
      index = header.indexOf(fallback);
      if (index >= 0) fellBack.push(fallback);
    }
    if (index < 0) missing.push(name);
    names.push(index >= 0 ? header[index] : name);
    indices.push(index);
  }
  if (missing.length > 0) {
    throw new Error(
      `${file}: ${missing.length} of the 37 "${kind}" columns are missing: ${missing.join(', ')}. ` +
        `Choose another value kind (--values ${VALUE_KINDS.filter((k) => k !== kind).join(' | ')}) ` +
        `or name one to use for the missing answers (--fallback-values).`,
    );
  }
  const countIndices = ANSWERS.map((a) => header.indexOf(`${a.gz2Column}_count`));
  const hasCounts = countIndices.every((i) => i >= 0);
  const countNames = ANSWERS.map((a) => `${a.gz2Column}_count`);
  const classIndex = ['gz2_class', 'gz2class'].map((c) => header.indexOf(c)).find((i) => i >= 0) ?? -1;

  let asset: (id: string, values: readonly string[]) => string | null;
  let mappingHint: string;
  const assetIndex = header.indexOf('asset_id');
  if (options.labelsOnly) {
    // no images to find: the filename mapping (a few hundred bytes a galaxy in memory) is not read
    mappingHint = '';
    asset = () => null;
  } else if (options.mapping) {
    const mapping = await readMapping(options.mapping);
    const sampleIndex = header.indexOf('sample');
    mappingHint = `id not in ${basename(options.mapping)}`;
    asset = (id, values) => {
      const entries = mapping.get(id);
      if (!entries) return null;
      const sample = sampleIndex >= 0 ? values[sampleIndex] : undefined;
      return (entries.find((e) => e.sample === sample) ?? entries[0]).asset;
    };
  } else if (assetIndex >= 0) {
    mappingHint = 'empty asset_id';
    asset = (_id, values) => {
      const a = (values[assetIndex] ?? '').trim();
      return a === '' ? null : a.replace(/\.0+$/, '');
    };
  } else {
    throw new Error(
      `${file}: no asset_id column; give the filename mapping (--mapping gz2_filename_mapping.csv) or --labels-only`,
    );
  }
  const tolerance = options.tolerance ?? GZ2_TOLERANCE[kind];
  // a row's values and counts, checked before the next row is read
  const scratch = new Float64Array(ANSWER_COUNT);
  const countScratch = new Float64Array(ANSWER_COUNT);
  return {
    table,
    idColumn,
    idIndex,
    validate: { convention: 'conditional', tolerance, allowUnanswered: true },
    mappingHint,
    meta: {
      value_kind: kind,
      value_normalisation: kind === 'debiased' ? 'renormalised within each question' : 'as stored',
      value_fallback: fellBack.length > 0 ? `${options.fallbackValues}: ${fellBack.join(', ')}` : '',
      image_mapping: options.labelsOnly
        ? ''
        : options.mapping
          ? resolve(options.mapping)
          : assetIndex >= 0
            ? 'asset_id column'
            : '',
    },
    parse(values) {
      const raw = readVector(values, indices, names, scratch);
      if (typeof raw === 'string') return raw;
      const cond = kind === 'debiased' ? toConditional(raw, { unreached: 'zero' }) : raw;
      let counts: Float64Array | null = null;
      if (hasCounts) {
        const c = readVector(values, countIndices, countNames, countScratch);
        if (typeof c === 'string') return c;
        counts = c;
      }
      return { check: cond, vectors: targetVectors(cond, toCumulative(cond, { q6Reach: Q6_CONVENTION }), counts) };
    },
    asset,
    gz2Class(values) {
      if (classIndex < 0) return null;
      const c = (values[classIndex] ?? '').trim();
      return c === '' ? null : c;
    },
  };
}

/** gz2_filename_mapping.csv: `objid, sample, asset_id` → objid → [{ sample, asset }]. */
async function readMapping(path: string): Promise<Map<string, Array<{ sample: string; asset: string }>>> {
  if (!existsSync(path)) throw new Error(`filename mapping not found: ${path}`);
  const table = await openCsv(path);
  const idIndex = columnIndex(table.header, table.header.includes('objid') ? 'objid' : 'dr7objid', path);
  const assetIndex = columnIndex(table.header, 'asset_id', path);
  const sampleIndex = table.header.indexOf('sample');
  const map = new Map<string, Array<{ sample: string; asset: string }>>();
  for await (const { values } of table.rows()) {
    const id = (values[idIndex] ?? '').trim();
    const asset = (values[assetIndex] ?? '').trim().replace(/\.0+$/, '');
    if (id === '' || asset === '') continue;
    const entry = { sample: sampleIndex >= 0 ? values[sampleIndex] : '', asset };
    const list = map.get(id);
    if (list) list.push(entry);
    else map.set(id, [entry]);
  }
  return map;
}
