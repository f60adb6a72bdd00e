import { describe, expect, expectTypeOf, it } from 'vitest';
import { ANSWERS, QUESTIONS } from '../../src/questions/index.js';
import { type AnswerKey, type AnswerRecord, type QuestionKey, answerRecord } from '../../src/ensemble/answers.js';

describe('typed answers', () => {
  it('derives question and answer keys from the tree data', () => {
    expectTypeOf<QuestionKey>().toEqualTypeOf<
      'q1' | 'q2' | 'q3' | 'q4' | 'q5' | 'q6' | 'q7' | 'q8' | 'q9' | 'q10' | 'q11'
    >();
    expectTypeOf<AnswerKey<'q1'>>().toEqualTypeOf<'smooth' | 'features_or_disk' | 'star_or_artifact'>();
    expectTypeOf<AnswerKey<'q11'>>().toEqualTypeOf<'one' | 'two' | 'three' | 'four' | 'more_than_four' | 'cant_tell'>();
    expectTypeOf<AnswerRecord['q8']['dust_lane']>().toEqualTypeOf<number>();
    // @ts-expect-error not an answer of Q1
    const wrong: AnswerKey<'q1'> = 'spiral';
    expect(wrong).toBe('spiral');
  });

  it('maps the 37 values to every question and answer key', () => {
    const values = ANSWERS.map((a) => a.index / 100);
    const record = answerRecord(values);
    expect(record.q1.smooth).toBe(0);
    expect(record.q11.cant_tell).toBe(0.36);
    for (const q of QUESTIONS) {
      const got = (record as unknown as Record<string, Record<string, number>>)[q.key];
      expect(Object.keys(got)).toEqual(q.answers.map((a) => a.key));
      for (const a of q.answers) expect(got[a.key]).toBe(values[a.index]);
    }
    expect(() => answerRecord([1, 2])).toThrow(/37 values/);
  });
});
