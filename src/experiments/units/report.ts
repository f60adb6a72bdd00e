/**
 * The report unit: every variant's result.json, the example galaxies' truths and images, and the
 * phases every unit recorded, into report/report.{md,html,json}.
 */
import { join } from 'node:path';
import type { BatchSource } from '../../data/batch.js';
import { ANSWER_COUNT } from '../../questions/index.js';
import { budgetText } from '../recipe.js';
import type { ComparisonResult, ExampleGalaxy } from '../report/index.js';
import { writeReport } from '../report/index.js';
import type { RunSession } from '../session.js';
import { readUnitStatuses } from '../unit-status.js';
import { readStoredVariant } from './score.js';
import type { UnitBody } from './types.js';

async function truthRows(
  source: BatchSource,
  convention: 'cumulative' | 'conditional',
  rows: readonly number[],
): Promise<Map<number, number[]>> {
  const wanted = new Set(rows);
  const out = new Map<number, number[]>();
  let r = 0;
  for await (const b of source.batches({ batchSize: 512, shuffle: false, seed: 0, epoch: 0 })) {
    const values = convention === 'conditional' ? b.conditional : b.cumulative;
    for (let k = 0; k < b.size; k++, r++) {
      if (wanted.has(r)) out.set(r, Array.from(values.subarray(k * ANSWER_COUNT, (k + 1) * ANSWER_COUNT)));
    }
  }
  return out;
}

/** Phase name → seconds, summed over every unit's status (units of earlier processes included). */
export function runPhases(runDir: string, extra: Readonly<Record<string, number>> = {}): Record<string, number> {
  const phases: Record<string, number> = {};
  for (const status of readUnitStatuses(runDir)) {
    for (const [name, seconds] of Object.entries(status.phases ?? {}))
      phases[name] = Math.round(((phases[name] ?? 0) + seconds) * 1000) / 1000;
  }
  for (const [name, seconds] of Object.entries(extra))
    phases[name] = Math.round(((phases[name] ?? 0) + seconds) * 1000) / 1000;
  return phases;
}

/** The comparison of the run's variants, as the report shows it. */
export async function comparison(session: RunSession, backend: string): Promise<ComparisonResult> {
  const { experiment, runDir, run } = session;
  const stored = session.variants.map((v) => readStoredVariant(runDir, v.name));
  const data = await session.data();
  const rows = (await session.reportRows()).examples;
  const truth = await truthRows(data.test, experiment.data.convention, rows);
  const examples: ExampleGalaxy[] = [];
  for (const r of rows) {
    const id = data.test.ids[r];
    const path = data.imagePath(id);
    if (!path) continue;
    examples.push({
      id,
      image: { path },
      truth: truth.get(r)!,
      predictions: Object.fromEntries(session.variants.map((v, i) => [v.name, stored[i].examples[id]])),
    });
  }
  return {
    experiment: {
      name: experiment.name,
      ...(experiment.description ? { description: experiment.description } : {}),
      runId: run.runId,
      configHash: experiment.hash,
      ...(experiment.sourcePath ? { configPath: experiment.sourcePath } : {}),
      seed: experiment.seed,
      gitCommit: run.gitCommit,
      backend,
      dataSource: experiment.data.source,
      dataPath: experiment.data.path,
      convention: experiment.data.convention,
      createdAt: new Date().toISOString(),
      budget: budgetText(session.variants[0].settings),
    },
    split: { train: data.train.length, validation: data.validation.length, test: data.test.length },
    variants: stored.map((s) => s.result),
    examples,
    phases: runPhases(runDir),
  };
}

export const report: UnitBody = async (session, _unit, phase) => {
  const backend = session.backend ?? 'unknown';
  const files = await phase('report', async () =>
    writeReport(await comparison(session, backend), join(session.runDir, 'report')),
  );
  return { artifacts: { 'report.md': files.markdown, 'report.html': files.html, 'report.json': files.json } };
};
