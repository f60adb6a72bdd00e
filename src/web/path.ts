/**
 * The most likely path through the decision tree, in words: from Q1, the answer with the highest
 * conditional probability, then the question it leads to, until the classification ends
 * ("featured → not edge-on → bar → spiral → medium arms → 2 arms → obvious bulge → nothing odd").
 */
import { QUESTIONS, question } from '../questions/index.js';

/** Short words for each answer, by `q<n>.<key>` (the tree's own texts are the volunteers' buttons). */
const WORDS: Readonly<Record<string, string>> = {
  'q1.smooth': 'smooth',
  'q1.features_or_disk': 'featured',
  'q1.star_or_artifact': 'star or artifact',
  'q2.yes': 'edge-on',
  'q2.no': 'not edge-on',
  'q3.bar': 'bar',
  'q3.no_bar': 'no bar',
  'q4.spiral': 'spiral',
  'q4.no_spiral': 'no spiral',
  'q5.no_bulge': 'no bulge',
  'q5.just_noticeable': 'just noticeable bulge',
  'q5.obvious': 'obvious bulge',
  'q5.dominant': 'dominant bulge',
  'q6.yes': 'something odd',
  'q6.no': 'nothing odd',
  'q7.completely_round': 'completely round',
  'q7.in_between': 'in between',
  'q7.cigar_shaped': 'cigar-shaped',
  'q9.rounded': 'rounded bulge',
  'q9.boxy': 'boxy bulge',
  'q9.no_bulge': 'no bulge',
  'q10.tight': 'tightly wound arms',
  'q10.medium': 'medium wound arms',
  'q10.loose': 'loosely wound arms',
  'q11.one': '1 arm',
  'q11.two': '2 arms',
  'q11.three': '3 arms',
  'q11.four': '4 arms',
  'q11.more_than_four': 'more than 4 arms',
  'q11.cant_tell': "arms: can't tell",
};

/** One step of the path: the question, its most likely answer (global index) and its probabilities. */
export interface PathStep {
  readonly question: number;
  readonly answer: number;
  readonly words: string;
  /** P(answer | question reached). */
  readonly conditional: number;
  /** P(answer) over all galaxies (the cumulative vote fraction). */
  readonly cumulative: number;
}

/** Short words for an answer (global index 0–36). */
export function answerWords(index: number): string {
  for (const q of QUESTIONS) {
    const a = q.answers.find((x) => x.index === index);
    if (a) return WORDS[`${q.key}.${a.key}`] ?? a.text.toLowerCase();
  }
  throw new RangeError(`no answer ${index}`);
}

/** The most likely path, following each reached question's highest conditional answer. */
export function mostLikelyPath(conditional: ArrayLike<number>, cumulative: ArrayLike<number>): PathStep[] {
  const steps: PathStep[] = [];
  let next: number | null = 1;
  const seen = new Set<number>();
  while (next !== null && !seen.has(next)) {
    seen.add(next);
    const q = question(next);
    let best = q.answers[0];
    for (const a of q.answers) if (conditional[a.index] > conditional[best.index]) best = a;
    steps.push({
      question: q.number,
      answer: best.index,
      words: answerWords(best.index),
      conditional: conditional[best.index],
      cumulative: cumulative[best.index],
    });
    next = best.leadsTo;
  }
  return steps;
}

/** "featured → not edge-on → …" */
export function pathInWords(steps: readonly PathStep[]): string {
  return steps.map((s) => s.words).join(' → ');
}
