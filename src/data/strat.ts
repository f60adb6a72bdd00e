import { QUESTIONS, question } from '../questions/index.js';

/**
 * Stratification classes. GZ2 catalogues carry `gz2_class` (Willett et al. 2013, Table 4: e.g.
 * `SBc2m(r)`); Kaggle data has no class, so one is derived from the majority path through the
 * tree in the same notation. Rare classes are then reduced as the seed project did.
 */

/** Letters of the GZ2 class notation, per answer key, for the questions that appear in it. */
const ROUNDED: Record<string, string> = { completely_round: 'r', in_between: 'i', cigar_shaped: 'c' };
const EDGE_BULGE: Record<string, string> = { rounded: 'r', boxy: 'b', no_bulge: 'n' };
const BULGE: Record<string, string> = { no_bulge: 'd', just_noticeable: 'c', obvious: 'b', dominant: 'a' };
const WINDING: Record<string, string> = { tight: 't', medium: 'm', loose: 'l' };
/** Q11 (number of arms) letters by answer position: 1, 2, 3, 4, more than four, can't tell. */
const ARMS = ['1', '2', '3', '4', '+', '?'];
const ODD: Record<string, string> = {
  ring: 'r',
  lens_or_arc: 'l',
  disturbed: 'd',
  irregular: 'i',
  other: 'o',
  merger: 'm',
  dust_lane: 'u',
};

function majorityAnswerKey(conditional: ArrayLike<number>, number: number): string {
  const q = question(number);
  let best = q.answers[0];
  for (const a of q.answers) if (conditional[a.index] > conditional[best.index]) best = a;
  return best.key;
}

function armKey(conditional: ArrayLike<number>): string {
  const q = question(11);
  let best = q.answers[0];
  for (const a of q.answers) if (conditional[a.index] > conditional[best.index]) best = a;
  return ARMS[best.position];
}

/**
 * GZ2-style class string from the majority (argmax) answer of each question along the path the
 * majority takes through the tree, with the odd feature in parentheses when "odd: yes" wins.
 * Ties go to the earlier answer. Examples: `Ei`, `Ser`, `SBc2m`, `Sb(m)`, `A`.
 */
export function majorityPathClass(conditional: ArrayLike<number>): string {
  const q1 = majorityAnswerKey(conditional, 1);
  if (q1 === 'star_or_artifact') return 'A';
  let text: string;
  if (q1 === 'smooth') {
    text = 'E' + ROUNDED[majorityAnswerKey(conditional, 7)];
  } else if (majorityAnswerKey(conditional, 2) === 'yes') {
    text = 'Se' + EDGE_BULGE[majorityAnswerKey(conditional, 9)];
  } else {
    text = 'S';
    if (majorityAnswerKey(conditional, 3) === 'bar') text += 'B';
    text += BULGE[majorityAnswerKey(conditional, 5)];
    if (majorityAnswerKey(conditional, 4) === 'spiral') {
      text += armKey(conditional) + WINDING[majorityAnswerKey(conditional, 10)];
    }
  }
  if (majorityAnswerKey(conditional, 6) === 'yes') text += `(${ODD[majorityAnswerKey(conditional, 8)] ?? 'o'})`;
  return text;
}

/** The GZ2 class without its spiral-arm part (arm count `1234+?` and winding `tml`): `SBc2m(r)` → `SBc(r)`. */
export function withoutArms(gz2Class: string): string {
  return gz2Class.replace(/^(SB?[a-d])[1234+?][tml]/, '$1');
}

/** How rare GZ2 classes are merged before the split is stratified (the seed's reduction). */
export interface RareClassOptions {
  /** Classes with fewer members than this lose their arm part (seed: 12). */
  readonly minMembers?: number;
  /** Reduced classes with at most this many members become `SuperRare` (seed: 3). */
  readonly superRareMax?: number;
}

export const SUPER_RARE = 'SuperRare';

/**
 * The seed's rare-class reduction: classes with fewer than 12 members are replaced by their class
 * without the arm count and winding; after that, classes with at most 3 members become
 * `SuperRare`. Returns one stratification class per input, in input order.
 */
export function reduceRareClasses(classes: readonly string[], options: RareClassOptions = {}): string[] {
  const minMembers = options.minMembers ?? 12;
  const superRareMax = options.superRareMax ?? 3;
  const counts = countBy(classes);
  const reduced = classes.map((c) => ((counts.get(c) ?? 0) < minMembers ? withoutArms(c) : c));
  const reducedCounts = countBy(reduced);
  return reduced.map((c) => ((reducedCounts.get(c) ?? 0) <= superRareMax ? SUPER_RARE : c));
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

// Guard against silent tree edits: every question used above must exist with the expected answers.
for (const [n, table] of [
  [7, ROUNDED],
  [9, EDGE_BULGE],
  [5, BULGE],
  [10, WINDING],
  [8, ODD],
] as const) {
  for (const a of QUESTIONS[n - 1].answers) {
    if (!(a.key in table)) throw new Error(`strat.ts: Q${n} answer ${a.key} has no GZ2 class letter`);
  }
}
