/**
 * The prepare unit: ingest (cached catalogue), every preprocessing the run's members read (cached
 * images, the same galaxies for each), and the run's split.json, which also pins a resumed run to
 * the galaxies it started with.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SPLIT_NAMES } from '../../data/split.js';
import { GzhError, InputError } from '../../errors.js';
import { preprocessKey, preprocessLabel } from '../recipe.js';
import type { RunSession } from '../session.js';
import { SPLIT_FILE, readSplitFile, writeSplitFile } from '../split-file.js';
import type { UnitBody } from './types.js';

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, i) => id === b[i]);

async function checkSplitFile(session: RunSession, ids: Record<'train' | 'validation' | 'test', readonly string[]>, catalogue: string): Promise<void> {
  const { experiment, runDir } = session;
  const splitFile = join(runDir, SPLIT_FILE);
  if (!existsSync(splitFile)) {
    writeSplitFile(runDir, { data: experiment.data.path, catalogue, seed: experiment.seed, ids: { train: [...ids.train], validation: [...ids.validation], test: [...ids.test] } });
    return;
  }
  const before = readSplitFile(splitFile);
  if (SPLIT_NAMES.every((s) => same(before.ids[s], ids[s]))) return;
  const counts = (x: Readonly<Record<"train" | "validation" | "test", readonly string[]>>) => `${x.train.length}/${x.validation.length}/${x.test.length}`;
  throw new InputError(
    `run ${session.run.runId} was started on other data (${splitFile}: ${counts(before.ids)} ` +
      `galaxies${before.data ? ` from ${before.data}` : ''}; now ${counts(ids)} from ${experiment.data.path}); ` +
      `resume it with the data it was started with${before.data ? ` (--data-path ${before.data})` : ''}`,
  );
}

export const prepare: UnitBody = async (session, _unit, phase) => {
  const ingested = await phase('ingest', () => session.ingest());
  const data = await phase('preprocess', () => session.data());
  session.log(`split: ${data.train.length} train / ${data.validation.length} validation / ${data.test.length} test galaxies`);
  if (data.train.length === 0 || data.test.length === 0) throw new InputError('the split has no training or no test galaxies; use more data or other split fractions');
  const seen = new Set([preprocessKey(session.experiment.variants[0].settings.preprocess)]);
  for (const member of session.variants.flatMap((v) => v.members)) {
    const p = member.settings.preprocess;
    if (seen.has(preprocessKey(p))) continue;
    seen.add(preprocessKey(p));
    const label = preprocessLabel(p);
    const other = await phase(`preprocess:${label}`, () => session.data(p));
    for (const split of SPLIT_NAMES) {
      if (other[split].length !== data[split].length) {
        throw new GzhError(`preprocessing ${label} gives ${other[split].length} ${split} galaxies, the experiment's ` +
          `${data[split].length}: some images could not be preprocessed that way`);
      }
    }
  }
  await checkSplitFile(session, { train: data.train.ids, validation: data.validation.ids, test: data.test.ids }, ingested.catalogue);
  return { artifacts: { 'split.json': join(session.runDir, SPLIT_FILE) } };
};
