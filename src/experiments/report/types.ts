/**
 * The plain data a comparison report is rendered from. The runner fills it from evaluation on the
 * test split; tests build one by hand. All vectors over answers have 37 entries in Kaggle order
 * (Class1.1 … Class11.6), in the experiment's convention (cumulative or conditional).
 */

/** Test scores of a variant over all 37 outputs. */
export interface OverallMetrics {
  /** Root mean squared error over all 37 outputs (the Kaggle metric). */
  readonly rmse: number;
  /** Mean squared error over all 37 outputs. */
  readonly mse: number;
  /** R² over all 37 outputs pooled (1 − SSE / SST about the pooled mean). */
  readonly r2: number;
  /** Mean of the 37 per-answer R² values, where defined. */
  readonly meanAnswerR2?: number;
}

/** Test scores of one question's answers. */
export interface QuestionMetrics {
  /** 1-based question number. */
  readonly question: number;
  /** RMSE over the question's answers. */
  readonly rmse: number;
  /** R² over the question's answers, pooled. */
  readonly r2: number;
}

/** One epoch of training, as the training history records it. */
export interface EpochRecord {
  /** 1-based epoch. */
  readonly epoch: number;
  /** Ensemble member (0-based); single models are member 0. */
  readonly member?: number;
  /** Mean training loss of the epoch. */
  readonly loss: number;
  /** Validation loss at the epoch's end. */
  readonly valLoss?: number;
  /** Training RMSE of the epoch. */
  readonly rmse?: number;
  /** Validation RMSE at the epoch's end. */
  readonly valRmse?: number;
  /** Learning rate used in the epoch. */
  readonly learningRate?: number;
  /** Wall-clock seconds of the epoch. */
  readonly seconds?: number;
}

/** Predicted and true values of one answer over a sample of test galaxies, for a scatter plot. */
export interface ScatterSample {
  /** Kaggle id of the answer, e.g. Class1.1. */
  readonly answer: string;
  /** True values, one per sampled galaxy. */
  readonly truth: readonly number[];
  /** Predicted values, in the same order. */
  readonly predicted: readonly number[];
}

/** One ensemble member scored alone on the test split. */
export interface MemberScore {
  /** 0-based member index. */
  readonly member: number;
  /** What this member changes from the variant's settings (its preprocessing, model, …), when anything. */
  readonly label?: string;
  /** Test RMSE of the member alone, no test-time augmentation. */
  readonly rmse: number;
  /** Test R² of the member alone, no test-time augmentation. */
  readonly r2: number;
  /** Test RMSE of the member alone with the variant's test-time augmentation (when it has one). */
  readonly rmseTta?: number;
}

/** Everything the report shows about one variant. */
export interface VariantResult {
  /** Short unique id of the variant. */
  readonly name: string;
  /** Label in tables and charts. */
  readonly label: string;
  /** Free text from the config. */
  readonly description?: string;
  /** Model kind (flat, hierarchical, per-question). */
  readonly modelKind: string;
  /** Members in the ensemble (1 for a single model). */
  readonly ensembleSize: number;
  /** Test-time augmentation averaged at evaluation (none, flip, rot4, d4). */
  readonly tta: string;
  /** Trainable parameters of one member. */
  readonly parameters?: number;
  /** Galaxies the members trained on: the training split, or the part `data.trainFraction` keeps. */
  readonly trainGalaxies?: number;
  /**
   * Identifies the variant's training recipe apart from `data.trainFraction`: variants that share
   * it are one learning curve in the report.
   */
  readonly recipe?: string;
  /** Epochs actually trained per member (early stopping / wall-clock budget may cut it short). */
  readonly epochs?: number;
  /** Seconds spent training all members. */
  readonly trainSeconds?: number;
  /** Seconds spent scoring on the test split. */
  readonly evaluateSeconds?: number;
  /** Scores over all 37 outputs. */
  readonly overall: OverallMetrics;
  /** 11 entries, question order. */
  readonly perQuestion: readonly QuestionMetrics[];
  /** 37 entries (NaN where an answer's truth has no variance in the test split). */
  readonly perAnswerR2: readonly number[];
  /** 37 entries: the test RMSE of each answer. */
  readonly perAnswerRmse: readonly number[];
  /** Every epoch of every member. */
  readonly history: readonly EpochRecord[];
  /** Scatter samples of the answers the report plots. */
  readonly scatter: readonly ScatterSample[];
  /** Fraction of test galaxies whose prediction violates the tree (sums off by more than the tolerance). */
  readonly treeViolationRate?: number;
  /** Ensembles: every member scored alone on the same test split. */
  readonly members?: readonly MemberScore[];
  /**
   * Ensembles: RMS distance of the members' predictions (alone, no TTA) from their average. Mean
   * member MSE − spread² is the MSE of their plain average.
   */
  readonly memberSpread?: number;
}

/** An example galaxy's image: its bytes, or the path of its file. */
export type ImageRef =
  | {
      /** Media type of `data`. */
      readonly mime: 'image/jpeg' | 'image/png';
      /** The encoded image. */
      readonly data: Uint8Array;
    }
  | {
      /** The image file. */
      readonly path: string;
    };

/** An example galaxy shown in the report with its true and predicted answers. */
export interface ExampleGalaxy {
  /** GalaxyID. */
  readonly id: string;
  /** The galaxy's image. */
  readonly image: ImageRef;
  /** 37 true values. */
  readonly truth: readonly number[];
  /** Variant name → 37 predicted values. */
  readonly predictions: Readonly<Record<string, readonly number[]>>;
}

/** The comparison a report is rendered from: the experiment, the split and every variant's scores. */
export interface ComparisonResult {
  /** What was run. */
  readonly experiment: {
    /** Experiment name. */
    readonly name: string;
    /** Free text from the config. */
    readonly description?: string;
    /** Run id in the registry. */
    readonly runId?: string;
    /** sha256 of the resolved experiment (see `Experiment.hash`). */
    readonly configHash: string;
    /** The config file, when read from one. */
    readonly configPath?: string;
    /** The experiment seed. */
    readonly seed: number;
    /** Git commit of the code that ran, when known. */
    readonly gitCommit?: string | null;
    /** Compute backend used. */
    readonly backend?: string;
    /** Where the galaxies came from (synthetic, kaggle, gz2). */
    readonly dataSource: string;
    /** The data folder. */
    readonly dataPath?: string;
    /** Convention the scores are in. */
    readonly convention: 'cumulative' | 'conditional';
    /** ISO time the report was made. */
    readonly createdAt: string;
    /** The shared budget, e.g. "12 epochs, ≤ 8 min per model, batch 64". */
    readonly budget?: string;
  };
  /** Galaxies in each split (the same for every variant). */
  readonly split: {
    /** Training galaxies. */
    readonly train: number;
    /** Validation galaxies. */
    readonly validation: number;
    /** Test galaxies (those scored). */
    readonly test: number;
  };
  /** Every variant, in config order. */
  readonly variants: readonly VariantResult[];
  /** Example test galaxies. */
  readonly examples: readonly ExampleGalaxy[];
  /** Durations per phase, seconds (ingest, preprocess, train:<variant>, …). */
  readonly phases?: Readonly<Record<string, number>>;
}
