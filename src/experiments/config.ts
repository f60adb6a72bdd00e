/**
 * Experiment configs (experiments/*.json): the schema, friendly validation errors, path
 * placeholders, and the expansion of `variants` into complete per-variant settings that are
 * compared on the identical split with the identical training budget.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ANSWERS, KAGGLE_COLUMNS } from '../questions/index.js';
import { packageRoot, resolveDataDir } from '../data/data-dir.js';
import { ConfigError as ConfigErrorKind } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const positiveInt = () => z.number().int().min(1);

export const DATA_SOURCES = ['synthetic', 'kaggle', 'gz2'] as const;
export const CONVENTIONS = ['cumulative', 'conditional'] as const;
export const GZ2_LABELS = ['fraction', 'weighted_fraction', 'debiased'] as const;
export const PREPROCESS_METHODS = ['contour', 'center'] as const;
export const MODEL_KINDS = ['flat', 'hierarchical', 'per-question'] as const;
/**
 * mse: on the 37 cumulative outputs; cross-entropy: reach-weighted per-question cross-entropy;
 * conditional-mse: reach-weighted MSE on the per-question conditionals; dirichlet-multinomial: on vote counts.
 */
export const LOSS_KINDS = ['mse', 'cross-entropy', 'conditional-mse', 'dirichlet-multinomial'] as const;
export const OPTIMIZER_KINDS = ['adam', 'sgd', 'rmsprop'] as const;
export const SCHEDULE_KINDS = ['constant', 'step', 'exponential', 'cosine'] as const;
export const TTA_KINDS = ['none', 'flip', 'rot4', 'd4'] as const;
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export const MONITORS = ['val_loss', 'val_rmse'] as const;

const SyntheticSchema = z.strictObject({
  /** Number of galaxies to generate. */
  count: z.number().int().min(30).max(200_000),
  /** Side of the generated square JPEGs, pixels. */
  size: z.number().int().min(16).max(424).default(96),
  /** Generator seed; defaults to the experiment seed. */
  seed: z.number().int().min(0).optional(),
});

const SplitSchema = z.strictObject({
  validation: z.number().min(0).max(0.5).default(0.1),
  test: z.number().min(0.01).max(0.5).default(0.15),
});

const DataSchema = z.strictObject({
  /** Where galaxies come from: generated on the fly, a Kaggle-format directory, or a GZ2 catalogue directory. */
  source: z.enum(DATA_SOURCES),
  /**
   * Directory of the data. Placeholders: ${dataDir} (CLI --data-dir, env GZH_DATA_DIR, else
   * ../shared/data), ${configDir}, ${projectRoot}, ${cacheDir}. Relative paths are relative to
   * the config file. Defaults: kaggle → ${dataDir}/kaggle-gz-sample, gz2 → ${dataDir}/gz2-sample,
   * synthetic → a folder under ${cacheDir}/synthetic named after the generator settings.
   */
  path: z.string().min(1).optional(),
  /** Convention the targets are trained and scored in (Kaggle: cumulative; GZ2: conditional). */
  convention: z.enum(CONVENTIONS).optional(),
  /** GZ2 catalogues only: which fraction columns are the labels. */
  labels: z.enum(GZ2_LABELS).optional(),
  synthetic: SyntheticSchema.optional(),
  split: SplitSchema.default({ validation: 0.1, test: 0.15 }),
  /**
   * Train on this fraction of the training split (0 < f ≤ 1, default 1): a subset chosen with
   * the experiment seed, smaller fractions inside larger ones; validation and test are unchanged.
   * A variant may set its own (`"data": {"trainFraction": 0.25}`) for a learning curve.
   */
  trainFraction: z.number().gt(0).max(1).optional(),
});

/** The one data field a variant may override. */
const VariantDataSchema = z.strictObject({ trainFraction: DataSchema.shape.trainFraction });

const PreprocessSchema = z.strictObject({
  /** contour: the seed's crop to the galaxy's light contour; center: a fixed centre crop (Kaggle winner). */
  method: z.enum(PREPROCESS_METHODS).default('center'),
  /** Side of the cached square images, pixels (the network input is augment.outputSize). */
  size: z.number().int().min(8).max(424),
  /** Centre crop side in pixels of a 424-pixel original (scaled for other sizes); method center. */
  centerCrop: z.number().int().min(8).max(424).default(207),
  /** 3 = RGB, 1 = grayscale. */
  channels: z.union([z.literal(1), z.literal(3)]).default(3),
  /** Cache directory of catalogues, preprocessed images and synthetic data sets. */
  cacheDir: z.string().min(1).default('${projectRoot}/.cache'),
});

/**
 * `flat` is the seed Keras CNN (fixed architecture: only the input size follows the config);
 * the trunk fields shape the hierarchical model's shared trunk, and filters/dense/dropout the
 * per-question model's 11 branches.
 */
const ModelSchema = z.strictObject({
  kind: z.enum(MODEL_KINDS),
  /**
   * Hierarchical: `seed` (the flat model's trunk, the like-for-like comparison) or `deep` (configurable);
   * rotation-equivariant (any kind): `cyclic`, `views`, `gconv` (README "Rotation-equivariant trunks").
   */
  trunk: z.enum(['seed', 'deep', 'cyclic', 'views', 'gconv']).optional(),
  /** cyclic: `c4` or `d4` copies (default d4); gconv: `p4` or `p4m` (default p4m). */
  group: z.enum(['c4', 'd4', 'p4', 'p4m']).optional(),
  /** cyclic: cyclic roll between conv blocks. */
  roll: z.boolean().optional(),
  /** cyclic: `mean`/`rms` pooling of the copies; views: also `concat` (default). */
  merge: z.enum(['mean', 'rms', 'concat']).optional(),
  /** views: centre region side (input px), its resampled side, corner part side. */
  viewCrop: positiveInt().optional(),
  viewCropSize: positiveInt().optional(),
  viewPart: positiveInt().optional(),
  /** gconv: reduction over orientations (default max). */
  groupPool: z.enum(['max', 'mean']).optional(),
  /** Deep trunk / per-question branches: filters per conv block. */
  filters: z.array(positiveInt()).min(1).max(8).optional(),
  convsPerBlock: z.union([z.literal(1), z.literal(2)]).optional(),
  kernelSize: z.number().int().min(1).max(11).optional(),
  batchNorm: z.boolean().optional(),
  /** Deep trunk: BatchNorm moving-average momentum (default 0.99); lower settles the inference statistics in fewer steps. */
  batchNormMomentum: z.number().gt(0).lt(1).optional(),
  pooling: z.enum(['flatten', 'gap']).optional(),
  /** Width of the dense layer after the trunk (0 = none). */
  dense: z.number().int().min(0).max(4096).optional(),
  dropout: z.number().min(0).max(0.9).optional(),
  /** Hierarchical: `fused` (one Dense(37) + per-question softmax) or `separate` (11 Dense heads). */
  heads: z.enum(['fused', 'separate']).optional(),
});

const AugmentSchema = z.strictObject({
  /** Network input side, pixels; default: the largest centre crop of preprocess.size that the geometric ranges keep free of empty corners. */
  outputSize: positiveInt().optional(),
  d4: z.boolean().optional(),
  rotate: z.boolean().optional(),
  zoom: z.union([z.number().min(1), z.tuple([z.number().gt(0), z.number().gt(0)])]).optional(),
  translate: z.number().min(0).optional(),
  mirror: z.boolean().optional(),
  brightness: z.number().min(0).optional(),
  contrast: z.number().min(0).lt(1).optional(),
});

const LossSchema = z.strictObject({
  kind: z.enum(LOSS_KINDS).default('mse'),
  /** dirichlet-multinomial: total concentration of the predicted Dirichlet (default 20). */
  concentration: z.number().gt(0).optional(),
});

const OptimizerSchema = z.strictObject({
  kind: z.enum(OPTIMIZER_KINDS).default('adam'),
  learningRate: z.number().gt(0).max(10).default(1e-3),
  momentum: z.number().min(0).lt(1).optional(),
});

const ScheduleSchema = z.strictObject({
  kind: z.enum(SCHEDULE_KINDS).default('constant'),
  warmupEpochs: z.number().int().min(0).default(0),
  /** step: multiply by gamma every stepEpochs; exponential: multiply by gamma every epoch. */
  gamma: z.number().gt(0).max(1).optional(),
  stepEpochs: positiveInt().optional(),
  /** cosine: the floor of the learning rate. */
  minLearningRate: z.number().min(0).optional(),
});

const TrainingSchema = z.strictObject({
  /** Epochs per model (the budget every variant gets). */
  epochs: positiveInt().max(10_000),
  /** Optional wall-clock budget per model, minutes: training stops after the epoch that crosses it. */
  maxMinutes: z.number().gt(0).optional(),
  batchSize: positiveInt().max(4096).default(32),
});

const CallbacksSchema = z.strictObject({
  earlyStopping: z
    .strictObject({
      monitor: z.enum(MONITORS).default('val_rmse'),
      patience: positiveInt().default(5),
      minDelta: z.number().min(0).default(0),
    })
    .optional(),
  /** Checkpoints are written after every epoch and also inside an epoch every this many seconds (resume continues from the latest). */
  checkpointSeconds: z.number().gt(0).default(60),
  /** Put back the weights of the best validation epoch (by earlyStopping.monitor, else val_rmse) at the end. */
  restoreBest: z.boolean().default(true),
});

/** Sections one ensemble member may change, so that members see the galaxies differently. */
export const MEMBER_SECTIONS = ['preprocess', 'model', 'augment', 'loss'] as const;

/** A section of overrides, validated once merged into the settings it overrides. */
const overrideSection = () => z.record(z.string(), z.unknown());

const MemberSchema = z.strictObject({
  /** Shown in the report's member table (default: what the member changes). */
  label: z.string().min(1).max(60).optional(),
  preprocess: overrideSection().optional(),
  model: overrideSection().optional(),
  augment: overrideSection().optional(),
  loss: overrideSection().optional(),
});

const EnsembleSchema = z
  .strictObject({
    /** Models per variant, each trained with its own seed; predictions are averaged. */
    size: z.number().int().min(1).max(32).default(1),
    /** Test-time augmentation averaged at evaluation: none, flip (2), rot4 (4 rotations), d4 (8). */
    tta: z.enum(TTA_KINDS).default('none'),
    /**
     * Per-member overrides of preprocess / model / augment / loss, in member order; members past
     * the end of the list train with the variant's settings. Every member is scored on the same
     * test galaxies, each through its own preprocessing.
     */
    members: z.array(MemberSchema).max(32).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.members && e.members.length > e.size) {
      ctx.addIssue({ code: 'custom', path: ['members'], message: `lists ${e.members.length} members but size is ${e.size}` });
    }
  });

const answerIdSchema = z.string().refine((s) => answerIndex(s) !== undefined, {
  message: 'unknown answer',
});

const ReportSchema = z.strictObject({
  /** Answers shown as predicted-vs-true scatter plots (Kaggle ids such as Class1.1, or q1.smooth). */
  answers: z.array(answerIdSchema).max(12).default(['Class1.1', 'Class1.2', 'Class2.1', 'Class4.1']),
  /** Example test galaxies shown with their top answers. */
  examples: z.number().int().min(0).max(48).default(6),
  /** Points per scatter plot at most (a seeded sample of the test split). */
  scatterPoints: positiveInt().max(5000).default(500),
});

/**
 * How `--executor slurm` submits the run's tasks (the CLI's --partition … win). Where a run
 * executes never changes its results, so these settings are not part of the config hash.
 */
const SlurmSchema = z.strictObject({
  partition: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  /** Time limit per task in Slurm's format: `30`, `2:00:00`, `1-00:00:00`. */
  time: z.string().regex(/^[\d:-]+$/, 'must be a Slurm time limit such as 30, 2:00:00 or 1-00:00:00').optional(),
  cpusPerTask: z.number().int().min(1).optional(),
  /** Memory per task in Slurm's format: `4G`, `16000M`. */
  mem: z.string().regex(/^\d+[KMGT]?$/, 'must be a Slurm memory size such as 4G or 16000M').optional(),
  /** Extra `#SBATCH` lines, e.g. `--qos=long`. */
  extra: z.array(z.string().min(1)).optional(),
});

const OutputSchema = z.strictObject({
  /** Root of run folders and of the run registry (registry.sqlite). Env GZH_RUNS_DIR overrides the default. */
  dir: z.string().min(1).default('${runsDir}'),
});

/**
 * Sections a variant may override; data (but for `data.trainFraction`), split and seed stay
 * shared. A variant with its own preprocessing reads its own cache of the same galaxies. A
 * variant's own `training` section sets its epoch budget (e.g. fewer epochs for a trunk that
 * costs more per image, so that every model gets about the same compute).
 */
export const VARIANT_SECTIONS = ['preprocess', 'model', 'augment', 'loss', 'optimizer', 'schedule', 'training', 'callbacks', 'ensemble'] as const;
export type VariantSection = (typeof VARIANT_SECTIONS)[number];

const VariantSchema = z.strictObject({
  /** Short unique id (letters, digits, . _ -), used in folder names and tables. */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be 1–40 letters, digits, ".", "_" or "-"'),
  /** Human-readable label for the report. */
  label: z.string().optional(),
  description: z.string().optional(),
  preprocess: overrideSection().optional(),
  model: overrideSection().optional(),
  augment: overrideSection().optional(),
  loss: overrideSection().optional(),
  optimizer: overrideSection().optional(),
  schedule: overrideSection().optional(),
  training: overrideSection().optional(),
  callbacks: overrideSection().optional(),
  ensemble: overrideSection().optional(),
  data: VariantDataSchema.optional(),
});

const sharedShape = {
  $schema: z.string().optional(),
  /** Experiment name (letters, digits, . _ -). */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,60}$/, 'must be 1–60 letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  /** Seeds the split, batch order, augmentation, initialisation and synthetic data. */
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  /** Compute backend; the CLI's --backend wins. */
  backend: z.enum(BACKENDS).optional(),
  data: DataSchema,
  preprocess: PreprocessSchema,
  model: ModelSchema,
  augment: AugmentSchema.default({}),
  loss: LossSchema.default({ kind: 'mse' }),
  optimizer: OptimizerSchema.default({ kind: 'adam', learningRate: 1e-3 }),
  schedule: ScheduleSchema.default({ kind: 'constant', warmupEpochs: 0 }),
  training: TrainingSchema,
  callbacks: CallbacksSchema.default({ checkpointSeconds: 60, restoreBest: true }),
  ensemble: EnsembleSchema.default({ size: 1, tta: 'none' }),
  report: ReportSchema.default({
    answers: ['Class1.1', 'Class1.2', 'Class2.1', 'Class4.1'],
    examples: 6,
    scatterPoints: 500,
  }),
  output: OutputSchema.default({ dir: '${runsDir}' }),
  slurm: SlurmSchema.optional(),
};

/** The whole file. `model` etc. are the base settings; each variant overrides some of them. */
export const ExperimentFileSchema = z
  .strictObject({
    ...sharedShape,
    /** The variants compared on the identical split with the same budget unless they set their own (default: just the base). */
    variants: z.array(VariantSchema).min(1).max(16).optional(),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    (cfg.variants ?? []).forEach((v, i) => {
      if (seen.has(v.name)) {
        ctx.addIssue({ code: 'custom', path: ['variants', i, 'name'], message: `duplicate variant name "${v.name}"` });
      }
      seen.add(v.name);
    });
  });

/** The settings one variant trains with (the base merged with the variant's overrides). */
const SettingsSchema = z.strictObject(sharedShape).superRefine((cfg, ctx) => {
  if (cfg.data.source === 'synthetic' && !cfg.data.synthetic) {
    ctx.addIssue({ code: 'custom', path: ['data', 'synthetic'], message: 'is required when data.source is "synthetic" (e.g. {"count": 1500, "size": 64})' });
  }
  if (cfg.data.source !== 'synthetic' && cfg.data.synthetic) {
    ctx.addIssue({ code: 'custom', path: ['data', 'synthetic'], message: `only applies when data.source is "synthetic" (it is "${cfg.data.source}")` });
  }
  if (cfg.data.labels && cfg.data.source !== 'gz2') {
    ctx.addIssue({ code: 'custom', path: ['data', 'labels'], message: `only applies when data.source is "gz2" (it is "${cfg.data.source}")` });
  }
  if (cfg.data.split.validation + cfg.data.split.test >= 0.9) {
    ctx.addIssue({ code: 'custom', path: ['data', 'split'], message: 'validation + test must leave at least 10% for training' });
  }
  if (cfg.loss.kind !== 'mse' && cfg.model.kind === 'flat') {
    ctx.addIssue({
      code: 'custom',
      path: ['loss', 'kind'],
      message: `"${cfg.loss.kind}" needs per-question softmax outputs; with model.kind "flat" use "mse"`,
    });
  }
  if (cfg.loss.kind === 'dirichlet-multinomial' && cfg.data.source === 'kaggle') {
    ctx.addIssue({ code: 'custom', path: ['loss', 'kind'], message: '"dirichlet-multinomial" needs vote counts, which Kaggle-format data lacks' });
  }
  const input = cfg.augment.outputSize ?? cfg.preprocess.size;
  if (input > cfg.preprocess.size) {
    ctx.addIssue({ code: 'custom', path: ['augment', 'outputSize'], message: `must be ≤ preprocess.size (${cfg.preprocess.size}), got ${input}` });
  }
  if (cfg.model.kind === 'flat' && input < 22) {
    ctx.addIssue({ code: 'custom', path: ['augment', 'outputSize'], message: `the flat seed CNN needs inputs of at least 22 pixels, got ${input}` });
  }
  if (cfg.schedule.kind === 'step' && !cfg.schedule.stepEpochs) {
    ctx.addIssue({ code: 'custom', path: ['schedule', 'stepEpochs'], message: 'is required when schedule.kind is "step"' });
  }
  if (Array.isArray(cfg.augment.zoom) && cfg.augment.zoom[0] > cfg.augment.zoom[1]) {
    ctx.addIssue({ code: 'custom', path: ['augment', 'zoom'], message: 'min exceeds max' });
  }
});

export type ExperimentFile = z.output<typeof ExperimentFileSchema>;
export type VariantSettings = z.output<typeof SettingsSchema>;
export type DataSource = (typeof DATA_SOURCES)[number];
export type ModelKind = (typeof MODEL_KINDS)[number];
export type LossKind = (typeof LOSS_KINDS)[number];
export type TtaKind = (typeof TTA_KINDS)[number];
export type BackendName = (typeof BACKENDS)[number];
export type ModelSettings = VariantSettings['model'];
export type AugmentSettings = VariantSettings['augment'];
export type TrainingSettings = VariantSettings['training'];
export type PreprocessSettings = VariantSettings['preprocess'];

export interface ResolvedMember {
  /** What this member changes from the variant ("" when nothing). */
  readonly label: string;
  /** Complete settings of this member: the variant's with the member's overrides. */
  readonly settings: VariantSettings;
}

export interface ResolvedVariant {
  readonly name: string;
  readonly label: string;
  readonly description?: string;
  /** Complete settings (defaults filled, paths absolute) for this variant. */
  readonly settings: VariantSettings;
  /** One entry per ensemble member (ensemble.size of them; a single model has one). */
  readonly members: readonly ResolvedMember[];
}

/** Data settings with defaults applied and the directory resolved. */
export interface ResolvedData {
  readonly source: DataSource;
  /** Absolute directory (for synthetic: where the generated Kaggle-format set lives). */
  readonly path: string;
  readonly convention: 'cumulative' | 'conditional';
  readonly labels?: (typeof GZ2_LABELS)[number];
  readonly synthetic?: { readonly count: number; readonly size: number; readonly seed: number };
  readonly split: { readonly validation: number; readonly test: number };
}

export interface Experiment {
  readonly name: string;
  readonly description?: string;
  readonly seed: number;
  /** The config file, absolute, or undefined when built in memory. */
  readonly sourcePath?: string;
  /** The data directory ${dataDir} stood for. */
  readonly dataDir: string;
  readonly data: ResolvedData;
  /** Absolute root for run folders and the registry. */
  readonly outputDir: string;
  readonly cacheDir: string;
  readonly variants: readonly ResolvedVariant[];
  /** The file as validated, defaults filled in (what the registry stores). */
  readonly config: ExperimentFile;
  /** sha256 of the canonical resolved experiment (settings of every variant, data, budget). */
  readonly hash: string;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** A config that cannot be used; `problems` are one friendly line each (field path first). */
export class ConfigError extends ConfigErrorKind {
  readonly exitCode = 2;
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid experiment config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type PathKey = PropertyKey;

function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key as string];
  }
  return cur;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, { def: ZodDefLike }>;
  innerType?: { def: ZodDefLike };
  element?: { def: ZodDefLike };
  in?: { def: ZodDefLike };
  options?: Array<{ def: ZodDefLike }>;
  values?: unknown[];
  entries?: Record<string, unknown>;
}

/** The object keys a schema accepts at a path (for "unknown field" messages). */
function allowedKeys(schema: { def: unknown }, path: readonly PathKey[]): string[] | undefined {
  let def = schema.def as ZodDefLike;
  const unwrap = () => {
    for (let i = 0; i < 10; i++) {
      if (def.innerType) def = def.innerType.def;
      else if (def.type === 'pipe' && def.in) def = def.in.def;
      else break;
    }
  };
  for (const key of path) {
    unwrap();
    if (def.type === 'object' && def.shape && typeof key === 'string' && def.shape[key]) def = def.shape[key].def;
    else if (def.type === 'array' && def.element && typeof key === 'number') def = def.element.def;
    else return undefined;
  }
  unwrap();
  return def.type === 'object' && def.shape ? Object.keys(def.shape).filter((k) => k !== '$schema') : undefined;
}

function expectedFromUnion(errors: ReadonlyArray<ReadonlyArray<z.core.$ZodIssue>>): string {
  const parts: string[] = [];
  for (const branch of errors) {
    for (const issue of branch) {
      if (issue.code === 'invalid_value') parts.push(...issue.values.map((v) => JSON.stringify(v)));
      else if (issue.code === 'invalid_type') parts.push(`a ${issue.expected}`);
      else if (issue.code === 'too_small') parts.push(`a number ≥ ${String(issue.minimum)}`);
    }
  }
  return [...new Set(parts)].join(' or ');
}

/** One friendly line per zod issue: `field.path: what is wrong (got …; allowed …)`. */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: { def: unknown },
  prefix: readonly PathKey[] = [],
): string[] {
  return issues.map((issue) => {
    const where = formatPath([...prefix, ...issue.path]);
    const got = valueAt(input, issue.path);
    switch (issue.code) {
      case 'invalid_value':
        return `${where}: ${show(got)} is not allowed; allowed values: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      case 'invalid_type': {
        if (got === undefined) return `${where}: is required (expected ${expectedName(issue.expected)})`;
        return `${where}: expected ${expectedName(issue.expected)}, got ${show(got)}`;
      }
      case 'unrecognized_keys': {
        const allowed = allowedKeys(schema, issue.path);
        const names = issue.keys.map((k) => `"${k}"`).join(', ');
        return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${names}${allowed ? `; allowed fields: ${allowed.join(', ')}` : ''}`;
      }
      case 'too_small': {
        const op = issue.inclusive ? '≥' : '>';
        if (issue.origin === 'array') return `${where}: needs at least ${String(issue.minimum)} item(s), got ${Array.isArray(got) ? got.length : show(got)}`;
        if (issue.origin === 'string') return `${where}: must not be empty`;
        return `${where}: must be ${op} ${String(issue.minimum)}, got ${show(got)}`;
      }
      case 'too_big': {
        const op = issue.inclusive ? '≤' : '<';
        if (issue.origin === 'array') return `${where}: allows at most ${String(issue.maximum)} item(s), got ${Array.isArray(got) ? got.length : show(got)}`;
        return `${where}: must be ${op} ${String(issue.maximum)}, got ${show(got)}`;
      }
      case 'invalid_union':
        return `${where}: ${show(got)} is not allowed; expected ${expectedFromUnion(issue.errors) || 'another value'}`;
      case 'invalid_format':
        return `${where}: ${issue.message}, got ${show(got)}`;
      case 'custom':
        if (issue.message === 'unknown answer') {
          return `${where}: unknown answer ${show(got)}; allowed values: Kaggle ids ${KAGGLE_COLUMNS[0]} … ${KAGGLE_COLUMNS[KAGGLE_COLUMNS.length - 1]} or q<question>.<answer key> (e.g. q1.smooth)`;
        }
        return `${where}: ${issue.message}`;
      default:
        return `${where}: ${issue.message}`;
    }
  });
}

function expectedName(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object') return 'an object';
  if (expected === 'array') return 'an array';
  return `a ${expected}`;
}

// ---------------------------------------------------------------------------------------------
// Answers, merging, placeholders
// ---------------------------------------------------------------------------------------------

/** Index (0…36) of an answer given as a Kaggle id (Class1.1) or q<question>.<key> (q1.smooth). */
export function answerIndex(id: string): number | undefined {
  const k = KAGGLE_COLUMNS.indexOf(id);
  if (k >= 0) return k;
  const m = /^q(\d+)\.(.+)$/.exec(id);
  if (!m) return undefined;
  const answer = ANSWERS.find((a) => a.question === Number(m[1]) && a.key === m[2]);
  return answer?.index;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key (recursively); arrays and scalars in `override` replace. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(base[key], value);
  return out;
}

/** JSON with object keys sorted, for hashing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Default root of run folders and the registry: env GZH_RUNS_DIR, else <project>/runs. */
export function defaultRunsDir(): string {
  return process.env.GZH_RUNS_DIR ? resolve(process.env.GZH_RUNS_DIR) : resolve(packageRoot(), 'runs');
}

export interface LoadOptions {
  /** Overrides ${dataDir} (CLI --data-dir); else env GZH_DATA_DIR, else ../shared/data. */
  readonly dataDir?: string;
  /** Overrides output.dir (CLI --out). */
  readonly outputDir?: string;
  /** Overrides data.path (CLI --data-path), e.g. the full Kaggle download. */
  readonly dataPath?: string;
}

interface PlaceholderValues {
  readonly dataDir: string;
  readonly configDir: string;
  readonly projectRoot: string;
  readonly runsDir: string;
  cacheDir?: string;
}

function expandPath(template: string, values: PlaceholderValues, field: string, problems: string[]): string {
  const expanded = template.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const v = (values as unknown as Record<string, string | undefined>)[name];
    if (v === undefined) {
      problems.push(`${field}: unknown placeholder ${whole}; allowed placeholders: \${dataDir}, \${configDir}, \${projectRoot}, \${runsDir}, \${cacheDir}`);
      return whole;
    }
    return v;
  });
  return isAbsolute(expanded) ? resolve(expanded) : resolve(values.configDir, expanded);
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/** Validate an already-parsed config object. `source` names it in errors; `configDir` anchors relative paths. */
export function parseExperimentConfig(
  raw: unknown,
  options: LoadOptions & { source?: string; configDir?: string } = {},
): Experiment {
  const source = options.source ?? '(inline config)';
  const parsed = ExperimentFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, formatIssues(parsed.error.issues, raw, ExperimentFileSchema));
  const file = parsed.data;

  const rawObject = raw as Record<string, unknown>;
  const base: Record<string, unknown> = { ...rawObject };
  delete base.variants;
  const rawVariants = (rawObject.variants as Array<Record<string, unknown>> | undefined) ?? [
    { name: file.model.kind, label: labelFor(file.model.kind, 1) },
  ];

  const problems: string[] = [];
  const values: PlaceholderValues = {
    dataDir: resolveDataDir(options.dataDir),
    configDir: options.configDir ?? process.cwd(),
    projectRoot: packageRoot(),
    runsDir: defaultRunsDir(),
  };

  const variants: ResolvedVariant[] = [];
  rawVariants.forEach((rv, i) => {
    if (isPlainObject(rv.preprocess) && 'cacheDir' in rv.preprocess) {
      problems.push(`variants[${i}] ("${String(rv.name)}"): preprocess.cacheDir: variants share the experiment's cache directory; set it in the base preprocess`);
      return;
    }
    let merged: unknown = base;
    for (const section of [...VARIANT_SECTIONS, 'data'] as const) {
      if (rv[section] !== undefined) merged = deepMerge(merged, { [section]: rv[section] });
    }
    const result = SettingsSchema.safeParse(merged);
    if (!result.success) {
      // Problems already in the base are reported once, without a variant prefix.
      const baseCheck = SettingsSchema.safeParse(base);
      const baseLines = baseCheck.success ? [] : formatIssues(baseCheck.error.issues, base, SettingsSchema);
      for (const line of formatIssues(result.error.issues, merged, SettingsSchema)) {
        if (baseLines.includes(line)) {
          if (!problems.includes(line)) problems.push(line);
        } else {
          problems.push(`variants[${i}] ("${String(rv.name)}"): ${line}`);
        }
      }
      return;
    }
    const parsed = result.data;
    values.cacheDir = expandPath(parsed.preprocess.cacheDir, values, 'preprocess.cacheDir', problems);
    const settings: VariantSettings = { ...parsed, preprocess: { ...parsed.preprocess, cacheDir: values.cacheDir } };
    const name = String(rv.name);
    const where = `variants[${i}] ("${name}")`;
    const members = resolveMembers(settings, merged, where, problems);
    variants.push({
      name,
      label: typeof rv.label === 'string' ? rv.label : labelFor(settings.model.kind, settings.ensemble.size),
      ...(typeof rv.description === 'string' ? { description: rv.description } : {}),
      settings,
      members,
    });
  });
  if (problems.length > 0) throw new ConfigError(source, problems);

  const first = variants[0].settings;
  const cacheDir = first.preprocess.cacheDir;
  values.cacheDir = cacheDir;
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
    problems.push(`--data-path: this config generates synthetic data (data.source "synthetic"), which would replace ${resolve(options.dataPath)}; train on a data set in the Kaggle layout with data.source "kaggle" instead`);
  }
  const dataPath = options.dataPath ? resolve(options.dataPath) : expandPath(d.path ?? defaultPath, values, 'data.path', problems);
  const outputDir = options.outputDir ? resolve(options.outputDir) : expandPath(file.output.dir, values, 'output.dir', problems);
  if (problems.length > 0) throw new ConfigError(source, problems);

  const data: ResolvedData = {
    source: d.source,
    path: dataPath,
    convention: d.convention ?? (d.source === 'gz2' ? 'conditional' : 'cumulative'),
    ...(d.source === 'gz2' ? { labels: d.labels ?? 'debiased' } : {}),
    ...(synthetic ? { synthetic } : {}),
    split: d.split,
  };

  const hash = sha256(
    canonicalJson({
      seed: file.seed,
      data: { ...data, path: undefined, source: data.source },
      variants: variants.map((v) => ({
        name: v.name,
        settings: { ...v.settings, name: undefined, description: undefined, output: undefined, slurm: undefined, $schema: undefined, preprocess: { ...v.settings.preprocess, cacheDir: undefined } },
      })),
    }),
  );

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
    hash,
  };
}

/**
 * The settings of each ensemble member: the variant's, with the member's overrides merged in.
 * Members share the variant's data, split, budget and cache directory.
 */
function resolveMembers(settings: VariantSettings, merged: unknown, where: string, problems: string[]): ResolvedMember[] {
  const overrides = settings.ensemble.members ?? [];
  const members: ResolvedMember[] = [];
  for (let m = 0; m < settings.ensemble.size; m++) {
    const override = overrides[m];
    const changed = override ? MEMBER_SECTIONS.filter((section) => override[section] !== undefined && Object.keys(override[section]!).length > 0) : [];
    if (!override || changed.length === 0) {
      members.push({ label: override?.label ?? '', settings });
      continue;
    }
    if (override.preprocess && 'cacheDir' in override.preprocess) {
      problems.push(`${where}: ensemble.members[${m}].preprocess.cacheDir: members share the experiment's cache directory; remove it`);
      continue;
    }
    let memberMerged = merged;
    for (const section of changed) memberMerged = deepMerge(memberMerged, { [section]: override[section] });
    const result = SettingsSchema.safeParse(memberMerged);
    if (!result.success) {
      for (const line of formatIssues(result.error.issues, memberMerged, SettingsSchema)) problems.push(`${where}: ensemble.members[${m}]: ${line}`);
      continue;
    }
    const label =
      override.label ??
      changed.flatMap((section) => Object.entries(override[section]!).map(([key, value]) => `${section}.${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`)).join(', ');
    members.push({ label, settings: { ...result.data, preprocess: { ...result.data.preprocess, cacheDir: settings.preprocess.cacheDir } } });
  }
  return members;
}

function labelFor(kind: ModelKind, ensembleSize: number): string {
  const base = kind === 'flat' ? 'Flat' : kind === 'hierarchical' ? 'Hierarchical' : 'Per-question';
  return ensembleSize > 1 ? `${base} ×${ensembleSize} ensemble` : base;
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
  let raw: Json;
  try {
    raw = JSON.parse(text) as Json;
  } catch (error) {
    throw new ConfigError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseExperimentConfig(raw, { ...options, source: file, configDir: dirname(file) });
}
