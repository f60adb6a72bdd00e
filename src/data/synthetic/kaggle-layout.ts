/**
 * Rows of a synthetic data set in the Kaggle "Galaxy Challenge" layout:
 *
 *   images_training_rev1/<GalaxyID>.jpg
 *   training_solutions_rev1.csv     GalaxyID,Class1.1,…,Class11.6 (cumulative, Kaggle Q6)
 *   vote_counts.csv                 GalaxyID,volunteers,Class1.1,… (raw vote counts)
 */
import { join } from 'node:path';
import { KAGGLE_COLUMNS } from '../../questions/index.js';
import type { SyntheticGalaxy } from './galaxy.js';
import { type LabelFiles, LineSink } from './line-sink.js';

/** File names of the Kaggle layout. */
export const KAGGLE_FILES = {
  images: 'images_training_rev1',
  labels: 'training_solutions_rev1.csv',
  counts: 'vote_counts.csv',
} as const;

/** Kaggle-style decimal: up to 9 places, no trailing zeros, never exponent notation. */
export function formatFraction(value: number): string {
  if (value === 0) return '0';
  if (value === 1) return '1';
  const text = value.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return text === '-0' ? '0' : text;
}

/** The headers of training_solutions_rev1.csv and vote_counts.csv. */
function kaggleHeaders(): { label: string; counts: string } {
  return {
    label: ['GalaxyID', ...KAGGLE_COLUMNS].join(','),
    counts: ['GalaxyID', 'volunteers', ...KAGGLE_COLUMNS].join(','),
  };
}

/** One galaxy's solutions row and vote-counts row. */
function kaggleRows(galaxy: SyntheticGalaxy): { label: string; counts: string } {
  const id = String(galaxy.id);
  return {
    label: [id, ...Array.from(galaxy.votes.cumulative, formatFraction)].join(','),
    counts: [id, String(galaxy.votes.volunteers), ...Array.from(galaxy.votes.counts, String)].join(','),
  };
}

/** Streams the Kaggle label files (solutions and vote counts) of a data set being written in `dir`. */
export async function openKaggleLabels(dir: string): Promise<LabelFiles> {
  const headers = kaggleHeaders();
  const labels = new LineSink(join(dir, KAGGLE_FILES.labels));
  const counts = new LineSink(join(dir, KAGGLE_FILES.counts));
  await labels.write(headers.label);
  await counts.write(headers.counts);
  return {
    async write(galaxy) {
      const rows = kaggleRows(galaxy);
      await labels.write(rows.label);
      await counts.write(rows.counts);
    },
    sinks: [labels, counts],
  };
}
