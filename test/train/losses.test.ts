import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANSWER_COUNT, QUESTIONS } from '../../src/questions/index.js';
import {
  computeLoss,
  cumulativeMse,
  dirichletConcentrations,
  dirichletMultinomialNll,
  lgamma,
  reachWeightedConditionalMse,
  reachWeightedCrossEntropy,
  reachWeights,
} from '../../src/train/losses.js';

const row = (values: ArrayLike<number>) => tf.tensor2d(Array.from(values), [1, ANSWER_COUNT]);
const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

/** Float64 log Γ (Lanczos, g = 7) — an independent reference. */
function lgammaRef(x: number): number {
  const p = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgammaRef(1 - x);
  const z = x - 1;
  let a = p[0];
  for (let i = 1; i < 9; i++) a += p[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Direct DM NLL, question by question. */
function dmNllRef(counts: number[], alpha: number[]): number {
  let total = 0;
  for (const q of QUESTIONS) {
    const n = q.answers.reduce((s, a) => s + counts[a.index], 0);
    const A = q.answers.reduce((s, a) => s + alpha[a.index], 0);
    let logP = lgammaRef(n + 1) + lgammaRef(A) - lgammaRef(n + A);
    for (const a of q.answers) {
      logP += lgammaRef(counts[a.index] + alpha[a.index]) - lgammaRef(alpha[a.index]) - lgammaRef(counts[a.index] + 1);
    }
    total -= logP;
  }
  return total;
}

describe('cumulativeMse', () => {
  it('is the mean of squared differences over all outputs', () => {
    const t = row(new Array(37).fill(0));
    const p = row(new Array(37).fill(0).map((_, i) => (i === 0 ? 0.37 : 0.1)));
    // (0.37² + 36 × 0.01) / 37
    expect(scalar(cumulativeMse(t, p))).toBeCloseTo((0.37 ** 2 + 36 * 0.01) / 37, 7);
    tf.dispose([t, p]);
  });
});

describe('reachWeightedCrossEntropy', () => {
  it('weights each question by its reach; unreached questions contribute nothing', () => {
    const targets = new Array(37).fill(0);
    const preds = new Array(37).fill(0);
    for (const q of QUESTIONS) {
      targets[q.offset] = 1; // all votes on the first answer
      for (const a of q.answers) preds[a.index] = 1 / q.answers.length;
    }
    const weights = QUESTIONS.map((q) => (q.number === 3 ? 0.5 : q.number === 8 ? 0 : 1));
    const expected = QUESTIONS.reduce((s, q, i) => s + weights[i] * Math.log(q.answers.length), 0);
    const w = tf.tensor2d(weights, [1, 11]);
    const t = row(targets);
    const p = row(preds);
    expect(scalar(reachWeightedCrossEntropy(t, p, w))).toBeCloseTo(expected, 5);
    // Garbage targets on the unreached Q8 change nothing.
    const other = [...targets];
    for (const a of QUESTIONS[7].answers) other[a.index] = 5;
    const t2 = row(other);
    expect(scalar(reachWeightedCrossEntropy(t2, p, w))).toBeCloseTo(expected, 5);
    tf.dispose([w, t, p, t2]);
  });

  it('reach weights are question totals of the cumulative targets', () => {
    const cum = new Array(37).fill(0);
    cum[0] = 0.6; // smooth
    cum[1] = 0.3; // features
    cum[2] = 0.1;
    cum[3] = 0.1; // edge-on yes (Q2 total 0.3)
    cum[4] = 0.2;
    const t = row(cum);
    const w = reachWeights(t);
    const values = Array.from(w.dataSync());
    expect(values[0]).toBeCloseTo(1, 6);
    expect(values[1]).toBeCloseTo(0.3, 6);
    expect(values[2]).toBeCloseTo(0, 6);
    tf.dispose([t, w]);
  });
});

describe('reachWeightedConditionalMse', () => {
  it('sums squared errors per question, weighted by reach', () => {
    const t = new Array(37).fill(0);
    const p = new Array(37).fill(0);
    p[0] = 0.5; // Q1 error 0.25
    p[3] = 0.2; // Q2 error 0.04
    const w = tf.tensor2d(
      QUESTIONS.map((q) => (q.number === 2 ? 0.5 : 1)),
      [1, 11],
    );
    const tt = row(t);
    const pp = row(p);
    expect(scalar(reachWeightedConditionalMse(tt, pp, w))).toBeCloseTo(0.25 + 0.5 * 0.04, 6);
    tf.dispose([w, tt, pp]);
  });
});

describe('lgamma', () => {
  it('matches known values', () => {
    const x = tf.tensor1d([1, 2, 0.5, 10, 1e-3, 55.5]);
    const y = Array.from(lgamma(x).dataSync());
    const expected = [0, 0, 0.5 * Math.log(Math.PI), Math.log(362880), 6.907178885383854, lgammaRef(55.5)];
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    x.dispose();
  });
});

describe('dirichletMultinomialNll', () => {
  it('one vote is −log(α_a / A) (hand-computed)', () => {
    const counts = new Array(37).fill(0);
    counts[3] = 1; // one "edge-on yes" vote; no other question has votes
    const alpha = new Array(37).fill(1);
    alpha[3] = 3; // Q2: α = (3, 1) → P = 3/4
    const c = row(counts);
    const a = row(alpha);
    expect(scalar(dirichletMultinomialNll(c, a))).toBeCloseTo(-Math.log(3 / 4), 4);
    tf.dispose([c, a]);
  });

  it('matches a float64 reference on random counts and concentrations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 37, maxLength: 37 }),
        fc.array(fc.double({ min: 0.05, max: 30, noNaN: true }), { minLength: 37, maxLength: 37 }),
        (counts, alpha) => {
          const c = row(counts);
          const a = row(alpha);
          const got = scalar(dirichletMultinomialNll(c, a));
          tf.dispose([c, a]);
          const want = dmNllRef(counts, alpha);
          expect(Math.abs(got - want)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('builds concentrations from conditional predictions × per-question totals', () => {
    const p = row(new Array(37).fill(0.5));
    const alpha = dirichletConcentrations(
      p,
      QUESTIONS.map((q) => q.number),
      0,
    );
    const values = Array.from(alpha.dataSync());
    for (const q of QUESTIONS) for (const ans of q.answers) expect(values[ans.index]).toBeCloseTo(0.5 * q.number, 6);
    expect(() => dirichletConcentrations(p, [1, 2])).toThrow(/11 values/);
    tf.dispose([p, alpha]);
  });
});

describe('computeLoss', () => {
  it('explains what a loss is missing', () => {
    const t = row(new Array(37).fill(0.1));
    expect(() => computeLoss({ kind: 'cross-entropy' }, { cumulative: t }, { cumulative: t, conditional: t })).toThrow(
      /DecisionTreeLayer/,
    );
    expect(() =>
      computeLoss(
        { kind: 'dirichlet-multinomial' },
        { cumulative: t, conditional: t },
        { cumulative: t, conditional: t },
      ),
    ).toThrow(/vote counts/);
    t.dispose();
  });
});
