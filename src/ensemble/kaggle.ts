/**
 * Kaggle-format input and output for the predictor: image listing, the submission CSV
 * (`GalaxyID,Class1.1,…,Class11.6`, cumulative probabilities) and evaluation against a
 * Kaggle-format directory (images_training_rev1/ + training_solutions_rev1.csv).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { openCsv, parseNumber } from '../data/csv.js';
import { ANSWER_COUNT, KAGGLE_COLUMNS, QUESTIONS } from '../questions/index.js';
import { MetricsAccumulator, type RegressionMetrics } from '../train/metrics.js';
import type { EnsemblePredictor, PredictInputError, Prediction } from './predictor.js';

/** File extensions read as images. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg'] as const;
/** File name of the Kaggle labels in a Kaggle-format directory. */
export const KAGGLE_SOLUTIONS = 'training_solutions_rev1.csv';
/** Folder of the images in a Kaggle-format directory. */
export const KAGGLE_IMAGES = 'images_training_rev1';

function byNaturalName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Expands files and directories into image paths: a directory contributes its *.jpg / *.jpeg
 * files (not recursive), in natural name order; files are kept as given (so a missing or bad file
 * is reported by the predictor, naming it). A file reached twice (named, and inside a named
 * directory) is listed once. Throws naming a directory that cannot be read.
 */
export async function listImages(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (path: string) => {
    const key = resolve(path);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(path);
    }
  };
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = (await stat(input)).isDirectory();
    } catch {
      isDir = false; // a missing file: the predictor reports it
    }
    if (!isDir) {
      add(input);
      continue;
    }
    let names: string[];
    try {
      names = await readdir(input);
    } catch (error) {
      throw new Error(`${input}: cannot read directory: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
    names
      .filter((n) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()))
      .sort(byNaturalName)
      .forEach((n) => add(join(input, n)));
  }
  return out;
}

/** GalaxyID of an image file: its name without the extension (`100008.jpg` → `100008`). */
export function galaxyId(path: string): string {
  return basename(path, extname(path));
}

/** Images whose GalaxyIDs collide (`a/100008.jpg` and `b/100008.jpg`), grouped by id, in input order. */
export function collidingGalaxyIds(paths: readonly string[]): Array<{
  /** A GalaxyID more than one path gives. */
  id: string;
  /** The paths that give it. */
  paths: string[];
}> {
  const byId = new Map<string, string[]>();
  for (const p of paths) {
    const id = galaxyId(p);
    byId.set(id, [...(byId.get(id) ?? []), p]);
  }
  return [...byId].filter(([, ps]) => ps.length > 1).map(([id, ps]) => ({ id, paths: ps }));
}

export { checkGalaxyId, formatProbability, kaggleCsvHeader, kaggleCsvRow } from './kaggle-csv.js';

/** Reads a Kaggle solutions CSV into id → 37 cumulative values; errors name the file and line. */
export async function readKaggleSolutions(path: string): Promise<Map<string, Float32Array>> {
  if (!existsSync(path)) throw new Error(`${path}: labels file not found`);
  const table = await openCsv(path);
  const header = table.header;
  const want = ['GalaxyID', ...KAGGLE_COLUMNS];
  if (header.length < want.length || want.some((c, i) => header[i] !== c)) {
    throw new Error(
      `${path}: not a Kaggle solutions file: expected header ${want.slice(0, 3).join(',')},…,${want[want.length - 1]}`,
    );
  }
  const out = new Map<string, Float32Array>();
  const lineOf = new Map<string, number>();
  for await (const { line, values } of table.rows()) {
    const earlier = lineOf.get(values[0]);
    if (earlier !== undefined)
      throw new Error(`${path}: data rows ${earlier} and ${line} both have GalaxyID ${values[0]}`);
    lineOf.set(values[0], line);
    const v = new Float32Array(ANSWER_COUNT);
    for (let a = 0; a < ANSWER_COUNT; a++) {
      v[a] = parseNumber(values[a + 1]);
      if (!Number.isFinite(v[a]))
        throw new Error(`${path}: data row ${line} (GalaxyID ${values[0]}): ${KAGGLE_COLUMNS[a]} is not a number`);
    }
    out.set(values[0], v);
  }
  return out;
}

/** Options of `evaluateKaggleDir`. */
export interface EvaluateDirOptions {
  /** Only these GalaxyIDs (e.g. a test split); default every labelled galaxy. */
  readonly ids?: Iterable<string>;
  /** Images per forward pass (default: the predictor's). */
  readonly batchSize?: number;
  /** Inputs per predictMany call (default 512). */
  readonly chunk?: number;
  /** Called once with the number of galaxies to score. */
  readonly onStart?: (total: number) => void;
  /** Called after each chunk with the galaxies scored so far. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Each prediction as it comes (e.g. to also write a CSV). */
  readonly onPrediction?: (id: string, prediction: Prediction) => void;
}

/** What `evaluateKaggleDir` found. */
export interface DirEvaluation {
  /** The Kaggle-format directory scored. */
  readonly directory: string;
  /** Galaxies predicted and scored. */
  readonly count: number;
  /** Labelled galaxies that could not be scored (missing or unreadable image). */
  readonly failures: ReadonlyArray<{
    /** GalaxyID. */
    id: string;
    /** Why it could not be scored. */
    message: string;
  }>;
  /** RMSE, R² and per-answer scores of the predictions against the labels. */
  readonly metrics: RegressionMetrics;
  /** Test-time views per galaxy. */
  readonly views: number;
  /** Wall-clock seconds. */
  readonly seconds: number;
}

/**
 * Predicts every labelled galaxy of a Kaggle-format directory and scores the cumulative outputs:
 * RMSE (the competition metric), global R², per-answer R² and per-question RMSE.
 */
export async function evaluateKaggleDir(
  predictor: EnsemblePredictor,
  directory: string,
  options: EvaluateDirOptions = {},
): Promise<DirEvaluation> {
  const dir = resolve(directory);
  const labels = await readKaggleSolutions(join(dir, KAGGLE_SOLUTIONS));
  const imagesDir = join(dir, KAGGLE_IMAGES);
  if (!existsSync(imagesDir)) throw new Error(`${imagesDir}: image directory not found`);
  let ids = [...labels.keys()];
  if (options.ids) {
    const wanted = new Set(options.ids);
    const unknown = [...wanted].filter((id) => !labels.has(id));
    if (unknown.length > 0)
      throw new Error(
        `${join(dir, KAGGLE_SOLUTIONS)}: ${unknown.length} requested GalaxyID(s) have no labels (first: ${unknown[0]})`,
      );
    ids = ids.filter((id) => wanted.has(id));
  }
  const started = performance.now();
  const acc = new MetricsAccumulator();
  const failures: Array<{ id: string; message: string }> = [];
  const chunk = options.chunk ?? 512;
  options.onStart?.(ids.length);
  let done = 0;
  for (let s = 0; s < ids.length; s += chunk) {
    const part = ids.slice(s, s + chunk);
    const outcomes = await predictor.predictMany(
      part.map((id) => join(imagesDir, `${id}.jpg`)),
      {
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
        onProgress: (d) => options.onProgress?.(done + d, ids.length),
      },
    );
    outcomes.forEach((o, k) => {
      const id = part[k];
      if (!o.ok) {
        failures.push({ id, message: (o.error as PredictInputError).message });
        return;
      }
      acc.update(labels.get(id)!, o.prediction.cumulative, 1);
      options.onPrediction?.(id, o.prediction);
    });
    done += part.length;
  }
  if (acc.count === 0)
    throw new Error(
      `${dir}: no galaxy could be scored (${failures.length} failed; first: ` +
        `${failures[0]?.message ?? 'no labelled images'})`,
    );
  return {
    directory: dir,
    count: acc.count,
    failures,
    metrics: acc.result(),
    views: predictor.viewCount,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Human-readable metrics: headline, per-question RMSE and per-answer R². */
export function formatEvaluation(e: DirEvaluation): string {
  const m = e.metrics;
  const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  const lines = [
    `data        ${e.directory}`,
    `galaxies    ${e.count} scored${e.failures.length ? `, ${e.failures.length} failed` : ''} (${e.views} ` +
      `view(s) each, ${(e.count / e.seconds).toFixed(1)} img/s)`,
    `RMSE        ${f(m.rmse, 5)}`,
    `MSE         ${f(m.mse, 6)}`,
    `R² (global) ${f(m.r2)}`,
    `R² (mean of answers) ${f(m.r2PerAnswerMean)}`,
    '',
    'per question:',
    ...QUESTIONS.map((q, i) => `  ${q.key.padEnd(4)} ${q.name.padEnd(19)} RMSE ${f(m.rmsePerQuestion[i])}`),
    '',
    'per answer:',
    ...QUESTIONS.flatMap((q) =>
      q.answers.map(
        (a) =>
          `  ${a.kaggleId.padEnd(10)} ${`${q.key}.${a.key}`.padEnd(24)} R² ` +
          `${f(m.r2PerAnswer[a.index]).padStart(7)}  RMSE ${f(m.rmsePerAnswer[a.index])}`,
      ),
    ),
  ];
  for (const x of e.failures.slice(0, 10)) lines.push(`failed: ${x.message}`);
  if (e.failures.length > 10) lines.push(`failed: … and ${e.failures.length - 10} more`);
  return lines.join('\n');
}
