/**
 * The plain data a comparison report is rendered from. The runner fills it from evaluation on the
 * test split; tests build one by hand. All vectors over answers have 37 entries in Kaggle order
 * (Class1.1 … Class11.6), in the experiment's convention (cumulative or conditional).
 */

export interface OverallMetrics {
  readonly rmse: number;
  readonly mse: number;
  /** R² over all 37 outputs pooled (1 − SSE / SST about the pooled mean). */
  readonly r2: number;
  /** Mean of the 37 per-answer R² values, where defined. */
  readonly meanAnswerR2?: number;
}

export interface QuestionMetrics {
  /** 1-based question number. */
  readonly question: number;
  readonly rmse: number;
  readonly r2: number;
}

export interface EpochRecord {
  /** 1-based epoch. */
  readonly epoch: number;
  /** Ensemble member (0-based); single models are member 0. */
  readonly member?: number;
  readonly loss: number;
  readonly valLoss?: number;
  readonly rmse?: number;
  readonly valRmse?: number;
  readonly learningRate?: number;
  readonly seconds?: number;
}

export interface ScatterSample {
  /** Kaggle id of the answer, e.g. Class1.1. */
  readonly answer: string;
  readonly truth: readonly number[];
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
  readonly r2: number;
  /** Test RMSE of the member alone with the variant's test-time augmentation (when it has one). */
  readonly rmseTta?: number;
}

export interface VariantResult {
  readonly name: string;
  readonly label: string;
  readonly description?: string;
  readonly modelKind: string;
  readonly ensembleSize: number;
  readonly tta: string;
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
  readonly trainSeconds?: number;
  readonly evaluateSeconds?: number;
  readonly overall: OverallMetrics;
  /** 11 entries, question order. */
  readonly perQuestion: readonly QuestionMetrics[];
  /** 37 entries (NaN where an answer's truth has no variance in the test split). */
  readonly perAnswerR2: readonly number[];
  readonly perAnswerRmse: readonly number[];
  readonly history: readonly EpochRecord[];
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

export type ImageRef =
  | { readonly mime: 'image/jpeg' | 'image/png'; readonly data: Uint8Array }
  | { readonly path: string };

export interface ExampleGalaxy {
  readonly id: string;
  readonly image: ImageRef;
  /** 37 true values. */
  readonly truth: readonly number[];
  /** Variant name → 37 predicted values. */
  readonly predictions: Readonly<Record<string, readonly number[]>>;
}

export interface ComparisonResult {
  readonly experiment: {
    readonly name: string;
    readonly description?: string;
    readonly runId?: string;
    readonly configHash: string;
    readonly configPath?: string;
    readonly seed: number;
    readonly gitCommit?: string | null;
    readonly backend?: string;
    readonly dataSource: string;
    readonly dataPath?: string;
    readonly convention: 'cumulative' | 'conditional';
    /** ISO time the report was made. */
    readonly createdAt: string;
    /** The shared budget, e.g. "12 epochs, ≤ 8 min per model, batch 64". */
    readonly budget?: string;
  };
  readonly split: { readonly train: number; readonly validation: number; readonly test: number };
  readonly variants: readonly VariantResult[];
  readonly examples: readonly ExampleGalaxy[];
  /** Durations per phase, seconds (ingest, preprocess, train:<variant>, …). */
  readonly phases?: Readonly<Record<string, number>>;
}
