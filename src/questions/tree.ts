/**
 * The Galaxy Zoo 2 decision tree in the Kaggle column order (Class1.1 … Class11.6): the single
 * source of truth for questions, answers, their texts, catalogue columns and the tree's edges.
 */

/** Bumped whenever the tree's questions, answers, order or edges change; saved with every model. */
export const TREE_VERSION = 'gz2-kaggle-37/1';

/** Questions in the GZ2 decision tree. */
export const QUESTION_COUNT = 11;
/** Answers over all questions: the width of every prediction and target vector. */
export const ANSWER_COUNT = 37;

/** An answer as the tree specification states it. */
export interface AnswerSpec {
  /** Short machine name, unique within its question (e.g. `smooth`). */
  readonly key: string;
  /** The answer as volunteers saw it. */
  readonly text: string;
  /** GZ2 catalogue column stem, e.g. `t01_smooth_or_features_a01_smooth`. */
  readonly gz2Column: string;
  /** The question this answer leads to, or null where the classification ends. */
  readonly leadsTo: number | null;
}

/** An answer with its place in the 37-vector and its question. */
export interface Answer extends AnswerSpec {
  /** Position among the 37 outputs (0-based, Kaggle order). */
  readonly index: number;
  /** Kaggle column name, e.g. `Class1.1`. */
  readonly kaggleId: string;
  /** Question number (1-based). */
  readonly question: number;
  /** Position within its question (0-based). */
  readonly position: number;
}

/** A question of the decision tree: its answers and the answers that lead to it. */
export interface Question {
  /** 1-based question number, as in `Class<number>.<answer>`. */
  readonly number: number;
  /** `q1` … `q11`. */
  readonly key: string;
  /** Short machine name, e.g. `smooth_or_features`. */
  readonly name: string;
  /** The question as volunteers saw it. */
  readonly text: string;
  /** Its answers, in order. */
  readonly answers: readonly Answer[];
  /** Index of the first answer among the 37 outputs. */
  readonly offset: number;
  /** Global indices of the answers that lead to this question (empty for Q1). */
  readonly parentAnswers: readonly number[];
}

interface QuestionSpec {
  readonly name: string;
  /** The question as volunteers saw it. */
  readonly text: string;
  /** Its answers, in order. */
  readonly answers: readonly AnswerSpec[];
}

const SPECS = [
  {
    name: 'smooth_or_features',
    text: 'Is the galaxy simply smooth and rounded, with no sign of a disk?',
    answers: [
      { key: 'smooth', text: 'Smooth', gz2Column: 't01_smooth_or_features_a01_smooth', leadsTo: 7 },
      {
        key: 'features_or_disk',
        text: 'Features or disk',
        gz2Column: 't01_smooth_or_features_a02_features_or_disk',
        leadsTo: 2,
      },
      {
        key: 'star_or_artifact',
        text: 'Star or artifact',
        gz2Column: 't01_smooth_or_features_a03_star_or_artifact',
        leadsTo: null,
      },
    ],
  },
  {
    name: 'edgeon',
    text: 'Could this be a disk viewed edge-on?',
    answers: [
      { key: 'yes', text: 'Yes', gz2Column: 't02_edgeon_a04_yes', leadsTo: 9 },
      { key: 'no', text: 'No', gz2Column: 't02_edgeon_a05_no', leadsTo: 3 },
    ],
  },
  {
    name: 'bar',
    text: 'Is there a sign of a bar feature through the centre of the galaxy?',
    answers: [
      { key: 'bar', text: 'Bar', gz2Column: 't03_bar_a06_bar', leadsTo: 4 },
      { key: 'no_bar', text: 'No bar', gz2Column: 't03_bar_a07_no_bar', leadsTo: 4 },
    ],
  },
  {
    name: 'spiral',
    text: 'Is there any sign of a spiral arm pattern?',
    answers: [
      { key: 'spiral', text: 'Spiral', gz2Column: 't04_spiral_a08_spiral', leadsTo: 10 },
      { key: 'no_spiral', text: 'No spiral', gz2Column: 't04_spiral_a09_no_spiral', leadsTo: 5 },
    ],
  },
  {
    name: 'bulge_prominence',
    text: 'How prominent is the central bulge, compared with the rest of the galaxy?',
    answers: [
      { key: 'no_bulge', text: 'No bulge', gz2Column: 't05_bulge_prominence_a10_no_bulge', leadsTo: 6 },
      {
        key: 'just_noticeable',
        text: 'Just noticeable',
        gz2Column: 't05_bulge_prominence_a11_just_noticeable',
        leadsTo: 6,
      },
      { key: 'obvious', text: 'Obvious', gz2Column: 't05_bulge_prominence_a12_obvious', leadsTo: 6 },
      { key: 'dominant', text: 'Dominant', gz2Column: 't05_bulge_prominence_a13_dominant', leadsTo: 6 },
    ],
  },
  {
    name: 'odd',
    text: 'Is there anything odd?',
    answers: [
      { key: 'yes', text: 'Yes', gz2Column: 't06_odd_a14_yes', leadsTo: 8 },
      { key: 'no', text: 'No', gz2Column: 't06_odd_a15_no', leadsTo: null },
    ],
  },
  {
    name: 'rounded',
    text: 'How rounded is it?',
    answers: [
      { key: 'completely_round', text: 'Completely round', gz2Column: 't07_rounded_a16_completely_round', leadsTo: 6 },
      { key: 'in_between', text: 'In between', gz2Column: 't07_rounded_a17_in_between', leadsTo: 6 },
      { key: 'cigar_shaped', text: 'Cigar-shaped', gz2Column: 't07_rounded_a18_cigar_shaped', leadsTo: 6 },
    ],
  },
  {
    name: 'odd_feature',
    text: 'Is the odd feature a ring, or is the galaxy disturbed or irregular?',
    answers: [
      { key: 'ring', text: 'Ring', gz2Column: 't08_odd_feature_a19_ring', leadsTo: null },
      { key: 'lens_or_arc', text: 'Lens or arc', gz2Column: 't08_odd_feature_a20_lens_or_arc', leadsTo: null },
      { key: 'disturbed', text: 'Disturbed', gz2Column: 't08_odd_feature_a21_disturbed', leadsTo: null },
      { key: 'irregular', text: 'Irregular', gz2Column: 't08_odd_feature_a22_irregular', leadsTo: null },
      { key: 'other', text: 'Other', gz2Column: 't08_odd_feature_a23_other', leadsTo: null },
      { key: 'merger', text: 'Merger', gz2Column: 't08_odd_feature_a24_merger', leadsTo: null },
      // GZ2 numbers this answer a38: it was added after a25–a37 had been assigned.
      { key: 'dust_lane', text: 'Dust lane', gz2Column: 't08_odd_feature_a38_dust_lane', leadsTo: null },
    ],
  },
  {
    name: 'bulge_shape',
    text: 'Does the galaxy have a bulge at its centre? If so, what shape?',
    answers: [
      { key: 'rounded', text: 'Rounded', gz2Column: 't09_bulge_shape_a25_rounded', leadsTo: 6 },
      { key: 'boxy', text: 'Boxy', gz2Column: 't09_bulge_shape_a26_boxy', leadsTo: 6 },
      { key: 'no_bulge', text: 'No bulge', gz2Column: 't09_bulge_shape_a27_no_bulge', leadsTo: 6 },
    ],
  },
  {
    name: 'arms_winding',
    text: 'How tightly wound do the spiral arms appear?',
    answers: [
      { key: 'tight', text: 'Tight', gz2Column: 't10_arms_winding_a28_tight', leadsTo: 11 },
      { key: 'medium', text: 'Medium', gz2Column: 't10_arms_winding_a29_medium', leadsTo: 11 },
      { key: 'loose', text: 'Loose', gz2Column: 't10_arms_winding_a30_loose', leadsTo: 11 },
    ],
  },
  {
    name: 'arms_number',
    text: 'How many spiral arms are there?',
    answers: [
      { key: 'one', text: '1', gz2Column: 't11_arms_number_a31_1', leadsTo: 5 },
      { key: 'two', text: '2', gz2Column: 't11_arms_number_a32_2', leadsTo: 5 },
      { key: 'three', text: '3', gz2Column: 't11_arms_number_a33_3', leadsTo: 5 },
      { key: 'four', text: '4', gz2Column: 't11_arms_number_a34_4', leadsTo: 5 },
      { key: 'more_than_four', text: 'More than four', gz2Column: 't11_arms_number_a36_more_than_4', leadsTo: 5 },
      { key: 'cant_tell', text: "Can't tell", gz2Column: 't11_arms_number_a37_cant_tell', leadsTo: 5 },
    ],
  },
] as const satisfies readonly QuestionSpec[];

/** The literal tree data, for types derived from it (answer keys per question). */
export type TreeSpecs = typeof SPECS;

function buildTree(): { questions: readonly Question[]; answers: readonly Answer[] } {
  const answers: Answer[] = [];
  const offsets: number[] = [];
  SPECS.forEach((spec, q) => {
    offsets.push(answers.length);
    spec.answers.forEach((a, position) => {
      answers.push({
        ...a,
        index: answers.length,
        kaggleId: `Class${q + 1}.${position + 1}`,
        question: q + 1,
        position,
      });
    });
  });
  const questions = SPECS.map((spec, q): Question => {
    const number = q + 1;
    const own = answers.slice(offsets[q], offsets[q] + spec.answers.length);
    return {
      number,
      key: `q${number}`,
      name: spec.name,
      text: spec.text,
      answers: own,
      offset: offsets[q],
      parentAnswers: answers.filter((a) => a.leadsTo === number).map((a) => a.index),
    };
  });
  return { questions, answers };
}

const TREE = buildTree();

/** The 11 questions, in order (QUESTIONS[0] is Q1). */
export const QUESTIONS: readonly Question[] = TREE.questions;
/** The 37 answers, in Kaggle column order. */
export const ANSWERS: readonly Answer[] = TREE.answers;
/** `Class1.1` … `Class11.6`. */
export const KAGGLE_COLUMNS: readonly string[] = ANSWERS.map((a) => a.kaggleId);

/** The question with this 1-based number. */
export function question(number: number): Question {
  const q = QUESTIONS[number - 1];
  if (!q) throw new RangeError(`no question ${number}: the tree has questions 1–${QUESTION_COUNT}`);
  return q;
}

/**
 * Questions ordered so that every question comes after all questions holding its parent answers
 * (Q5 after Q11, Q6 after Q5/Q7/Q9, …): the order reach probabilities are computed in.
 */
export const TOPOLOGICAL_ORDER: readonly number[] = (() => {
  const order: number[] = [];
  const placed = new Set<number>();
  while (order.length < QUESTION_COUNT) {
    const before = order.length;
    for (const q of QUESTIONS) {
      if (placed.has(q.number)) continue;
      if (q.parentAnswers.every((i) => placed.has(ANSWERS[i].question))) {
        order.push(q.number);
        placed.add(q.number);
      }
    }
    if (order.length === before) throw new Error('the decision tree has a cycle');
  }
  return order;
})();
