/**
 * The GZ2 `gz2class` shorthand of a galaxy's consensus morphology (Willett et al. 2013, table 2;
 * the Hart et al. 2016 catalogue's column), read from its conditional vote fractions by following
 * the majority answer down the tree:
 *
 *   A                          star or artifact
 *   E + r|i|c                  smooth: completely round, in between, cigar-shaped
 *   Se + r|b|n                 edge-on disk: rounded, boxy or no bulge
 *   S[B] + d|c|b|a [arms]      face-on disk, barred or not; bulge none, just noticeable, obvious,
 *                              dominant; for spirals the arm count 1|2|3|4|+|? and winding t|m|l
 *   … + (r|l|d|i|o|m|u)        when most saw something odd: ring, lens or arc, disturbed,
 *                              irregular, other, merger, dust lane
 *
 * e.g. `Er`, `Sc2m`, `SBb?t`, `Seb`, `Ei(m)`.
 */
import { QUESTIONS } from '../../questions/index.js';

/** The position of the answer most chose in question `number` (the first on a tie); -1 when nobody answered. */
function majority(conditional: ArrayLike<number>, number: number): number {
  const q = QUESTIONS[number - 1];
  let best = -1;
  let bestValue = 0;
  for (let i = 0; i < q.answers.length; i++) {
    const value = conditional[q.offset + i];
    if (value > bestValue) {
      best = i;
      bestValue = value;
    }
  }
  return best;
}

/** The letter of the majority answer of question `number` in `letters` ('' when nobody answered). */
function letter(conditional: ArrayLike<number>, number: number, letters: string): string {
  const at = majority(conditional, number);
  return at < 0 ? '' : letters[at];
}

/** The `gz2class` string of a conditional 37-vector (Kaggle answer order). */
export function gz2Class(conditional: ArrayLike<number>): string {
  const first = majority(conditional, 1);
  if (first === 2 || first < 0) return 'A';
  let text: string;
  if (first === 0) text = `E${letter(conditional, 7, 'ric')}`;
  else if (majority(conditional, 2) === 0) text = `Se${letter(conditional, 9, 'rbn')}`;
  else {
    text = `S${majority(conditional, 3) === 0 ? 'B' : ''}${letter(conditional, 5, 'dcba')}`;
    if (majority(conditional, 4) === 0) text += letter(conditional, 11, '1234+?') + letter(conditional, 10, 'tml');
  }
  if (majority(conditional, 6) === 0) text += `(${letter(conditional, 8, 'rldiomu')})`;
  return text;
}
