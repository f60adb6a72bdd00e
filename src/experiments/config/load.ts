/**
 * Loading an experiment config: read and validate the file, expand its variants, resolve the data
 * and output paths, and hash what the run's results depend on.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveDataDir } from '../../data/data-dir.js';
import { projectHome } from '../../util/project.js';
import { canonicalJson, sha256 } from './json.js';
import { ConfigError, formatIssues } from './messages.js';
import { type PlaceholderValues, defaultRunsDir, expandPath } from './paths.js';
import {
  type DataSource,
  type ExperimentFile,
  ExperimentFileSchema,
  type GZ2_LABELS,
  type VariantSettings,
} from './schema.js';
import { type ResolvedVariant, labelFor, resolveVariants } from './variants.js';

/** Where the CLI overrides a config's paths. */
export interface LoadOptions {
  /** Overrides ${dataDir} (CLI --data-dir); else env GZH_DATA_DIR, else ../shared/data. */
  readonly dataDir?: string;
  /** Overrides output.dir (CLI --out). */
  readonly outputDir?: string;
  /** Overrides data.path (CLI --data-path), e.g. the full Kaggle download. */
  readonly dataPath?: string;
}

/** Data settings with defaults applied and the directory resolved. */
export interface ResolvedData {
  /** Where galaxies come from. */
  readonly source: DataSource;
  /** Absolute directory (for synthetic: where the generated Kaggle-format set lives). */
  readonly path: string;
  /** Convention the targets are trained and scored in. */
  readonly convention: 'cumulative' | 'conditional';
  /** GZ2 only: which fraction columns are the labels. */
  readonly labels?: (typeof GZ2_LABELS)[number];
  /** Synthetic only: the generator's settings (the seed defaults to the experiment's). */
  readonly synthetic?: {
    /** Number of galaxies. */
    readonly count: number;
    /** Side of the square JPEGs, pixels. */
    readonly size: number;
    /** Generator seed. */
    readonly seed: number;
  };
  /** Fractions of the galaxies in the validation and test splits. */
  readonly split: {
    /** Fraction held out for validation. */
    readonly validation: number;
    /** Fraction held out for the test scores. */
    readonly test: number;
  };
}

/** A validated experiment: every variant's complete settings, the data, the paths, the hash. */
export interface Experiment {
  /** Experiment name (letters, digits, . _ -). */
  readonly name: string;
  /** Free text from the config. */
  readonly description?: string;
  /** Seeds the split, batch order, augmentation, initialisation and synthetic data. */
  readonly seed: number;
  /** The config file, absolute, or undefined when built in memory. */
  readonly sourcePath?: string;
  /** The data directory ${dataDir} stood for. */
  readonly dataDir: string;
  /** The data every variant trains and is scored on. */
  readonly data: ResolvedData;
  /** Absolute root for run folders and the registry. */
  readonly outputDir: string;
  /** Absolute cache directory of catalogues, preprocessed images and synthetic data sets. */
  readonly cacheDir: string;
  /** The variants compared, in config order. */
  readonly variants: readonly ResolvedVariant[];
  /** The file as validated, defaults filled in (what the registry stores). */
  readonly config: ExperimentFile;
  /** sha256 of the canonical resolved experiment (settings of every variant, data, budget). */
  readonly hash: string;
}

/** The data section resolved: defaults, the synthetic seed and the absolute data folder. */
function resolveData(
  first: VariantSettings,
  values: PlaceholderValues,
  options: LoadOptions,
  problems: string[],
): ResolvedData {
  const d = first.data;
  const syntheticSeed = d.synthetic?.seed ?? first.seed;
  const synthetic = d.synthetic ? { count: d.synthetic.count, size: d.synthetic.size, seed: syntheticSeed } : undefined;
  const defaultPath =
    d.source === 'kaggle'
      ? '${dataDir}/kaggle-gz-sample'
      : d.source === 'gz2'
        ? '${dataDir}/gz2-sample'
        : `\${cacheDir}/synthetic/n${synthetic!.count}-s${synthetic!.size}-seed${syntheticSeed}`;
  // A synthetic data folder is written by the run: a given folder would be replaced.
  if (options.dataPath && d.source === 'synthetic') {
    problems.push(
      '--data-path: this config generates synthetic data (data.source "synthetic"), which would replace ' +
        `${resolve(options.dataPath)}; ` +
        'train on a data set in the Kaggle layout with data.source "kaggle" instead',
    );
  }
  return {
    source: d.source,
    path: options.dataPath
      ? resolve(options.dataPath)
      : expandPath(d.path ?? defaultPath, values, 'data.path', problems),
    convention: d.convention ?? (d.source === 'gz2' ? 'conditional' : 'cumulative'),
    ...(d.source === 'gz2' ? { labels: d.labels ?? 'debiased' } : {}),
    ...(synthetic ? { synthetic } : {}),
    split: d.split,
  };
}

/** The hash of what the results depend on: not names, descriptions, machine paths or where it runs. */
function experimentHash(seed: number, data: ResolvedData, variants: readonly ResolvedVariant[]): string {
  const settingsKey = (s: VariantSettings) => ({
    ...s,
    name: undefined,
    description: undefined,
    output: undefined,
    slurm: undefined,
    $schema: undefined,
    preprocess: { ...s.preprocess, cacheDir: undefined },
  });
  return sha256(
    canonicalJson({
      seed,
      data: { ...data, path: undefined, source: data.source },
      variants: variants.map((v) => ({ name: v.name, settings: settingsKey(v.settings) })),
    }),
  );
}

/** The file validated against the schema, or a ConfigError listing every problem. */
function validateFile(raw: unknown, source: string): ExperimentFile {
  const parsed = ExperimentFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, formatIssues(parsed.error.issues, raw, ExperimentFileSchema));
  return parsed.data;
}

/** The base settings (the file without `variants`) and the raw variants (default: one, the base). */
function splitVariants(
  raw: unknown,
  file: ExperimentFile,
): { base: Record<string, unknown>; rawVariants: Array<Record<string, unknown>> } {
  const { variants, ...base } = raw as Record<string, unknown>;
  const rawVariants = (variants as Array<Record<string, unknown>> | undefined) ?? [
    { name: file.model.kind, label: labelFor(file.model.kind, 1) },
  ];
  return { base, rawVariants };
}

/** Validate an already-parsed config object. `source` names it in errors; `configDir` anchors relative paths. */
export function parseExperimentConfig(
  raw: unknown,
  options: LoadOptions & { source?: string; configDir?: string } = {},
): Experiment {
  const source = options.source ?? '(inline config)';
  const file = validateFile(raw, source);
  const { base, rawVariants } = splitVariants(raw, file);
  const problems: string[] = [];
  const values: PlaceholderValues = {
    dataDir: resolveDataDir(options.dataDir),
    configDir: options.configDir ?? process.cwd(),
    projectRoot: projectHome(),
    runsDir: defaultRunsDir(),
  };
  const variants = resolveVariants(base, rawVariants, values, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);

  const first = variants[0].settings;
  const cacheDir = first.preprocess.cacheDir;
  values.cacheDir = cacheDir;
  const data = resolveData(first, values, options, problems);
  const outputDir = options.outputDir
    ? resolve(options.outputDir)
    : expandPath(file.output.dir, values, 'output.dir', problems);
  if (problems.length > 0) throw new ConfigError(source, problems);

  return {
    name: file.name,
    ...(file.description !== undefined ? { description: file.description } : {}),
    seed: file.seed,
    ...(options.source ? { sourcePath: options.source } : {}),
    dataDir: values.dataDir,
    data,
    outputDir,
    cacheDir,
    variants,
    config: file,
    hash: experimentHash(file.seed, data, variants),
  };
}

/** Read, parse and validate experiments/<name>.json. Throws ConfigError (exit code 2) on any problem. */
export function loadExperimentConfig(path: string, options: LoadOptions = {}): Experiment {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseExperimentConfig(raw, { ...options, source: file, configDir: dirname(file) });
}
