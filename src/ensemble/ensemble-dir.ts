/**
 * An ensemble on disk: a directory holding `ensemble.json` and its members, each a model
 * directory saved by `saveModel` (model.json + weights.bin + manifest.json):
 *
 *   my-ensemble/
 *     ensemble.json     { "format": "gzh-ensemble", "members": [{ "dir": "member-0", "weight": 1 }, …],
 *                         "tta": "d4", "convention": "cumulative", "q6Reach": "kaggle" }
 *     member-0/ model.json weights.bin manifest.json
 *     …
 *
 * Member dirs are relative to the ensemble directory (`../other-run/model` works too). A plain model
 * directory (with manifest.json) reads as an ensemble of one; a directory without either whose
 * sub-directories hold models (a run's `variants/<name>` folder: member-0/model, member-1/model, …)
 * reads as an equally weighted ensemble of all of them.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { MANIFEST_FILE, type ModelManifest, readManifest } from '../models/manifest.js';
import { MODEL_JSON } from '../models/io.js';
import { resolveAtomicDir, writeFileAtomic } from '../util/atomic.js';
import type { Convention, Q6Reach } from '../questions/index.js';
import { type TtaSpec, resolveTta } from './tta.js';

/** File name of an ensemble description in its folder. */
export const ENSEMBLE_FILE = 'ensemble.json';
/** Marks a file as an ensemble description. */
export const ENSEMBLE_FORMAT = 'gzh-ensemble';
export const ENSEMBLE_FORMAT_VERSION = 1;

/** One member as listed in ensemble.json. */
export interface EnsembleMemberEntry {
  /** Model directory, relative to the ensemble directory. */
  readonly dir: string;
  /** Non-negative weight (default 1; normalised over members). */
  readonly weight?: number;
}

/** The contents of ensemble.json: the members, their weights and how their predictions are combined. */
export interface EnsembleFile {
  /** Marks the file as an ensemble description. */
  readonly format: typeof ENSEMBLE_FORMAT;
  /** Version of the file's layout. */
  readonly formatVersion: number;
  /** The member models. */
  readonly members: readonly EnsembleMemberEntry[];
  /** Test-time augmentation (default none). */
  readonly tta?: TtaSpec;
  /** Convention of `answers` in predictions (default cumulative). */
  readonly convention?: Convention;
  /** Q6 reach of the averaged cumulative vector (default: the first member's). */
  readonly q6Reach?: Q6Reach;
  /** Free text. */
  readonly description?: string;
}

/** One member found on disk, manifest checked. */
export interface EnsembleMemberRef {
  /** Absolute model directory. */
  readonly dir: string;
  /** Normalised weight. */
  readonly weight: number;
  /** The member's manifest. */
  readonly manifest: ModelManifest;
}

/** An ensemble as read from disk: its members (manifests checked) and how to combine them. */
export interface EnsembleDescription {
  /** Where the description came from: the ensemble.json, or the model / variant directory. */
  readonly source: string;
  /** The members, in order. */
  readonly members: readonly EnsembleMemberRef[];
  /** Test-time augmentation. */
  readonly tta: TtaSpec;
  /** Convention of `answers` in predictions. */
  readonly convention: Convention;
  /** Q6 reach of the averaged cumulative vector. */
  readonly q6Reach: Q6Reach;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function member(dir: string, weight: number, from: string): Promise<EnsembleMemberRef> {
  const resolved = resolveAtomicDir(dir);
  if (resolved === null || !(await isDir(resolved))) throw new Error(`${from}: model directory ${dir} does not exist`);
  if (!existsSync(join(resolved, MODEL_JSON)))
    throw new Error(`${join(resolved, MODEL_JSON)}: missing (not a saved model directory)`);
  if (!existsSync(join(resolved, MANIFEST_FILE))) {
    throw new Error(
      `${join(resolved, MANIFEST_FILE)}: missing; the predictor needs the manifest saved with the model ` +
        '(preprocessing, convention, tree version)',
    );
  }
  return { dir: resolved, weight, manifest: await readManifest(resolved) };
}

function checkFile(value: unknown, file: string): EnsembleFile {
  const e = value as Partial<EnsembleFile> | null;
  if (!e || typeof e !== 'object' || e.format !== ENSEMBLE_FORMAT) {
    throw new Error(
      `${file}: not an ensemble description (format ${JSON.stringify(e?.format)}, expected ` +
        `${JSON.stringify(ENSEMBLE_FORMAT)})`,
    );
  }
  if ((e.formatVersion ?? 0) > ENSEMBLE_FORMAT_VERSION) {
    throw new Error(
      `${file}: ensemble format version ${e.formatVersion} is newer than this build reads (${ENSEMBLE_FORMAT_VERSION})`,
    );
  }
  if (!Array.isArray(e.members) || e.members.length === 0)
    throw new Error(`${file}: "members" must be a non-empty list`);
  e.members.forEach((m, i) => {
    if (!m || typeof m.dir !== 'string' || m.dir === '')
      throw new Error(`${file}: members[${i}].dir must be a directory name`);
    if (m.weight !== undefined && (!Number.isFinite(m.weight) || m.weight < 0)) {
      throw new Error(`${file}: members[${i}].weight must be a finite number ≥ 0, got ${JSON.stringify(m.weight)}`);
    }
  });
  if (!e.members.some((m) => (m.weight ?? 1) > 0)) throw new Error(`${file}: member weights sum to 0`);
  if (e.convention !== undefined && e.convention !== 'cumulative' && e.convention !== 'conditional') {
    throw new Error(`${file}: "convention" must be cumulative or conditional, got ${JSON.stringify(e.convention)}`);
  }
  if (e.q6Reach !== undefined && e.q6Reach !== 'kaggle' && e.q6Reach !== 'tree') {
    throw new Error(`${file}: "q6Reach" must be kaggle or tree, got ${JSON.stringify(e.q6Reach)}`);
  }
  if (e.tta !== undefined) {
    try {
      resolveTta(e.tta);
    } catch (error) {
      throw new Error(`${file}: "tta": ${(error as Error).message}`, { cause: error });
    }
  }
  return e as EnsembleFile;
}

/**
 * Reads an ensemble directory, a single model directory or a directory of model directories.
 * Every member's manifest is checked (tree version, format); errors name the offending file.
 */
export async function readEnsembleDir(dir: string): Promise<EnsembleDescription> {
  let root = resolve(dir);
  // `--model …/model.json` (the tfjs habit) or the ensemble/manifest file: its folder is meant.
  if ([MODEL_JSON, MANIFEST_FILE, ENSEMBLE_FILE].includes(basename(root)) && existsSync(root) && !(await isDir(root)))
    root = dirname(root);
  if (!(await isDir(root)) && resolveAtomicDir(root) === null)
    throw new Error(`${root}: no such model or ensemble directory`);
  const ensembleFile = join(root, ENSEMBLE_FILE);
  if (existsSync(ensembleFile)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(ensembleFile, 'utf8'));
    } catch (error) {
      throw new Error(`${ensembleFile}: cannot read ensemble description: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const file = checkFile(parsed, ensembleFile);
    const members = await Promise.all(
      file.members.map((m) => member(isAbsolute(m.dir) ? m.dir : join(root, m.dir), m.weight ?? 1, ensembleFile)),
    );
    return {
      source: ensembleFile,
      members,
      tta: file.tta ?? 'none',
      convention: file.convention ?? 'cumulative',
      q6Reach: file.q6Reach ?? members[0].manifest.q6Reach,
    };
  }
  const single = resolveAtomicDir(root)!;
  if (existsSync(join(single, MANIFEST_FILE)) || existsSync(join(single, MODEL_JSON))) {
    const m = await member(single, 1, single);
    return { source: single, members: [m], tta: 'none', convention: 'cumulative', q6Reach: m.manifest.q6Reach };
  }
  const found = await findModelDirs(single, 3);
  if (found.length === 0) {
    throw new Error(
      `${root}: neither ${ENSEMBLE_FILE} nor a saved model (${MODEL_JSON} + ${MANIFEST_FILE}) found here or below`,
    );
  }
  const members = await Promise.all(found.map((d) => member(d, 1, root)));
  return { source: root, members, tta: 'none', convention: 'cumulative', q6Reach: members[0].manifest.q6Reach };
}

/** Model directories (holding model.json) under `dir`, depth-first in name order. */
async function findModelDirs(dir: string, depth: number): Promise<string[]> {
  if (depth < 0) return [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new Error(`${dir}: cannot read directory: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
  const out: string[] = [];
  const subdirs = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.endsWith('.old') && e.name !== 'checkpoint')
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const name of subdirs) {
    const sub = join(dir, name);
    if (existsSync(join(sub, MODEL_JSON))) out.push(sub);
    else out.push(...(await findModelDirs(sub, depth - 1)));
  }
  return out;
}

/** Options of `writeEnsembleDir`. */
export interface WriteEnsembleOptions {
  /** Member model directories (absolute, or relative to the working directory). */
  readonly members: ReadonlyArray<
    | string
    | {
        /** Model directory. */
        dir: string;
        /** Non-negative weight (default 1). */
        weight?: number;
      }
  >;
  /** Test-time augmentation (default none). */
  readonly tta?: TtaSpec;
  /** Convention of `answers` in predictions (default cumulative). */
  readonly convention?: Convention;
  /** Q6 reach of the averaged cumulative vector (default: the first member's). */
  readonly q6Reach?: Q6Reach;
  /** Free text. */
  readonly description?: string;
}

/**
 * Writes `dir/ensemble.json` referring to existing member directories (stored relative to `dir`),
 * after checking every member's manifest. Returns what was written.
 */
export async function writeEnsembleDir(dir: string, options: WriteEnsembleOptions): Promise<EnsembleFile> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const members = options.members.map((m) => (typeof m === 'string' ? { dir: m } : m));
  for (const m of members) await member(resolve(m.dir), m.weight ?? 1, join(root, ENSEMBLE_FILE));
  if (options.tta !== undefined) resolveTta(options.tta);
  const file: EnsembleFile = {
    format: ENSEMBLE_FORMAT,
    formatVersion: ENSEMBLE_FORMAT_VERSION,
    members: members.map((m) => ({ dir: relative(root, resolve(m.dir)) || '.', weight: m.weight ?? 1 })),
    tta: options.tta ?? 'none',
    convention: options.convention ?? 'cumulative',
    ...(options.q6Reach ? { q6Reach: options.q6Reach } : {}),
    ...(options.description ? { description: options.description } : {}),
  };
  checkFile(file, join(root, ENSEMBLE_FILE));
  await writeFileAtomic(join(root, ENSEMBLE_FILE), `${JSON.stringify(file, null, 2)}\n`);
  return file;
}
