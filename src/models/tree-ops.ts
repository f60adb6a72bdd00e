/**
 * Tensor versions of the decision-tree arithmetic in `src/questions`: every segment, parent edge
 * and evaluation order here is read from QUESTIONS / TOPOLOGICAL_ORDER, never restated.
 */
import * as tf from '@tensorflow/tfjs';
import { ANSWERS, ANSWER_COUNT, QUESTIONS, TOPOLOGICAL_ORDER, question, type Q6Reach } from '../questions/index.js';

export interface Segment {
  /** 1-based question number. */
  readonly question: number;
  readonly offset: number;
  readonly size: number;
}

/** Each question's slice of the 37 outputs, in question order. */
export const SEGMENTS: readonly Segment[] = QUESTIONS.map((q) => ({
  question: q.number,
  offset: q.offset,
  size: q.answers.length,
}));

/** Segment sizes in question order (for `tf.split`). */
export const SEGMENT_SIZES: readonly number[] = SEGMENTS.map((s) => s.size);

function checkWidth(t: tf.Tensor, name: string): void {
  if (t.rank !== 2 || t.shape[1] !== ANSWER_COUNT) {
    throw new RangeError(`${name} must be N×${ANSWER_COUNT}, got [${t.shape.join(', ')}]`);
  }
}

/**
 * Reach probability of every question (N×1 each, index 0 = Q1) from per-question conditional
 * distributions (N×37): Q1 (and Q6 when `q6Reach` is `kaggle`) is reached with probability 1,
 * every other question with Σ over its parent answers of reach(parent question) × P(answer).
 * Returns null for questions reached with certainty, so callers can skip a multiplication.
 */
export function reachColumns(conditional: tf.Tensor2D, q6Reach: Q6Reach): Array<tf.Tensor2D | null> {
  checkWidth(conditional, 'conditional');
  const reach: Array<tf.Tensor2D | null | undefined> = new Array(QUESTIONS.length).fill(undefined);
  const column = (i: number) => tf.slice(conditional, [0, i], [-1, 1]) as tf.Tensor2D;
  for (const number of TOPOLOGICAL_ORDER) {
    const q = question(number);
    if (q.parentAnswers.length === 0 || (number === 6 && q6Reach === 'kaggle')) {
      reach[number - 1] = null;
      continue;
    }
    let total: tf.Tensor2D | undefined;
    for (const parent of q.parentAnswers) {
      const parentReach = reach[ANSWERS[parent].question - 1];
      if (parentReach === undefined) throw new Error(`Q${number} evaluated before its parent question`);
      const term = parentReach === null ? column(parent) : tf.mul(parentReach, column(parent));
      total = total === undefined ? (term as tf.Tensor2D) : (tf.add(total, term) as tf.Tensor2D);
    }
    reach[number - 1] = total as tf.Tensor2D;
  }
  return reach as Array<tf.Tensor2D | null>;
}

/**
 * Cumulative (Kaggle-convention) vectors from per-question conditional distributions:
 * answer × reach probability of its question. N×37 → N×37.
 */
export function cumulativeFromConditional(conditional: tf.Tensor2D, q6Reach: Q6Reach = 'kaggle'): tf.Tensor2D {
  return tf.tidy(() => {
    const reach = reachColumns(conditional, q6Reach);
    const parts = tf.split(conditional, SEGMENT_SIZES as number[], 1);
    const scaled = parts.map((part, q) => {
      const r = reach[q];
      return r === null ? part : tf.mul(part, r);
    });
    return tf.concat(scaled, 1) as tf.Tensor2D;
  });
}

let indicatorCache: { backend: string; tensor: tf.Tensor2D } | undefined;

/** 37×11 matrix with 1 where answer a belongs to question q (kept alive for reuse). */
export function answerQuestionIndicator(): tf.Tensor2D {
  const backend = tf.getBackend();
  if (indicatorCache && indicatorCache.backend === backend && !indicatorCache.tensor.isDisposed) {
    return indicatorCache.tensor;
  }
  const values = new Float32Array(ANSWER_COUNT * QUESTIONS.length);
  for (const a of ANSWERS) values[a.index * QUESTIONS.length + (a.question - 1)] = 1;
  const tensor = tf.tidy(() => tf.keep(tf.tensor2d(values, [ANSWER_COUNT, QUESTIONS.length])));
  indicatorCache = { backend, tensor };
  return tensor;
}

/** Sum of each question's answers: N×37 → N×11 (for cumulative targets: the share of votes reaching it). */
export function questionTotals(vectors: tf.Tensor2D): tf.Tensor2D {
  checkWidth(vectors, 'vectors');
  return tf.matMul(vectors, answerQuestionIndicator());
}

/** Broadcast a per-question N×11 (or 1×11) tensor to the 37 answers: N×37. */
export function expandToAnswers(perQuestion: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(perQuestion, answerQuestionIndicator(), false, true);
}
