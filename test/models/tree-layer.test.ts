import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { QUESTIONS, toCumulative, validateVector } from '../../src/questions/index.js';
import { Random } from '../../src/util/random.js';
import { DecisionTreeLayer } from '../../src/models/decision-tree-layer.js';
import { QuestionSoftmax, questionSoftmax } from '../../src/models/question-softmax.js';
import { cumulativeFromConditional, questionTotals } from '../../src/models/tree-ops.js';

function randomConditional(rng: Random, rows: number): Float32Array {
  const out = new Float32Array(rows * 37);
  for (let r = 0; r < rows; r++) {
    for (const q of QUESTIONS) {
      const w = q.answers.map(() => rng.next() ** 2 + 1e-3);
      const s = w.reduce((a, b) => a + b, 0);
      q.answers.forEach((a, i) => (out[r * 37 + a.index] = w[i] / s));
    }
  }
  return out;
}

describe('DecisionTreeLayer', () => {
  for (const q6Reach of ['kaggle', 'tree'] as const) {
    it(`matches toCumulative from src/questions (q6Reach ${q6Reach})`, () => {
      const rows = 6;
      const cond = randomConditional(new Random(7), rows);
      const layer = new DecisionTreeLayer({ q6Reach });
      const out = tf.tidy(() => (layer.apply(tf.tensor2d(cond, [rows, 37])) as tf.Tensor).arraySync() as number[][]);
      for (let r = 0; r < rows; r++) {
        const expected = toCumulative(cond.subarray(r * 37, r * 37 + 37), { q6Reach });
        out[r].forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
        expect(validateVector(out[r], { convention: 'cumulative', tolerance: 1e-5, q6Reach })).toEqual([]);
      }
    });
  }

  it('has the same Q6 default as toCumulative and validateVector (kaggle)', () => {
    const rows = 4;
    const cond = randomConditional(new Random(11), rows);
    const out = tf.tidy(
      () => (new DecisionTreeLayer().apply(tf.tensor2d(cond, [rows, 37])) as tf.Tensor).arraySync() as number[][],
    );
    for (let r = 0; r < rows; r++) {
      const row = cond.subarray(r * 37, r * 37 + 37);
      out[r].forEach((v, i) => expect(v).toBeCloseTo(toCumulative(row)[i], 6));
      expect(toCumulative(row)).toEqual(toCumulative(row, { q6Reach: 'kaggle' }));
      expect(toCumulative(row)).not.toEqual(toCumulative(row, { q6Reach: 'tree' }));
      expect(validateVector(out[r], { convention: 'cumulative', tolerance: 1e-5 })).toEqual([]);
    }
  });

  it('passes conditional distributions through in conditional mode', () => {
    const cond = randomConditional(new Random(1), 2);
    const layer = new DecisionTreeLayer({ output: 'conditional' });
    const out = tf.tidy(() => Array.from((layer.apply(tf.tensor2d(cond, [2, 37])) as tf.Tensor).dataSync()));
    out.forEach((v, i) => expect(v).toBeCloseTo(cond[i], 7));
  });

  it('serializes its options', () => {
    const layer = new DecisionTreeLayer({ output: 'conditional', q6Reach: 'tree' });
    expect(layer.getConfig()).toMatchObject({ output: 'conditional', q6Reach: 'tree' });
    expect(() => new DecisionTreeLayer({ q6Reach: 'x' as never })).toThrow(/q6Reach/);
  });

  it('has gradients through the tree', () => {
    const cond = tf.tensor2d(randomConditional(new Random(3), 2), [2, 37]);
    const g = tf.grad((x: tf.Tensor) => cumulativeFromConditional(x as tf.Tensor2D, 'tree').sum())(cond);
    // d(sum)/d(Class1.2) includes everything downstream of "features or disk": larger than 1.
    expect((g.arraySync() as number[][])[0][1]).toBeGreaterThan(1);
    tf.dispose([cond, g]);
  });

  it('does not leak tensors', () => {
    const x = tf.tensor2d(randomConditional(new Random(2), 3), [3, 37]);
    cumulativeFromConditional(x).dispose();
    questionTotals(x).dispose(); // creates the cached indicator matrix once
    const before = tf.memory().numTensors;
    cumulativeFromConditional(x).dispose();
    questionTotals(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('QuestionSoftmax', () => {
  it('makes every question a distribution', () => {
    const logits = tf.randomNormal([4, 37], 0, 3, 'float32', 5) as tf.Tensor2D;
    const probs = questionSoftmax(logits);
    const totals = questionTotals(probs).arraySync();
    for (const row of totals) row.forEach((t) => expect(t).toBeCloseTo(1, 5));
    const viaLayer = new QuestionSoftmax().apply(logits) as tf.Tensor;
    expect(viaLayer.arraySync()).toEqual(probs.arraySync());
    tf.dispose([logits, probs, viaLayer]);
  });
});
