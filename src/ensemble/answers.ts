/**
 * Typed access to the 37 outputs by question and answer key (`answers.q1.smooth`), with the types
 * derived from the literal tree data in src/questions/tree.ts, so they cannot drift from it.
 */
import { ANSWER_COUNT, QUESTIONS, type TreeSpecs } from '../questions/index.js';

type QuestionNumbers = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
type SpecIndex = keyof TreeSpecs & `${number}`;

/** `q1` … `q11`. */
export type QuestionKey = { [I in SpecIndex]: `q${QuestionNumbers[I & keyof QuestionNumbers]}` }[SpecIndex];

/** The answer keys of question `Q`, e.g. AnswerKey<'q1'> = 'smooth' | 'features_or_disk' | 'star_or_artifact'. */
export type AnswerKey<Q extends QuestionKey> = {
  [I in SpecIndex as `q${QuestionNumbers[I & keyof QuestionNumbers]}`]: TreeSpecs[I]['answers'][number]['key'];
}[Q];

/** One number per answer, grouped by question: `answers.q1.smooth`, `answers.q11.cant_tell`. */
export type AnswerRecord = { readonly [Q in QuestionKey]: { readonly [A in AnswerKey<Q>]: number } };

/** The 37 values (Kaggle order) as a typed, frozen-free plain object by question and answer key. */
export function answerRecord(values: ArrayLike<number>): AnswerRecord {
  if (values.length !== ANSWER_COUNT) {
    throw new RangeError(`expected ${ANSWER_COUNT} values (Class1.1 … Class11.6), got ${values.length}`);
  }
  const out: Record<string, Record<string, number>> = {};
  for (const q of QUESTIONS) {
    const answers: Record<string, number> = {};
    for (const a of q.answers) answers[a.key] = values[a.index];
    out[q.key] = answers;
  }
  return out as unknown as AnswerRecord;
}
