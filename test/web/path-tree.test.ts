import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANSWERS, ANSWER_COUNT, QUESTIONS, question, toConditional, toCumulative } from '../../src/questions/index.js';
import { answerWords, mostLikelyPath, pathInWords } from '../../src/web/path.js';
import { treeSvg } from '../../src/web/tree-svg.js';

/** A random conditional vector: every question's answers sum to 1. */
const conditionalVector = fc
  .array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: ANSWER_COUNT, maxLength: ANSWER_COUNT })
  .map((raw) => {
    const v = new Float64Array(ANSWER_COUNT);
    for (const q of QUESTIONS) {
      const total = q.answers.reduce((s, a) => s + raw[a.index], 0);
      for (const a of q.answers) v[a.index] = raw[a.index] / total;
    }
    return v;
  });

describe('most likely path', () => {
  it('starts at Q1, takes each question’s likeliest answer and follows the tree to its end', () => {
    fc.assert(
      fc.property(conditionalVector, (cond) => {
        const cum = toCumulative(cond, { q6Reach: 'kaggle' });
        const steps = mostLikelyPath(toConditional(cum, { unreached: 'uniform' }), cum);
        expect(steps[0].question).toBe(1);
        steps.forEach((s, i) => {
          const q = question(s.question);
          const best = Math.max(...q.answers.map((a) => cond[a.index]));
          expect(cond[s.answer]).toBeCloseTo(best, 6);
          const next = ANSWERS[s.answer].leadsTo;
          if (i + 1 < steps.length) expect(steps[i + 1].question).toBe(next);
          else expect(next).toBeNull();
        });
      }),
      { numRuns: 200 },
    );
  });

  it('reads as words', () => {
    const cond = new Float64Array(ANSWER_COUNT).fill(0.01);
    const pick = (q: number, key: string) => (cond[question(q).answers.find((a) => a.key === key)!.index] = 0.9);
    pick(1, 'features_or_disk');
    pick(2, 'no');
    pick(3, 'bar');
    pick(4, 'spiral');
    pick(10, 'medium');
    pick(11, 'two');
    pick(5, 'obvious');
    pick(6, 'no');
    const cum = toCumulative(cond, { q6Reach: 'kaggle' });
    expect(pathInWords(mostLikelyPath(cond, cum))).toBe(
      'featured → not edge-on → bar → spiral → medium wound arms → 2 arms → obvious bulge → nothing odd',
    );
    expect(answerWords(question(8).answers[6].index)).toBe('dust lane');
  });
});

describe('tree drawing', () => {
  it('draws all 11 questions and 37 answers with both probabilities, and the path highlighted', () => {
    const cond = toConditional(toCumulative(new Float64Array(ANSWER_COUNT).fill(0.2), { q6Reach: 'kaggle' }), {
      unreached: 'uniform',
    });
    const cum = toCumulative(cond, { q6Reach: 'kaggle' });
    const spread = new Float64Array(ANSWER_COUNT).fill(0.031);
    const path = mostLikelyPath(cond, cum);
    const svg = treeSvg({ conditional: cond, cumulative: cum, conditionalUncertainty: spread }, path);
    expect(svg.match(/<g class="question/g)).toHaveLength(11);
    expect(svg.match(/<g class="answer"/g)).toHaveLength(ANSWER_COUNT);
    expect(svg.match(/class="question on-path"/g)).toHaveLength(path.length);
    for (const a of ANSWERS) expect(svg).toContain(`data-answer="${a.kaggleId}"`);
    // Q1 smooth: conditional ± spread · cumulative
    expect(svg).toContain(`${cond[0].toFixed(2)} ±0.03 · ${cum[0].toFixed(2)}`);
    expect(svg).not.toMatch(/style=/); // the page's CSP forbids inline styles
  });

  it('escapes nothing it should not and rejects vectors of the wrong length', () => {
    expect(() => treeSvg({ conditional: [0.5], cumulative: [0.5], conditionalUncertainty: [0] }, [])).toThrow(
      RangeError,
    );
  });
});
