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
    /** The Kaggle sample folder. */
    kaggleSample: join(dataDir, 'kaggle-gz-sample'),
    /** Its labels (training_solutions_rev1.csv). */
    kaggleSolutions: join(dataDir, 'kaggle-gz-sample', 'training_solutions_rev1.csv'),
    /** Its images. */
    kaggleImages: join(dataDir, 'kaggle-gz-sample', 'images_training_rev1'),
    /** The GZ2 sample folder. */
    gz2Sample: join(dataDir, 'gz2-sample'),
    /** Its labels. */
    gz2SampleLabels: join(dataDir, 'gz2-sample', 'gz2_sample_labels.csv'),
    /** Its images. */
    gz2SampleImages: join(dataDir, 'gz2-sample', 'images'),
    /** The GZ2 Stripe 82 vote table (labels only). */
    stripe82Table: join(dataDir, 'gz2-stripe82', 'gz2_stripe82_coadd_table5.csv.gz'),
  } as const;
}
