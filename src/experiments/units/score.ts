/**
 * The score unit of a variant: its members' models (trained by its train units, or another
 * variant's with the same recipe and seed) on the test split through src/ensemble/evaluate.ts:
 * the ensemble with the variant's TTA, each member alone with and without it, their spread, the
 * metrics (src/train/metrics.ts) and the report's scatter and example rows, into `result.json`.
 * An ensemble's folder also gets `ensemble.json`, so EnsemblePredictor.load reads it whole.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { trainSubset } from '../../data/subset.js';
import { writeEnsembleDir } from '../../ensemble/ensemble-dir.js';
import { type MemberInput, type Predictions, predictMembers, spreadAboutMean } from '../../ensemble/evaluate.js';
import { GzhError } from '../../errors.js';
import { loadModel } from '../../models/index.js';
import { ANSWER_COUNT, KAGGLE_COLUMNS, QUESTIONS } from '../../questions/index.js';
import { computeMetrics } from '../../train/index.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { type ResolvedVariant, answerIndex, sha256 } from '../config.js';
import { resultFileOf } from '../plan.js';
import { memberInputSize, trainingKey } from '../recipe.js';
import type { EpochRecord, MemberScore, VariantResult } from '../report/index.js';
import type { RunSession } from '../session.js';
import { readUnitStatus } from '../unit-status.js';
import type { PhaseTimer, UnitBody } from './types.js';

/** What a score unit writes: the variant's result and its predictions for the report's examples. */
export interface StoredVariant {
  readonly result: VariantResult;
  /** Predictions for the example galaxies (id → 37 values). */
  readonly examples: Record<string, number[]>;
}

export function readStoredVariant(runDir: string, variant: string): StoredVariant {
  return JSON.parse(readFileSync(join(runDir, resultFileOf(variant)), 'utf8'), (_k, v: unknown) =>
    v === null ? Number.NaN : v,
  ) as StoredVariant;
}

const round = (x: number): number => Math.round(x * 1e5) / 1e5;

async function memberScores(
  variant: ResolvedVariant,
  inputs: MemberInput[],
  preds: Predictions,
  convention: 'cumulative' | 'conditional',
) {
  const tta = variant.settings.ensemble.tta;
  const scores: MemberScore[] = [];
  const alonePredictions: Float32Array[] = [];
  for (const [m, input] of inputs.entries()) {
    const alone =
      tta === 'none' ? preds.members![m] : (await predictMembers([input], { tta: 'none', convention })).predicted;
    alonePredictions.push(alone);
    const scored = computeMetrics(preds.truth, alone);
    const rmseTta = tta !== 'none' ? computeMetrics(preds.truth, preds.members![m]).rmse : undefined;
    const label = variant.members[m].label;
    scores.push({
      member: m,
      ...(label ? { label } : {}),
      rmse: scored.rmse,
      r2: scored.r2,
      ...(rmseTta !== undefined ? { rmseTta } : {}),
    });
  }
  return { scores, spread: spreadAboutMean(alonePredictions) };
}

/** Members' histories in order, and the training seconds and size of the variant's own train units. */
function training(session: RunSession, variant: ResolvedVariant) {
  const refs = session.plan.members.get(variant.name)!;
  const history: EpochRecord[] = [];
  let epochs = 0;
  let seconds = 0;
  let parameters = 0;
  for (const ref of refs) {
    const h = JSON.parse(readFileSync(join(session.runDir, ref.memberDir, 'history.json'), 'utf8')) as EpochRecord[];
    history.push(...h);
    epochs = Math.max(epochs, h.length);
    const values = readUnitStatus(session.runDir, ref.unit)?.values ?? {};
    if (!ref.sharedWith) seconds += values.trainSeconds ?? 0;
    parameters = values.parameters ?? parameters;
  }
  return { history, epochs, seconds, parameters };
}

/**
 * How many galaxies the variant trained on, and its recipe apart from the training fraction (for the
 * learning-curve chart).
 */
async function trainingData(
  session: RunSession,
  variant: ResolvedVariant,
): Promise<{ trainGalaxies: number; recipe: string }> {
  const s = variant.settings;
  const fraction = s.data.trainFraction ?? 1;
  const train = (await session.data(s.preprocess)).train;
  const { trainFraction: _fraction, ...data } = s.data;
  return {
    trainGalaxies: trainSubset(train, fraction, session.experiment.seed).length,
    recipe: sha256(trainingKey({ ...s, data })).slice(0, 16),
  };
}

async function evaluate(session: RunSession, variant: ResolvedVariant, models: tf.LayersModel[], phase: PhaseTimer) {
  const convention = session.experiment.data.convention;
  const s = variant.settings;
  const inputs: MemberInput[] = await Promise.all(
    models.map(async (model, m) => ({
      model,
      source: (await session.data(variant.members[m].settings.preprocess)).test,
      size: memberInputSize(variant.members[m].settings, variant.name, m, models.length),
    })),
  );
  const preds = await phase(`evaluate:${variant.name}`, () =>
    predictMembers(inputs, { tta: s.ensemble.tta, convention, perMember: models.length > 1 }),
  );
  const members =
    models.length > 1
      ? await phase(`evaluate-members:${variant.name}`, () => memberScores(variant, inputs, preds, convention))
      : undefined;
  return { preds, members };
}

function variantResult(
  session: RunSession,
  variant: ResolvedVariant,
  preds: Predictions,
  rows: { examples: number[]; scatter: number[] },
): Omit<VariantResult, 'epochs' | 'parameters' | 'trainSeconds' | 'evaluateSeconds' | 'history'> & {
  examples: Record<string, number[]>;
} {
  const s = variant.settings;
  const metrics = computeMetrics(preds.truth, preds.predicted);
  const scatter = session.experiment.config.report.answers.map((answer) => {
    const a = answerIndex(answer)!;
    return {
      answer: KAGGLE_COLUMNS[a],
      truth: rows.scatter.map((r) => round(preds.truth[r * ANSWER_COUNT + a])),
      predicted: rows.scatter.map((r) => round(preds.predicted[r * ANSWER_COUNT + a])),
    };
  });
  const examples: Record<string, number[]> = {};
  for (const r of rows.examples)
    examples[preds.ids[r]] = Array.from(preds.predicted.subarray(r * ANSWER_COUNT, (r + 1) * ANSWER_COUNT)).map(round);
  return {
    name: variant.name,
    label: variant.label,
    ...(variant.description ? { description: variant.description } : {}),
    modelKind: s.model.kind,
    ensembleSize: s.ensemble.size,
    tta: s.ensemble.tta,
    overall: { rmse: metrics.rmse, mse: metrics.mse, r2: metrics.r2, meanAnswerR2: metrics.r2PerAnswerMean },
    perQuestion: QUESTIONS.map((q, i) => ({
      question: q.number,
      rmse: metrics.rmsePerQuestion[i],
      r2: metrics.r2PerQuestion[i],
    })),
    perAnswerR2: [...metrics.r2PerAnswer],
    perAnswerRmse: [...metrics.rmsePerAnswer],
    scatter,
    examples,
  };
}

export const scoreVariant: UnitBody = async (session, unit, phase) => {
  const variant = session.variants.find((v) => v.name === unit.variant);
  if (!variant) throw new GzhError(`unit ${unit.id} names no variant of this run`);
  const refs = session.plan.members.get(variant.name)!;
  const artifacts: Record<string, string> = {};
  for (const [m, ref] of refs.entries()) {
    if (!ref.sharedWith) continue;
    session.log(
      `${variant.name}: member ${m + 1}/${refs.length} has the same settings and seed as ${ref.sharedWith}'s, ` +
        'which is trained: reused',
    );
    artifacts[`model:${variant.name}:${m}`] = join(session.runDir, ref.memberDir, 'model');
  }
  const models = await Promise.all(
    refs.map(async (ref) => (await loadModel(join(session.runDir, ref.memberDir, 'model'))).model),
  );
  try {
    const t0 = performance.now();
    const { preds, members } = await evaluate(session, variant, models, phase);
    const dir = join(session.runDir, 'variants', variant.name);
    if (models.length > 1) {
      const description = `${variant.label} (run ${session.run.runId})`;
      await writeEnsembleDir(dir, {
        members: refs.map((r) => join(session.runDir, r.memberDir, 'model')),
        tta: variant.settings.ensemble.tta,
        convention: session.experiment.data.convention,
        description,
      });
    }
    const evaluateSeconds = (performance.now() - t0) / 1000;
    const { examples, ...scored } = variantResult(session, variant, preds, await session.reportRows());
    const t = training(session, variant);
    const result: VariantResult = {
      ...scored,
      parameters: t.parameters,
      ...(await trainingData(session, variant)),
      epochs: t.epochs,
      trainSeconds: t.seconds,
      evaluateSeconds,
      history: t.history,
      ...(members ? { members: members.scores, memberSpread: members.spread } : {}),
    };
    await writeFileAtomic(
      join(session.runDir, resultFileOf(variant.name)),
      JSON.stringify({ result, examples } satisfies StoredVariant),
    );
    return { artifacts };
  } finally {
    for (const model of models) model.dispose();
  }
};
