/** Kaggle submission rows; browser-safe (the web page's CSV download writes them too). */
import { ANSWER_COUNT, KAGGLE_COLUMNS } from '../questions/index.js';

/** `GalaxyID,Class1.1,…,Class11.6` */
export function kaggleCsvHeader(): string {
  return ['GalaxyID', ...KAGGLE_COLUMNS].join(',');
}

/** A probability as the Kaggle files write them: plain decimal, at most 6 places, no exponent. */
export function formatProbability(value: number): string {
  const rounded = Number(value.toFixed(6));
  return (rounded === 0 ? 0 : rounded).toString();
}

/** One submission row: the id and the 37 cumulative probabilities. */
export function kaggleCsvRow(id: string, cumulative: ArrayLike<number>): string {
  if (cumulative.length !== ANSWER_COUNT) throw new RangeError(`expected ${ANSWER_COUNT} values, got ${cumulative.length}`);
  const cells = [id];
  for (let i = 0; i < ANSWER_COUNT; i++) cells.push(formatProbability(cumulative[i]));
  return cells.join(',');
}
