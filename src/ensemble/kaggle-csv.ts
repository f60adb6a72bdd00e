/** Kaggle submission rows; browser-safe (the web page's CSV download writes them too). */
import { NonFiniteError } from '../errors.js';
import { ANSWER_COUNT, KAGGLE_COLUMNS } from '../questions/index.js';

/**
 * Why a GalaxyID cannot be written into a CSV row, or null when it can. IDs are refused rather
 * than quoted: a comma, quote, tab or line break would split or merge cells and rows, and a
 * leading `=`, `+`, `-` or `@` makes spreadsheets read the cell as a formula, which quoting does
 * not prevent. Kaggle and SDSS GalaxyIDs are digits; letters, `_` and `.` inside a name are fine.
 */
export function checkGalaxyId(id: string): string | null {
  if (id === '') return 'the file name gives an empty GalaxyID';
  const bad = /[,"\r\n\t]/.exec(id);
  if (bad)
    return (
      `GalaxyID ${JSON.stringify(id)} contains ${JSON.stringify(bad[0])}, which would break the CSV row; rename ` +
      'the file'
    );
  if (/^[=+\-@]/.test(id))
    return (
      `GalaxyID ${JSON.stringify(id)} starts with ${JSON.stringify(id[0])}, which spreadsheets read as a ` +
      'formula; rename the file'
    );
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id))
    return `GalaxyID ${JSON.stringify(id)} contains a control character; rename the file`;
  return null;
}

/** `GalaxyID,Class1.1,…,Class11.6` */
export function kaggleCsvHeader(): string {
  return ['GalaxyID', ...KAGGLE_COLUMNS].join(',');
}

/** A probability as the Kaggle files write them: plain decimal, at most 6 places, no exponent. */
export function formatProbability(value: number): string {
  const rounded = Number(value.toFixed(6));
  return (rounded === 0 ? 0 : rounded).toString();
}

/**
 * One submission row: the id and the 37 cumulative probabilities. Throws (RangeError) for an id
 * `checkGalaxyId` refuses and (NonFiniteError) for a NaN or infinite value: such a row is never written.
 */
export function kaggleCsvRow(id: string, cumulative: ArrayLike<number>): string {
  if (cumulative.length !== ANSWER_COUNT)
    throw new RangeError(`expected ${ANSWER_COUNT} values, got ${cumulative.length}`);
  const problem = checkGalaxyId(id);
  if (problem) throw new RangeError(problem);
  const cells = [id];
  for (let i = 0; i < ANSWER_COUNT; i++) {
    const value = cumulative[i];
    if (!Number.isFinite(value))
      throw new NonFiniteError(
        `GalaxyID ${id}: ${KAGGLE_COLUMNS[i]} is ${value}; a non-finite prediction is never written`,
      );
    cells.push(formatProbability(value));
  }
  return cells.join(',');
}
