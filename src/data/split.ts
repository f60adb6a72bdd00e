import { Random } from '../util/random.js';
import type { SplitName } from './batch.js';

export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];
/** Bumped if the assignment below changes, so stored splits can be told apart. */
export const SPLIT_ALGORITHM = 'stratified-hamilton/1';

/** Fractions of the galaxies in the train, validation and test splits. */
export type SplitRatios = readonly [train: number, validation: number, test: number];
/** The default split: 80% train, 10% validation, 10% test. */
export const DEFAULT_SPLIT_RATIOS: SplitRatios = [0.8, 0.1, 0.1];

/** Parses "0.8,0.1,0.1" (or percentages "80,10,10"); the ratios are normalised to sum to 1. */
export function parseSplitRatios(text: string): SplitRatios {
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
    throw new Error(`--split wants three non-negative numbers train,validation,test (e.g. 0.8,0.1,0.1), got "${text}"`);
  }
  const total = parts[0] + parts[1] + parts[2];
  if (!(total > 0)) throw new Error(`--split ratios must not all be 0: "${text}"`);
  return [parts[0] / total, parts[1] / total, parts[2] / total];
}

/**
 * Seeded stratified split. Every class gets, per split, its quota n·ratio rounded by largest
 * remainder (ties go to the split furthest below its overall target), so each class is within one
 * galaxy of its exact share in every split and class proportions agree across splits. Members of a
 * class are sorted by id and shuffled with Random.derive(seed, 'split', class): the result depends
 * only on (ids, classes, seed, ratios), not on row order or machine.
 */
export function stratifiedSplit(
  items: ReadonlyArray<{ readonly id: string; readonly stratClass: string }>,
  seed: number,
  ratios: SplitRatios = DEFAULT_SPLIT_RATIOS,
): Map<string, SplitName> {
  const byClass = new Map<string, string[]>();
  for (const { id, stratClass } of items) {
    const list = byClass.get(stratClass);
    if (list) list.push(id);
    else byClass.set(stratClass, [id]);
  }
  const total = items.length;
  const targets = ratios.map((r) => r * total);
  const assigned = [0, 0, 0];
  const result = new Map<string, SplitName>();
  // Largest classes first, then by name: deterministic and keeps the running totals balanced.
  const classes = [...byClass.keys()].sort((a, b) => byClass.get(b)!.length - byClass.get(a)!.length || cmp(a, b));
  for (const name of classes) {
    const ids = byClass.get(name)!.slice().sort(cmp);
    const n = ids.length;
    const quotas = ratios.map((r) => r * n);
    const counts = quotas.map(Math.floor);
    let left = n - counts[0] - counts[1] - counts[2];
    const order = [0, 1, 2].sort((a, b) => {
      const fa = quotas[a] - counts[a];
      const fb = quotas[b] - counts[b];
      if (Math.abs(fa - fb) > 1e-9) return fb - fa;
      return targets[b] - assigned[b] - (targets[a] - assigned[a]) || a - b;
    });
    for (const s of order) {
      if (left <= 0) break;
      if (ratios[s] === 0) continue;
      counts[s]++;
      left--;
    }
    Random.derive(seed, 'split', name).shuffle(ids);
    let k = 0;
    for (let s = 0; s < 3; s++) {
      for (let j = 0; j < counts[s]; j++) result.set(ids[k++], SPLIT_NAMES[s]);
      assigned[s] += counts[s];
    }
  }
  return result;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
