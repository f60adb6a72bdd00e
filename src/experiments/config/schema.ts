/**
 * The experiment config schema (experiments/*.json): every section, its defaults and ranges, the
 * cross-field rules of one variant's settings, and the types derived from them.
 */
import { z } from 'zod';
import { ANSWERS, KAGGLE_COLUMNS } from '../../questions/index.js';

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
  /** Fraction of the galaxies held out for validation (early stopping, best epoch). */
  validation: z.number().min(0).max(0.5).default(0.1),
  /** Fraction of the galaxies held out for the final test scores. */
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
  /** Synthetic data only: the generator's settings. */
  synthetic: SyntheticSchema.optional(),
  /** How the galaxies are split (stratified, seeded by the experiment seed). */
  split: SplitSchema.default({ validation: 0.1, test: 0.15 }),
  /**
   * Train on this fraction of the training split (0 < f ≤ 1, default 1): a subset chosen with
   * the experiment seed, smaller fractions inside larger ones; validation and test are unchanged.
   * A variant may set its own (`"data": {"trainFraction": 0.25}`) for a learning curve.
   */
  trainFraction: z.number().gt(0).max(1).optional(),
});

/** The one data field a variant may override. */
const VariantDataSchema = z.strictObject({
  /** The variant's own fraction of the training split (see the data section's `trainFraction`). */
  trainFraction: DataSchema.shape.trainFraction,
});

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
  /** Which model family: the flat seed CNN, the hierarchical tree model, or 11 per-question CNNs. */
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
  /** views: side, input pixels, the centre region is resampled to. */
  viewCropSize: positiveInt().optional(),
  /** views: side, input pixels, of each corner part. */
  viewPart: positiveInt().optional(),
  /** gconv: reduction over orientations (default max). */
  groupPool: z.enum(['max', 'mean']).optional(),
  /** Deep trunk / per-question branches: filters per conv block. */
  filters: z.array(positiveInt()).min(1).max(8).optional(),
  /** Deep trunk / branches: convolutions per block. */
  convsPerBlock: z.union([z.literal(1), z.literal(2)]).optional(),
  /** Deep trunk / branches: convolution kernel side. */
  kernelSize: z.number().int().min(1).max(11).optional(),
  /** Deep trunk / branches: batch normalisation after each convolution. */
  batchNorm: z.boolean().optional(),
  /**
   * Deep trunk: BatchNorm moving-average momentum (default 0.99); lower settles the inference statistics in fewer
   * steps.
   */
  batchNormMomentum: z.number().gt(0).lt(1).optional(),
  /** Deep trunk / branches: how the last feature map becomes a vector (flatten, or global average pooling). */
  pooling: z.enum(['flatten', 'gap']).optional(),
  /** Width of the dense layer after the trunk (0 = none). */
  dense: z.number().int().min(0).max(4096).optional(),
  /** Dropout rate before the dense layer and the heads. */
  dropout: z.number().min(0).max(0.9).optional(),
  /** Hierarchical: `fused` (one Dense(37) + per-question softmax) or `separate` (11 Dense heads). */
  heads: z.enum(['fused', 'separate']).optional(),
});

const AugmentSchema = z.strictObject({
  /**
   * Network input side, pixels; default: the largest centre crop of preprocess.size that the geometric ranges keep
   * free of empty corners.
   */
  outputSize: positiveInt().optional(),
  /** Random D4 elements (quarter turns and mirrors), exact on the pixel grid. */
  d4: z.boolean().optional(),
  /** Random rotations by any angle (bilinear resampling). */
  rotate: z.boolean().optional(),
  /** Random zoom: a maximum factor (1 … z) or a [min, max] range. */
  zoom: z.union([z.number().min(1), z.tuple([z.number().gt(0), z.number().gt(0)])]).optional(),
  /** Random translation, at most this many pixels of the network input in each direction. */
  translate: z.number().min(0).optional(),
  /** Random horizontal mirror. */
  mirror: z.boolean().optional(),
  /** Random brightness change, at most ± this much (pixel values in [0, 1]). */
  brightness: z.number().min(0).optional(),
  /** Random contrast change, a factor within 1 ± this. */
  contrast: z.number().min(0).lt(1).optional(),
});

const LossSchema = z.strictObject({
  /** The loss minimised (see LOSS_KINDS). */
  kind: z.enum(LOSS_KINDS).default('mse'),
  /** dirichlet-multinomial: total concentration of the predicted Dirichlet (default 20). */
  concentration: z.number().gt(0).optional(),
});

const OptimizerSchema = z.strictObject({
  /** The optimiser. */
  kind: z.enum(OPTIMIZER_KINDS).default('adam'),
  /** Initial learning rate (the schedule changes it from there). */
  learningRate: z.number().gt(0).max(10).default(1e-3),
  /** sgd / rmsprop: momentum. */
  momentum: z.number().min(0).lt(1).optional(),
});

const ScheduleSchema = z.strictObject({
  /** How the learning rate changes from epoch to epoch. */
  kind: z.enum(SCHEDULE_KINDS).default('constant'),
  /** Epochs of linear warm-up from 0 to the learning rate before the schedule starts. */
  warmupEpochs: z.number().int().min(0).default(0),
  /** step: multiply by gamma every stepEpochs; exponential: multiply by gamma every epoch. */
  gamma: z.number().gt(0).max(1).optional(),
  /** step: epochs between two multiplications by gamma. */
  stepEpochs: positiveInt().optional(),
  /** cosine: the floor of the learning rate. */
  minLearningRate: z.number().min(0).optional(),
});

const TrainingSchema = z.strictObject({
  /** Epochs per model (the budget every variant gets). */
  epochs: positiveInt().max(10_000),
  /** Optional wall-clock budget per model, minutes: training stops after the epoch that crosses it. */
  maxMinutes: z.number().gt(0).optional(),
  /** Galaxies per training step. */
  batchSize: positiveInt().max(4096).default(32),
});

const CallbacksSchema = z.strictObject({
  /** Stop when the monitored validation metric has not improved for `patience` epochs. */
  earlyStopping: z
    .strictObject({
      /** Validation metric watched. */
      monitor: z.enum(MONITORS).default('val_rmse'),
      /** Epochs without improvement before training stops. */
      patience: positiveInt().default(5),
      /** Smallest change that counts as an improvement. */
      minDelta: z.number().min(0).default(0),
    })
    .optional(),
  /**
   * Checkpoints are written after every epoch and also inside an epoch every this many seconds (resume continues from
   * the latest).
   */
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
  /** Overrides of the variant's preprocess section for this member. */
  preprocess: overrideSection().optional(),
  /** Overrides of the variant's model section for this member. */
  model: overrideSection().optional(),
  /** Overrides of the variant's augment section for this member. */
  augment: overrideSection().optional(),
  /** Overrides of the variant's loss section for this member. */
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
      ctx.addIssue({
        code: 'custom',
        path: ['members'],
        message: `lists ${e.members.length} members but size is ${e.size}`,
      });
    }
  });
/** The message of an unknown report answer; `formatIssues` words it with the allowed ids. */
export const UNKNOWN_ANSWER = 'unknown answer';

const answerIdSchema = z.string().refine((s) => answerIndex(s) !== undefined, {
  message: UNKNOWN_ANSWER,
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
  /** Slurm partition (sbatch --partition). */
  partition: z.string().min(1).optional(),
  /** Slurm account (sbatch --account). */
  account: z.string().min(1).optional(),
  /** Time limit per task in Slurm's format: `30`, `2:00:00`, `1-00:00:00`. */
  time: z
    .string()
    .regex(/^[\d:-]+$/, 'must be a Slurm time limit such as 30, 2:00:00 or 1-00:00:00')
    .optional(),
  /** CPUs per task (sbatch --cpus-per-task). */
  cpusPerTask: z.number().int().min(1).optional(),
  /** Memory per task in Slurm's format: `4G`, `16000M`. */
  mem: z
    .string()
    .regex(/^\d+[KMGT]?$/, 'must be a Slurm memory size such as 4G or 16000M')
    .optional(),
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
export const VARIANT_SECTIONS = [
  'preprocess',
  'model',
  'augment',
  'loss',
  'optimizer',
  'schedule',
  'training',
  'callbacks',
  'ensemble',
] as const;
export type VariantSection = (typeof VARIANT_SECTIONS)[number];

const VariantSchema = z.strictObject({
  /** Short unique id (letters, digits, . _ -), used in folder names and tables. */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be 1–40 letters, digits, ".", "_" or "-"'),
  /** Human-readable label for the report. */
  label: z.string().optional(),
  /** Free text shown in the report. */
  description: z.string().optional(),
  /** Overrides of the base preprocess section. */
  preprocess: overrideSection().optional(),
  /** Overrides of the base model section. */
  model: overrideSection().optional(),
  /** Overrides of the base augment section. */
  augment: overrideSection().optional(),
  /** Overrides of the base loss section. */
  loss: overrideSection().optional(),
  /** Overrides of the base optimizer section. */
  optimizer: overrideSection().optional(),
  /** Overrides of the base schedule section. */
  schedule: overrideSection().optional(),
  /** Overrides of the base callbacks section. */
  callbacks: overrideSection().optional(),
  /** Overrides of the base ensemble section. */
  ensemble: overrideSection().optional(),
  /** Overrides of the base training section (its epoch budget). */
  training: overrideSection().optional(),
  /** The variant's own `data.trainFraction`. */
  data: VariantDataSchema.optional(),
});

const sharedShape = {
  /** URL of the JSON schema, for editors; ignored. */
  $schema: z.string().optional(),
  /** Experiment name (letters, digits, . _ -). */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,60}$/, 'must be 1–60 letters, digits, ".", "_" or "-"'),
  /** Free text shown in the report. */
  description: z.string().optional(),
  /** Seeds the split, batch order, augmentation, initialisation and synthetic data. */
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  /** Compute backend; the CLI's --backend wins. */
  backend: z.enum(BACKENDS).optional(),
  /** Where the galaxies come from and how they are split. */
  data: DataSchema,
  /** How images are cropped, resized and cached. */
  preprocess: PreprocessSchema,
  /** The model trained (the base; variants may override it). */
  model: ModelSchema,
  /** Random augmentation of training images. */
  augment: AugmentSchema.default({}),
  /** The loss minimised. */
  loss: LossSchema.default({ kind: 'mse' }),
  /** The optimiser and its learning rate. */
  optimizer: OptimizerSchema.default({ kind: 'adam', learningRate: 1e-3 }),
  /** The learning-rate schedule. */
  schedule: ScheduleSchema.default({ kind: 'constant', warmupEpochs: 0 }),
  /** The training budget every variant gets. */
  training: TrainingSchema,
  /** Early stopping, checkpoints and restoring the best epoch. */
  callbacks: CallbacksSchema.default({ checkpointSeconds: 60, restoreBest: true }),
  /** Ensemble size, test-time augmentation and per-member overrides. */
  ensemble: EnsembleSchema.default({ size: 1, tta: 'none' }),
  /** What the report shows. */
  report: ReportSchema.default({
    answers: ['Class1.1', 'Class1.2', 'Class2.1', 'Class4.1'],
    examples: 6,
    scatterPoints: 500,
  }),
  /** Where run folders and the registry go. */
  output: OutputSchema.default({ dir: '${runsDir}' }),
  /** Slurm settings for `--executor slurm`. */
  slurm: SlurmSchema.optional(),
};

/** The whole file. `model` etc. are the base settings; each variant overrides some of them. */
export const ExperimentFileSchema = z
  .strictObject({
    ...sharedShape,
    /**
     * The variants compared on the identical split with the same budget unless they set their own (default:
     * just the base).
     */
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
export const SettingsSchema = z.strictObject(sharedShape).superRefine((cfg, ctx) => {
  if (cfg.data.source === 'synthetic' && !cfg.data.synthetic) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'synthetic'],
      message: 'is required when data.source is "synthetic" (e.g. {"count": 1500, "size": 64})',
    });
  }
  if (cfg.data.source !== 'synthetic' && cfg.data.synthetic) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'synthetic'],
      message: `only applies when data.source is "synthetic" (it is "${cfg.data.source}")`,
    });
  }
  if (cfg.data.labels && cfg.data.source !== 'gz2') {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'labels'],
      message: `only applies when data.source is "gz2" (it is "${cfg.data.source}")`,
    });
  }
  if (cfg.data.split.validation + cfg.data.split.test >= 0.9) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'split'],
      message: 'validation + test must leave at least 10% for training',
    });
  }
  if (cfg.loss.kind !== 'mse' && cfg.model.kind === 'flat') {
    ctx.addIssue({
      code: 'custom',
      path: ['loss', 'kind'],
      message: `"${cfg.loss.kind}" needs per-question softmax outputs; with model.kind "flat" use "mse"`,
    });
  }
  if (cfg.loss.kind === 'dirichlet-multinomial' && cfg.data.source === 'kaggle') {
    ctx.addIssue({
      code: 'custom',
      path: ['loss', 'kind'],
      message: '"dirichlet-multinomial" needs vote counts, which Kaggle-format data lacks',
    });
  }
  const input = cfg.augment.outputSize ?? cfg.preprocess.size;
  if (input > cfg.preprocess.size) {
    ctx.addIssue({
      code: 'custom',
      path: ['augment', 'outputSize'],
      message: `must be ≤ preprocess.size (${cfg.preprocess.size}), got ${input}`,
    });
  }
  if (cfg.model.kind === 'flat' && input < 22) {
    ctx.addIssue({
      code: 'custom',
      path: ['augment', 'outputSize'],
      message: `the flat seed CNN needs inputs of at least 22 pixels, got ${input}`,
    });
  }
  if (cfg.schedule.kind === 'step' && !cfg.schedule.stepEpochs) {
    ctx.addIssue({
      code: 'custom',
      path: ['schedule', 'stepEpochs'],
      message: 'is required when schedule.kind is "step"',
    });
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

/** Index (0…36) of an answer given as a Kaggle id (Class1.1) or q<question>.<key> (q1.smooth). */
export function answerIndex(id: string): number | undefined {
  const k = KAGGLE_COLUMNS.indexOf(id);
  if (k >= 0) return k;
  const m = /^q(\d+)\.(.+)$/.exec(id);
  if (!m) return undefined;
  const answer = ANSWERS.find((a) => a.question === Number(m[1]) && a.key === m[2]);
  return answer?.index;
}
