/**
 * The train unit: member m of a variant, from its recipe (src/experiments/recipe.ts) and seed, to
 * `member-<m>/model` (with its manifest) and `member-<m>/history.json`. Training checkpoints into
 * `member-<m>/checkpoint`, so a unit stopped (signal, scancel, time limit) goes on from there. The
 * session's stop signal goes to the trainer: once it fires, training checkpoints the batch it
 * reached and the unit throws the session's InterruptedError, so a resume loses no batch.
 */
import { join } from 'node:path';
import { Augmenter } from '../../augment/index.js';
import { trainSubset } from '../../data/subset.js';
import { GzhError, InterruptedError } from '../../errors.js';
import { buildModel, createManifest, saveModel, seedInitialWeights } from '../../models/index.js';
import { type EpochLogs, checkpointPosition, train } from '../../train/index.js';
import { writeFileAtomic } from '../../util/atomic.js';
import type { ResolvedVariant } from '../config.js';
import type { Unit } from '../plan.js';
import {
  lossSpec,
  makeOptimizer,
  memberInputSize,
  memberSeed,
  modelSpec,
  timeBudgetSeconds,
  trainingCallbacks,
} from '../recipe.js';
import type { EpochRecord } from '../report/index.js';
import type { RunSession } from '../session.js';
import type { UnitBody } from './types.js';

function epochRecord(logs: EpochLogs, member: number): EpochRecord {
  return {
    epoch: (logs.epoch ?? 0) + 1,
    member,
    loss: logs.loss,
    ...(logs.val_loss !== undefined ? { valLoss: logs.val_loss } : {}),
    ...(logs.val_rmse !== undefined ? { valRmse: logs.val_rmse } : {}),
    ...(logs.lr !== undefined ? { learningRate: logs.lr } : {}),
    ...(logs.seconds !== undefined ? { seconds: logs.seconds } : {}),
  };
}

function variantOf(session: RunSession, unit: Unit): ResolvedVariant {
  const variant = session.variants.find((v) => v.name === unit.variant);
  if (!variant || unit.member === undefined) throw new GzhError(`unit ${unit.id} names no member of this run`);
  return variant;
}

/** A progress bar over the member's batches (the trainer, not the bar, watches the stop signal). */
function progressFor(session: RunSession, variant: ResolvedVariant, m: number, batches: number) {
  const progress = session.makeProgress();
  progress.start(batches * variant.settings.training.epochs, `train ${memberName(variant, m)} (batches)`);
  let ticked = 0;
  const onProgress = (p: { epoch: number; batchesPerEpoch: number; batch: number }) => {
    const done = p.epoch * p.batchesPerEpoch + p.batch;
    if (done > ticked) {
      progress.tick(done - ticked);
      ticked = done;
    }
  };
  return { progress, onProgress };
}

/** The member's name in chatter: `flat`, or `hier-ens 2/3` in an ensemble. */
function memberName(variant: ResolvedVariant, m: number): string {
  const count = variant.settings.ensemble.size;
  return `${variant.name}${count > 1 ? ` ${m + 1}/${count}` : ''}`;
}

/** Says where a member's training goes on from, when an earlier process left a checkpoint. */
async function logResume(session: RunSession, name: string, dir: string, batches: number, epochs: number) {
  // only chatter: a checkpoint that cannot be read is the trainer's error to report
  const position = await checkpointPosition(dir).catch(() => null);
  if (!position) return;
  const done = Math.min(position.epoch * batches + position.batch, epochs * batches);
  session.log(`${name}: goes on from its checkpoint (${done} of ${epochs * batches} batches trained)`);
}

export const trainMember: UnitBody = async (session, unit, phase) => {
  const variant = variantOf(session, unit);
  const m = unit.member!;
  const s = variant.settings;
  const ms = variant.members[m].settings;
  const memberDir = join(session.runDir, 'variants', variant.name, `member-${m}`);
  const data = await session.data(ms.preprocess);
  const fraction = ms.data.trainFraction ?? 1;
  const trainSource = trainSubset(data.train, fraction, session.experiment.seed);
  if (fraction < 1 && m === 0)
    session.log(
      `${variant.name}: trains on ${trainSource.length} of the ${data.train.length} training galaxies ` +
        `(data.trainFraction ${fraction})`,
    );
  const size = memberInputSize(ms, variant.name, m, variant.members.length);
  const seed = memberSeed(session.experiment.seed, m);
  const spec = modelSpec(ms, size);
  const model = await buildModel(spec);
  seedInitialWeights(model, seed);
  const hasValidation = data.validation.length > 0;
  if (!hasValidation && (s.callbacks.earlyStopping || s.callbacks.restoreBest) && m === 0) {
    session.log(`${variant.name}: the split has no validation galaxies, so early stopping and restoreBest are off`);
  }
  const augmenter = new Augmenter({ ...ms.augment, outputSize: size }, seed);
  const optimizer = makeOptimizer(ms);
  const batches = Math.ceil(trainSource.length / s.training.batchSize);
  const checkpointDir = join(memberDir, 'checkpoint');
  await logResume(session, memberName(variant, m), checkpointDir, batches, s.training.epochs);
  const { progress, onProgress } = progressFor(session, variant, m, batches);
  const signal = session.options.signal;
  try {
    const budget = timeBudgetSeconds(s);
    const result = await phase(`train:${variant.name}`, () =>
      train(model, {
        train: trainSource,
        ...(hasValidation ? { validation: data.validation } : {}),
        epochs: s.training.epochs,
        batchSize: s.training.batchSize,
        seed,
        loss: lossSpec(ms),
        optimizer,
        augment: (x, batchIndex, epoch) => augmenter.apply(x, batchIndex, epoch),
        prepare: (x) => augmenter.evaluate(x),
        callbacks: trainingCallbacks(s, ms, hasValidation),
        checkpoint: { dir: checkpointDir, everySeconds: s.callbacks.checkpointSeconds },
        ...(budget !== undefined ? { maxSeconds: budget } : {}),
        ...(signal ? { signal } : {}),
        onProgress,
      }).catch((error: unknown) => {
        if (!(error instanceof InterruptedError)) throw error;
        session.log(`${memberName(variant, m)}: ${error.message}`);
        throw session.stopError(`${unit.id}: ${error.message}`);
      }),
    );
    const modelDir = join(memberDir, 'model');
    await saveModel(model, modelDir, {
      manifest: createManifest(model, { kind: spec.kind, options: spec, preprocessing: data.preprocessing }),
    });
    await writeFileAtomic(
      join(memberDir, 'history.json'),
      JSON.stringify(result.history.map((logs) => epochRecord(logs, m))),
    );
    return {
      artifacts: { [`model:${variant.name}:${m}`]: modelDir },
      values: { trainSeconds: result.seconds, parameters: model.countParams() },
    };
  } finally {
    progress.stop();
    optimizer.dispose();
    model.dispose();
  }
};
