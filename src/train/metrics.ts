/**
 * Streaming regression metrics over 37-answer vectors: only per-answer sums are kept (never the
 * predictions), in float64, so any number of batches can be accumulated.
 */
import { ANSWER_COUNT, QUESTIONS } from '../questions/index.js';

/** RMSE and R² of predictions against targets, overall and per answer / question. */
export interface RegressionMetrics {
  /** Rows accumulated. */
  readonly count: number;
  /** Mean squared error over all rows × answers. */
  readonly mse: number;
  /** Root mean squared error over all rows × answers. */
  readonly rmse: number;
  /** The seed's global R²: 1 − SS_res / SS_tot, SS_tot about the mean of all targets. */
  readonly r2: number;
  /** Uniform average of per-answer R² over answers whose targets vary (NaN when none do). */
  readonly r2PerAnswerMean: number;
  /** R² of each answer (NaN where the answer's targets are constant). */
  readonly r2PerAnswer: readonly number[];
  /** RMSE of each answer. */
  readonly rmsePerAnswer: readonly number[];
  /** RMSE over each question's answers (index 0 = Q1). */
  readonly rmsePerQuestion: readonly number[];
  /**
   * R² of each question (index 0 = Q1): 1 − Σ SSE / Σ SST over its answers, each answer's SST
   * about its own mean; NaN where none of its answers' targets vary.
   */
  readonly r2PerQuestion: readonly number[];
}

/** Accumulates regression metrics batch by batch, without keeping the predictions. */
export class MetricsAccumulator {
  private n = 0;
  private readonly sse = new Float64Array(ANSWER_COUNT);
  private readonly sumY = new Float64Array(ANSWER_COUNT);
  private readonly sumY2 = new Float64Array(ANSWER_COUNT);

  /** Adds `rows` rows of row-major N×37 targets and predictions. */
  update(targets: ArrayLike<number>, predictions: ArrayLike<number>, rows = targets.length / ANSWER_COUNT): void {
    if (!Number.isInteger(rows) || targets.length < rows * ANSWER_COUNT || predictions.length < rows * ANSWER_COUNT) {
      throw new RangeError(`expected ${rows} rows of ${ANSWER_COUNT} targets and predictions`);
    }
    for (let r = 0; r < rows; r++) {
      const base = r * ANSWER_COUNT;
      for (let a = 0; a < ANSWER_COUNT; a++) {
        const y = targets[base + a];
        const d = predictions[base + a] - y;
        this.sse[a] += d * d;
        this.sumY[a] += y;
        this.sumY2[a] += y * y;
      }
    }
    this.n += rows;
  }

  /** Rows added so far. */
  get count(): number {
    return this.n;
  }

  /** Forget every row added. */
  reset(): void {
    this.n = 0;
    this.sse.fill(0);
    this.sumY.fill(0);
    this.sumY2.fill(0);
  }

  /** The metrics of the rows added so far. */
  result(): RegressionMetrics {
    const n = this.n;
    let sse = 0;
    let sumY = 0;
    let sumY2 = 0;
    const r2PerAnswer: number[] = [];
    const rmsePerAnswer: number[] = [];
    let r2Sum = 0;
    let r2Count = 0;
    for (let a = 0; a < ANSWER_COUNT; a++) {
      sse += this.sse[a];
      sumY += this.sumY[a];
      sumY2 += this.sumY2[a];
      const ssTot = this.sumY2[a] - (this.sumY[a] * this.sumY[a]) / n;
      const r2 = ssTot > 1e-12 ? 1 - this.sse[a] / ssTot : Number.NaN;
      r2PerAnswer.push(r2);
      if (!Number.isNaN(r2)) {
        r2Sum += r2;
        r2Count++;
      }
      rmsePerAnswer.push(Math.sqrt(this.sse[a] / n));
    }
    const total = n * ANSWER_COUNT;
    const ssTot = sumY2 - (sumY * sumY) / total;
    const rmsePerQuestion = QUESTIONS.map((q) => {
      let s = 0;
      for (const answer of q.answers) s += this.sse[answer.index];
      return Math.sqrt(s / (n * q.answers.length));
    });
    const r2PerQuestion = QUESTIONS.map((q) => {
      let qSse = 0;
      let qSst = 0;
      for (const answer of q.answers) {
        qSse += this.sse[answer.index];
        qSst += this.sumY2[answer.index] - (this.sumY[answer.index] * this.sumY[answer.index]) / n;
      }
      return qSst > 1e-12 ? 1 - qSse / qSst : Number.NaN;
    });
    const mse = sse / total;
    return {
      count: n,
      mse,
      rmse: Math.sqrt(mse),
      r2: ssTot > 0 ? 1 - sse / ssTot : Number.NaN,
      r2PerAnswerMean: r2Count > 0 ? r2Sum / r2Count : Number.NaN,
      r2PerAnswer,
      rmsePerAnswer,
      rmsePerQuestion,
      r2PerQuestion,
    };
  }
}

/** Metrics of a set of predictions in one call (row-major N×37). */
export function computeMetrics(targets: ArrayLike<number>, predictions: ArrayLike<number>): RegressionMetrics {
  const acc = new MetricsAccumulator();
  acc.update(targets, predictions);
  return acc.result();
}

/** Flat scalar view for logs: `${prefix}mse`, `rmse`, `r2`, `r2_answers`, `rmse_q1` … `rmse_q11`. */
export function metricsToLogs(m: RegressionMetrics, prefix = ''): Record<string, number> {
  const logs: Record<string, number> = {
    [`${prefix}mse`]: m.mse,
    [`${prefix}rmse`]: m.rmse,
    [`${prefix}r2`]: m.r2,
    [`${prefix}r2_answers`]: m.r2PerAnswerMean,
  };
  QUESTIONS.forEach((q, i) => (logs[`${prefix}rmse_${q.key}`] = m.rmsePerQuestion[i]));
  return logs;
}
