import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANSWER_COUNT,
  QUESTIONS,
  expectedCumulativeTotals,
  questionTotals,
  reachProbabilities,
  toConditional,
  toCumulative,
  validateVector,
} from '../../src/questions/index.js';
import { conditionalVector } from './arbitraries.js';

const EPS = 1e-9;

describe.each(['tree', 'kaggle'] as const)('cumulative convention, Q6 reach = %s', (q6Reach) => {
  it('keeps every cumulative output in [0, 1] and Q1 summing to 1', () => {
    fc.assert(
      fc.property(conditionalVector, (conditional) => {
        const cumulative = toCumulative(conditional, { q6Reach });
        for (const value of cumulative) {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1 + EPS);
        }
        expect(questionTotals(cumulative)[0]).toBeCloseTo(1, 9);
      }),
    );
  });

  it('makes every child question sum to the probability of its parent answers', () => {
    fc.assert(
      fc.property(conditionalVector, (conditional) => {
        const cumulative = toCumulative(conditional, { q6Reach });
        const totals = questionTotals(cumulative);
        const expected = expectedCumulativeTotals(cumulative, { q6Reach });
        for (let q = 0; q < QUESTIONS.length; q++) expect(Math.abs(totals[q] - expected[q])).toBeLessThan(EPS);
        expect(validateVector(cumulative, { convention: 'cumulative', q6Reach, tolerance: EPS })).toEqual([]);
      }),
    );
  });

  it('matches reach probabilities: each question total equals its reach', () => {
    fc.assert(
      fc.property(conditionalVector, (conditional) => {
        const reach = reachProbabilities(conditional, { q6Reach });
        const totals = questionTotals(toCumulative(conditional, { q6Reach }));
        for (let q = 0; q < QUESTIONS.length; q++) expect(Math.abs(totals[q] - reach[q])).toBeLessThan(EPS);
      }),
    );
  });

  it('round-trips conditional → cumulative → conditional wherever the question is reached', () => {
    fc.assert(
      fc.property(conditionalVector, (conditional) => {
        const reach = reachProbabilities(conditional, { q6Reach });
        const back = toConditional(toCumulative(conditional, { q6Reach }));
        for (const q of QUESTIONS) {
          // Below ~1e-9 reach the division loses the digits that matter; the tree is still honoured.
          if (reach[q.number - 1] < 1e-9) continue;
          for (const a of q.answers) expect(Math.abs(back[a.index] - conditional[a.index])).toBeLessThan(1e-6);
        }
      }),
    );
  });

  it('round-trips cumulative → conditional → cumulative for every consistent cumulative vector', () => {
    fc.assert(
      fc.property(conditionalVector, fc.constantFrom('uniform' as const, 'zero' as const), (conditional, unreached) => {
        const cumulative = toCumulative(conditional, { q6Reach });
        const again = toCumulative(toConditional(cumulative, { unreached }), { q6Reach });
        for (let i = 0; i < ANSWER_COUNT; i++) expect(Math.abs(again[i] - cumulative[i])).toBeLessThan(1e-9);
      }),
    );
  });
});

describe('unreached questions', () => {
  it('never produce NaN, with either policy, even for an all-zero vector', () => {
    fc.assert(
      fc.property(conditionalVector, fc.constantFrom('uniform' as const, 'zero' as const), (conditional, unreached) => {
        // Cut the tree at Q1: everything is a star, so every later question is unreached.
        const star = Float64Array.from(conditional);
        star.set([0, 0, 1], 0);
        const conditionalBack = toConditional(toCumulative(star, { q6Reach: 'tree' }), { unreached });
        for (const value of conditionalBack) expect(Number.isNaN(value)).toBe(false);
        for (const q of QUESTIONS.slice(1)) {
          const total = q.answers.reduce((s, a) => s + conditionalBack[a.index], 0);
          expect(total).toBeCloseTo(unreached === 'uniform' ? 1 : 0, 12);
        }
      }),
    );
    const zeros = toConditional(new Float64Array(ANSWER_COUNT));
    expect([...zeros].every((v) => Number.isFinite(v))).toBe(true);
  });

  it('gives the uniform policy 1/k per answer', () => {
    const conditional = toConditional(new Float64Array(ANSWER_COUNT), { unreached: 'uniform' });
    for (const q of QUESTIONS)
      for (const a of q.answers) expect(conditional[a.index]).toBeCloseTo(1 / q.answers.length, 12);
  });

  it('rejects vectors of the wrong length', () => {
    expect(() => toCumulative(new Float64Array(36))).toThrow(/37 values/);
    expect(() => toConditional([1, 2])).toThrow(/37 values/);
  });
});
