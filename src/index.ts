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
export { TTA_NAMES, isExactView, resolveTta, ttaName, ttaViews, type TtaGrid, type TtaSpec, type TtaView } from './ensemble/tta.js';
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
export * from './questions/index.js';

// Models: builders, registry, custom layers, save / load with manifests
export * from './models/index.js';
// both define questionTotals: the array one (tree) is the plain name, the tensor one is renamed
export { questionTotals } from './questions/index.js';
export { questionTotals as questionTotalsTensor } from './models/tree-ops.js';
export { buildFlatModel, type FlatModelOptions } from './models/flat.js';

// Training: the train loop, losses, metrics, callbacks, in-memory batch sources
export * from './train/index.js';
export { runExperiment, type RunnerOptions, type RunOutcome } from './experiments/runner.js';
export { loadExperimentConfig, parseExperimentConfig, ConfigError, type Experiment } from './experiments/config.js';

// Augmentation: exact D4 group, affine resampling, the seeded augmenter
export * from './augment/index.js';

// Data: directories, ingest to a catalogue, splits, image preprocessing, the image cache
export { dataPaths, packageRoot, resolveDataDir } from './data/data-dir.js';
export type { Batch, BatchOptions, BatchSource, ImageShape, SplitName } from './data/batch.js';
export { ingest, type IngestFormat, type IngestOptions, type IngestReport } from './data/ingest.js';
export { Catalogue, openCatalogue, type CatalogueRow, type GalaxyRecord } from './data/catalogue.js';
export { DEFAULT_SPLIT_RATIOS, stratifiedSplit, type SplitRatios } from './data/split.js';
export {
  ImageError,
  PREPROCESS_VERSION,
  configureSharp,
  decodeJpeg,
  paramsKey,
  preprocessDecoded,
  preprocessFile,
  resolveParams,
  type ImageErrorKind,
  type PreprocessMode,
  type PreprocessParams,
  type Preprocessed,
  type ResolvedParams,
} from './data/images/preprocess.js';
export {
  CachedSource,
  buildCache,
  cacheDirFor,
  openCachedSource,
  readManifest as readCacheManifest,
  type BuildCacheOptions,
  type CacheManifest,
} from './data/cache.js';

// Synthetic galaxies with simulated volunteers (Kaggle-format data sets without a download)
export {
  generateSyntheticDataset,
  renderSyntheticGalaxy,
  synthesizeGalaxy,
  type SyntheticDataset,
  type SyntheticDatasetOptions,
  type SyntheticGalaxy,
} from './data/synthetic/index.js';

// Compute backend: native TensorFlow when it loads, else WebAssembly, else plain JavaScript
export { BACKEND_NAMES, currentBackend, initBackend, type BackendInfo, type BackendName } from './backend/select.js';

// Utilities
export { Random } from './util/random.js';
export { BarProgress, SilentProgress, createProgress, type Progress } from './util/progress.js';
