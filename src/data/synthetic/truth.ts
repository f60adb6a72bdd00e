/**
 * truth.jsonl: the true morphology of every synthetic galaxy, one JSON object a line (streamed, so
 * its size never has to fit in memory), numbers rounded to 5 decimals.
 */
import type { SyntheticGalaxy } from './galaxy.js';

/** File name of the truth table. */
export const TRUTH_FILE = 'truth.jsonl';

const round = (x: number): number => Math.round(x * 1e5) / 1e5;

function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  return value;
}

/** One galaxy's truth line: id, volunteer count and its morphology, rounded. */
export function truthLine(galaxy: SyntheticGalaxy): string {
  return JSON.stringify({
    id: galaxy.id,
    volunteers: galaxy.votes.volunteers,
    ...(roundDeep(galaxy.morphology) as object),
  });
}
