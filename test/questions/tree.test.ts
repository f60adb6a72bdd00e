import { describe, expect, it } from 'vitest';
import {
  ANSWERS,
  ANSWER_COUNT,
  KAGGLE_COLUMNS,
  QUESTIONS,
  QUESTION_COUNT,
  TOPOLOGICAL_ORDER,
  question,
} from '../../src/questions/index.js';

describe('decision tree data', () => {
  it('has 11 questions and 37 answers in Kaggle column order', () => {
    expect(QUESTIONS).toHaveLength(QUESTION_COUNT);
    expect(ANSWERS).toHaveLength(ANSWER_COUNT);
    expect(QUESTIONS.map((q) => q.answers.length)).toEqual([3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6]);
    expect(KAGGLE_COLUMNS[0]).toBe('Class1.1');
    expect(KAGGLE_COLUMNS[13]).toBe('Class6.1');
    expect(KAGGLE_COLUMNS[36]).toBe('Class11.6');
    ANSWERS.forEach((a, i) => expect(a.index).toBe(i));
  });

  it('leads each answer where the GZ2 tree does', () => {
    const leads = QUESTIONS.map((q) => q.answers.map((a) => a.leadsTo));
    expect(leads).toEqual([
      [7, 2, null],
      [9, 3],
      [4, 4],
      [10, 5],
      [6, 6, 6, 6],
      [8, null],
      [6, 6, 6],
      [null, null, null, null, null, null, null],
      [6, 6, 6],
      [11, 11, 11],
      [5, 5, 5, 5, 5, 5],
    ]);
  });

  it('derives parents from the edges: Q6 from Q5, Q7 and Q9; Q5 from Q4 and Q11', () => {
    const parentQuestions = (n: number) => [...new Set(question(n).parentAnswers.map((i) => ANSWERS[i].question))];
    expect(parentQuestions(1)).toEqual([]);
    expect(parentQuestions(6)).toEqual([5, 7, 9]);
    expect(parentQuestions(5)).toEqual([4, 11]);
    expect(question(8).parentAnswers.map((i) => ANSWERS[i].kaggleId)).toEqual(['Class6.1']);
    expect(question(10).parentAnswers.map((i) => ANSWERS[i].kaggleId)).toEqual(['Class4.1']);
  });

  it('orders questions so that parents come first', () => {
    const position = new Map(TOPOLOGICAL_ORDER.map((n, i) => [n, i]));
    for (const q of QUESTIONS) {
      for (const parent of q.parentAnswers) {
        expect(position.get(ANSWERS[parent].question)!).toBeLessThan(position.get(q.number)!);
      }
    }
  });

  it('carries GZ2 catalogue stems, with dust lane numbered a38', () => {
    expect(ANSWERS[0].gz2Column).toBe('t01_smooth_or_features_a01_smooth');
    expect(ANSWERS.find((a) => a.kaggleId === 'Class8.7')!.gz2Column).toBe('t08_odd_feature_a38_dust_lane');
    expect(ANSWERS[36].gz2Column).toBe('t11_arms_number_a37_cant_tell');
    for (const a of ANSWERS) expect(a.gz2Column.startsWith(`t${String(a.question).padStart(2, '0')}_`)).toBe(true);
    expect(new Set(ANSWERS.map((a) => a.gz2Column)).size).toBe(ANSWER_COUNT);
  });

  it('rejects a question number outside the tree', () => {
    expect(() => question(12)).toThrow(/no question 12/);
  });
});
