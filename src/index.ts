/**
 * galaxy-zoo-hierarchy: predict Galaxy Zoo vote fractions (the 37 answers of the GZ2 decision
 * tree) with flat and tree-aware CNNs in TensorFlow.js.
 *
 *   import { EnsemblePredictor } from 'galaxy-zoo-hierarchy';
 *   const predictor = await EnsemblePredictor.load('runs/kaggle-sample/ensemble');
 *   const result = await predictor.predict('galaxy.jpg');
 *   result.answers.q1.smooth; result.cumulative; result.uncertainty;
 *
 * Importing this module registers the library's custom layers (DecisionTreeLayer, QuestionSoftmax)
 * with TensorFlow.js, so `tf.loadLayersModel` can read every model it saves (`loadModel(dir)` reads
 * a model folder in Node without tfjs-node's file:// handler).
 */

// Prediction: ensembles, test-time augmentation, projection onto the tree
export {
  EnsemblePredictor,
  PredictInputError,
  inputName,
  manifestPreprocessing,
  preprocessInput,
  type MemberInfo,
  type PredictInput,
  type PredictManyOptions,
  type PredictOutcome,
  type Prediction,
  type PredictorOptions,
} from './ensemble/predictor.js';
export {
  ENSEMBLE_FILE,
  ENSEMBLE_FORMAT,
  readEnsembleDir,
  writeEnsembleDir,
  type EnsembleDescription,
  type EnsembleFile,
  type EnsembleMemberEntry,
  type EnsembleMemberRef,
  type WriteEnsembleOptions,
} from './ensemble/ensemble-dir.js';
export {
  TTA_NAMES,
  isExactView,
  resolveTta,
  ttaName,
  ttaViews,
  type TtaGrid,
  type TtaSpec,
  type TtaView,
} from './ensemble/tta.js';
export { projectRows, projectToTree, type ProjectOptions } from './ensemble/project.js';
export { convexCombination, meanAndSpread, normaliseWeights, type MeanAndSpread } from './ensemble/average.js';
export { answerRecord, type AnswerKey, type AnswerRecord, type QuestionKey } from './ensemble/answers.js';
export {
  IMAGE_EXTENSIONS,
  KAGGLE_IMAGES,
  KAGGLE_SOLUTIONS,
  collidingGalaxyIds,
  evaluateKaggleDir,
  formatEvaluation,
  formatProbability,
  galaxyId,
  kaggleCsvHeader,
  kaggleCsvRow,
  listImages,
  readKaggleSolutions,
  type DirEvaluation,
  type EvaluateDirOptions,
} from './ensemble/kaggle.js';

// The decision tree: questions, answers, Kaggle columns, conventions, validation
export {
  ANSWERS,
  ANSWER_COUNT,
  KAGGLE_COLUMNS,
  QUESTIONS,
  QUESTION_COUNT,
  TOPOLOGICAL_ORDER,
  TREE_VERSION,
  question,
  type Answer,
  type AnswerSpec,
  type Question,
  type TreeSpecs,
} from './questions/tree.js';
export {
  UNREACHED_EPSILON,
  conditionalFromCounts,
  expectedCumulativeTotals,
  questionTotals,
  reachProbabilities,
  toConditional,
  toCumulative,
  type Convention,
  type Q6Reach,
  type ToConditionalOptions,
  type TreeOptions,
  type UnreachedPolicy,
} from './questions/conventions.js';
export {
  assertValidVector,
  validateVector,
  type ValidateOptions,
  type Violation,
  type ViolationKind,
} from './questions/validate.js';

// Models: builders, registry, custom layers, save / load with manifests
export {
  MODEL_KINDS,
  buildModel,
  defaultLossKind,
  type FlatOptions,
  type ModelKind,
  type ModelSpec,
} from './models/registry.js';
export { buildFlatModel, type FlatModelOptions } from './models/flat.js';
export { buildHierarchicalModel, type HierarchicalOptions } from './models/hierarchical.js';
export { buildPerQuestionModel, type BranchSpec, type PerQuestionOptions } from './models/per-question.js';
export { DEFAULT_DEEP_TRUNK, type DeepTrunkSpec, type SeedTrunkSpec, type TrunkSpec } from './models/trunk.js';
export type { CyclicTrunkSpec, GroupConvTrunkSpec, ViewsTrunkSpec } from './models/equivariant/trunks.js';
export type { PoolMode } from './models/equivariant/cyclic-pool.js';
export type { ModelView } from './models/forward.js';
export {
  DecisionTreeLayer,
  findTreeLayer,
  treeModel,
  type DecisionTreeLayerArgs,
  type TreeModelOptions,
} from './models/decision-tree-layer.js';
export { cumulativeFromConditional } from './models/tree-ops.js';
export { QuestionSoftmax, questionSoftmax } from './models/question-softmax.js';
export { BatchNormalization, batchNormalization } from './models/batch-normalization.js';
export { Dropout, dropout } from './models/dropout.js';
export {
  MODEL_JSON,
  WEIGHTS_BIN,
  fileSystemHandler,
  loadModel,
  saveModel,
  type LoadedModel,
  type SaveModelOptions,
} from './models/io.js';
export {
  MANIFEST_FILE,
  checkManifest,
  createManifest,
  readManifest,
  writeManifest,
  type ManifestInput,
  type ModelManifest,
} from './models/manifest.js';

// Training: the train loop, evaluation, losses, metrics, callbacks, in-memory batch sources
export {
  train,
  type BatchInfo,
  type StopReason,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from './train/trainer.js';
export { evaluate, predictBatches, type EvaluateOptions, type EvaluationResult } from './train/evaluate.js';
export { augmenterHooks, type AugmentHook, type PrepareHook } from './train/hooks.js';
export {
  DEFAULT_CONCENTRATION,
  cumulativeMse,
  dirichletMultinomialNll,
  reachWeightedConditionalMse,
  reachWeightedCrossEntropy,
  type LossKind,
  type LossSpec,
} from './train/losses.js';
export { MetricsAccumulator, computeMetrics, type RegressionMetrics } from './train/metrics.js';
export { MemoryBatchSource, splitMemory, type MemoryData, type MemorySplitOptions } from './train/memory-source.js';
export type { Callback, CallbackState, EpochLogs, MonitorMode, TrainerContext } from './train/callbacks/types.js';
export { EarlyStopping, type EarlyStoppingOptions } from './train/callbacks/early-stopping.js';
export { LearningRateScheduler, cosineDecay, stepDecay, type Schedule } from './train/callbacks/lr-schedule.js';
export { ReduceLROnPlateau, type ReduceOnPlateauOptions } from './train/callbacks/reduce-on-plateau.js';
export { CsvLogger } from './train/callbacks/csv-logger.js';
export type { CheckpointOptions, TrainingPosition } from './train/callbacks/checkpoint.js';

// Experiments: configs and the runner behind `gzh run` / `gzh compare`
export { runExperiment, type RunnerOptions, type RunOutcome } from './experiments/runner.js';
export type { ExecutorChoice } from './experiments/execute.js';
export {
  RunRegistry,
  type ListOptions,
  type NewRun,
  type RunKind,
  type RunMetrics,
  type RunRecord,
  type RunStatus,
} from './experiments/registry.js';
export type {
  ComparisonResult,
  EpochRecord,
  ExampleGalaxy,
  ImageRef,
  MemberScore,
  OverallMetrics,
  QuestionMetrics,
  ScatterSample,
  VariantResult,
} from './experiments/report/types.js';
export type { SlurmSettings } from './exec/slurm.js';
export type { ReportFiles } from './experiments/report/render.js';
// (an invalid config throws a ConfigError, below, whose `problems` list one line per field)
export {
  loadExperimentConfig,
  parseExperimentConfig,
  type Experiment,
  type LoadOptions,
  type ResolvedData,
  type ResolvedMember,
  type ResolvedVariant,
} from './experiments/config.js';

// Augmentation: exact D4 group, affine resampling, the seeded augmenter
export {
  D4_ELEMENTS,
  D4_IDENTITY,
  applyAllD4,
  applyD4,
  composeD4,
  inverseD4,
  type D4Element,
  type Rotations,
} from './augment/d4.js';
export {
  IDENTITY_GEOMETRY,
  centerCrop,
  maxSafeOutputSize,
  sampleAffine,
  type FillMode,
  type GeometricParams,
  type GeometryRange,
  type SampleOptions,
  type SamplerChoice,
  type SamplerImpl,
} from './augment/affine.js';
export {
  AugmentConfigError,
  resolveAugmentConfig,
  type AugmentConfig,
  type ResolvedAugmentConfig,
} from './augment/config.js';
export { adjustBrightnessContrast } from './augment/photometric.js';
export { Augmenter, type ImageAugmentParams } from './augment/augmenter.js';

// Data: directories, ingest to a catalogue, splits, image preprocessing, the image cache
export { dataPaths, resolveDataDir } from './data/data-dir.js';
export type { Batch, BatchOptions, BatchSource, ImageShape, SplitName } from './data/batch.js';
export { ingest, type IngestFormat, type IngestOptions, type IngestReport, type ValueKind } from './data/ingest.js';
export type { RareClassOptions } from './data/strat.js';
export {
  Catalogue,
  openCatalogue,
  type CatalogueImage,
  type CatalogueRow,
  type GalaxyRecord,
  type Rejection,
  type RejectionReason,
} from './data/catalogue.js';
export { DEFAULT_SPLIT_RATIOS, stratifiedSplit, type SplitRatios } from './data/split.js';
export {
  ImageError,
  PREPROCESS_VERSION,
  decodeJpeg,
  preprocessDecoded,
  preprocessFile,
  resolveParams,
  type ImageErrorKind,
  type PreprocessMode,
  type PreprocessParams,
  type Preprocessed,
  type ResolvedParams,
} from './data/images/preprocess.js';
export type { ContourParams, CropKind } from './data/images/contour.js';
export type { Decoded } from './data/images/pixels.js';
export {
  CachedSource,
  buildCache,
  cacheDirFor,
  openCachedSource,
  type BuildCacheOptions,
  type BuildCacheResult,
  type CacheFailure,
  type CacheManifest,
  type OpenCachedSourceOptions,
} from './data/cache.js';

// Synthetic galaxies with simulated volunteers (Kaggle- and GZ2-format data sets without a download)
export {
  generateSyntheticDataset,
  renderSyntheticGalaxy,
  synthesizeGalaxy,
  type SyntheticDataset,
  type SyntheticDatasetOptions,
  type SyntheticFormat,
  type SyntheticGalaxy,
  type SyntheticGalaxyOptions,
  type ArmCount,
  type BulgeProminence,
  type BulgeShape,
  type Companion,
  type GalaxyKind,
  type Morphology,
  type OddFeature,
  type PointSource,
  type Roundness,
  type StarKind,
  type VoteResult,
  type Winding,
} from './data/synthetic/index.js';

// Compute backend: native TensorFlow when it loads, else WebAssembly, else plain JavaScript
export { BACKEND_NAMES, currentBackend, initBackend, type BackendInfo, type BackendName } from './backend/select.js';

// Errors: every error the library throws on purpose is one of these kinds
export { ConfigError, CorruptArtifactError, GzhError, InputError, InterruptedError, NonFiniteError } from './errors.js';

// Utilities
export { Random } from './util/random.js';
export { BarProgress, SilentProgress, createProgress, type Progress } from './util/progress.js';
