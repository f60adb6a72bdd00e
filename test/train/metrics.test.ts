import { describe, expect, it } from 'vitest';
import { QUESTIONS } from '../../src/questions/index.js';
import { MetricsAccumulator, computeMetrics, metricsToLogs } from '../../src/train/metrics.js';
import { Random } from '../../src/util/random.js';

function data(n: number, seed: number) {
  const rng = new Random(seed);
  const y = Float32Array.from({ length: n * 37 }, () => rng.next());
  const p = Float32Array.from(y, (v) => v + 0.1 * rng.normal());
  return { y, p };
}

describe('MetricsAccumulator', () => {
  it('streams to the same values as a direct computation', () => {
    const n = 50;
    const { y, p } = data(n, 3);
    const acc = new MetricsAccumulator();
    for (const [a, b] of [
      [0, 7],
      [7, 30],
      [30, 50],
    ])
      acc.update(y.subarray(a * 37, b * 37), p.subarray(a * 37, b * 37));
    const m = acc.result();

    let sse = 0;
    let mean = 0;
    for (let i = 0; i < y.length; i++) {
      sse += (p[i] - y[i]) ** 2;
      mean += y[i];
    }
    mean /= y.length;
    let ssTot = 0;
    for (const v of y) ssTot += (v - mean) ** 2;
    expect(m.count).toBe(n);
    expect(m.mse).toBeCloseTo(sse / y.length, 10);
    expect(m.rmse).toBeCloseTo(Math.sqrt(sse / y.length), 10);
    expect(m.r2).toBeCloseTo(1 - sse / ssTot, 8);

    let r2Sum = 0;
    for (let a = 0; a < 37; a++) {
      let am = 0;
      for (let r = 0; r < n; r++) am += y[r * 37 + a];
      am /= n;
      let res = 0;
      let tot = 0;
      for (let r = 0; r < n; r++) {
        res += (p[r * 37 + a] - y[r * 37 + a]) ** 2;
        tot += (y[r * 37 + a] - am) ** 2;
      }
      expect(m.r2PerAnswer[a]).toBeCloseTo(1 - res / tot, 8);
      r2Sum += 1 - res / tot;
    }
    expect(m.r2PerAnswerMean).toBeCloseTo(r2Sum / 37, 8);

    QUESTIONS.forEach((q, i) => {
      let s = 0;
      for (let r = 0; r < n; r++)
        for (const ans of q.answers) s += (p[r * 37 + ans.index] - y[r * 37 + ans.index]) ** 2;
      expect(m.rmsePerQuestion[i]).toBeCloseTo(Math.sqrt(s / (n * q.answers.length)), 10);
    });
  });

  it('predicting the global mean gives global R² 0; constant answers are left out of per-answer R²', () => {
    const y = new Float32Array(4 * 37);
    y[0] = 1;
    y[37] = 0; // answer 0 varies, the rest are constant 0
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const m = computeMetrics(y, new Float32Array(y.length).fill(mean));
    expect(m.r2).toBeCloseTo(0, 10);
    expect(m.r2PerAnswer.filter((v) => !Number.isNaN(v)).length).toBe(1);
    expect(metricsToLogs(m, 'val_')).toHaveProperty('val_rmse_q11');
  });
});
