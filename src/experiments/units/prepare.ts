/**
 * The prepare unit: ingest (cached catalogue), every preprocessing the run's members read (cached
 * images, the same galaxies for each), and the run's split.json, which also pins a resumed run to
 * the galaxies it started with (RunSession.data checks it in every process). It records the
 * catalogue and the image caches as artifacts: it is done only while they exist.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SPLIT_NAMES } from '../../data/split.js';
import { GzhError, InputError } from '../../errors.js';
import { preprocessKey, preprocessLabel } from '../recipe.js';
import { SPLIT_FILE, writeSplitFile } from '../split-file.js';
import type { UnitBody } from './types.js';

export const prepare: UnitBody = async (session, _unit, phase) => {
  const ingested = await phase('ingest', () => session.ingest());
  const data = await phase('preprocess', () => session.data());
  session.log(
    `split: ${data.train.length} train / ${data.validation.length} validation / ${data.test.length} test galaxies`,
  );
  if (data.train.length === 0 || data.test.length === 0)
    throw new InputError('the split has no training or no test galaxies; use more data or other split fractions');
  const caches: Record<string, string> = data.cacheDir
    ? { [`cache:${preprocessLabel(session.experiment.variants[0].settings.preprocess)}`]: data.cacheDir }
    : {};
  const seen = new Set([preprocessKey(session.experiment.variants[0].settings.preprocess)]);
  for (const member of session.variants.flatMap((v) => v.members)) {
    const p = member.settings.preprocess;
    if (seen.has(preprocessKey(p))) continue;
    seen.add(preprocessKey(p));
    const label = preprocessLabel(p);
    const other = await phase(`preprocess:${label}`, () => session.data(p));
    if (other.cacheDir) caches[`cache:${label}`] = other.cacheDir;
    for (const split of SPLIT_NAMES) {
      if (other[split].length !== data[split].length) {
        throw new GzhError(
          `preprocessing ${label} gives ${other[split].length} ${split} galaxies, the experiment's ` +
            `${data[split].length}: some images could not be preprocessed that way`,
        );
      }
    }
  }
  const { experiment, runDir } = session;
  // present: session.data() checked that these galaxies are the ones it names
  if (!existsSync(join(runDir, SPLIT_FILE))) {
    writeSplitFile(runDir, {
      data: experiment.data.path,
      catalogue: ingested.catalogue,
      seed: experiment.seed,
      ids: { train: [...data.train.ids], validation: [...data.validation.ids], test: [...data.test.ids] },
    });
  }
  return { artifacts: { 'split.json': join(runDir, SPLIT_FILE), catalogue: ingested.catalogue, ...caches } };
};
