import { join, resolve } from 'node:path';
import { projectHome } from '../util/project.js';

/**
 * The Galaxy Zoo data directory: an explicit value (CLI/config) wins, then the GZH_DATA_DIR
 * environment variable, then `../shared/data` beside the project home.
 */
export function resolveDataDir(explicit?: string): string {
  if (explicit) return resolve(explicit);
  const fromEnv = process.env.GZH_DATA_DIR;
  if (fromEnv) return resolve(fromEnv);
  return resolve(projectHome(), '..', 'shared', 'data');
}

/** Well-known sub-directories of the data directory. */
export function dataPaths(dataDir = resolveDataDir()) {
  return {
    kaggleSample: join(dataDir, 'kaggle-gz-sample'),
    kaggleSolutions: join(dataDir, 'kaggle-gz-sample', 'training_solutions_rev1.csv'),
    kaggleImages: join(dataDir, 'kaggle-gz-sample', 'images_training_rev1'),
    gz2Sample: join(dataDir, 'gz2-sample'),
    gz2SampleLabels: join(dataDir, 'gz2-sample', 'gz2_sample_labels.csv'),
    gz2SampleImages: join(dataDir, 'gz2-sample', 'images'),
    stripe82Table: join(dataDir, 'gz2-stripe82', 'gz2_stripe82_coadd_table5.csv.gz'),
  } as const;
}
