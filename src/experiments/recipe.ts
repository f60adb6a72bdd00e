/**
 * A variant's (or ensemble member's) settings translated into what the trainer takes: model spec,
 * loss, optimizer, learning-rate schedule, callbacks, input size, seed and the time budget (the
 * trainer's own `maxSeconds`, counted across resumes: the one time-budget mechanism).
 */
import * as tf from '@tensorflow/tfjs';
import { geometryRange, maxSafeOutputSize, resolveAugmentConfig } from '../augment/index.js';
import { ConfigError } from '../errors.js';
import { EQUIVARIANT_TRUNKS, trunkFromFields, type ModelSpec } from '../models/index.js';
import {
  EarlyStopping,
  LearningRateScheduler,
  type Callback,
  type LossSpec,
  type Schedule,
  cosineDecay,
  stepDecay,
} from '../train/index.js';
import { Random } from '../util/random.js';
import { type VariantSettings, canonicalJson } from './config.js';

/** Network input side for a variant: augment.outputSize, else the largest safe centre crop. */
export function inputSize(settings: VariantSettings): number {
  if (settings.augment.outputSize) return settings.augment.outputSize;
  const probe = resolveAugmentConfig({ ...settings.augment, outputSize: 1 });
  return maxSafeOutputSize(settings.preprocess.size, geometryRange(probe));
}

/** The input size of member `m` of a variant named `variant` of `count` members; refuses none. */
export function memberInputSize(settings: VariantSettings, variant: string, m: number, count: number): number {
  const size = inputSize(settings);
  if (size < 1) {
    throw new ConfigError(
      `${variant}${count > 1 ? ` member ${m + 1}` : ''}: the augmentation ranges leave no safe input size ` +
        `inside ${settings.preprocess.size}px images; set augment.outputSize or narrow zoom/translate`,
    );
  }
  return size;
}

/** Seed of ensemble member `m`: the experiment seed for the first, a derived one for the others. */
export function memberSeed(experimentSeed: number, m: number): number {
  return m === 0 ? experimentSeed : Random.derive(experimentSeed, 'member', m).nextUint32() >>> 1;
}

/**
 * The model spec of a variant. Flat and per-question models keep their own CNNs unless the trunk is
 * an equivariant one (variants inherit the base model section, so a flat variant must not pick up
 * `trunk: "deep"` from it).
 */
export function modelSpec(settings: VariantSettings, size: number): ModelSpec {
  const m = settings.model;
  const channels = settings.preprocess.channels;
  const lr = settings.optimizer.learningRate;
  const equivariant = m.trunk !== undefined && EQUIVARIANT_TRUNKS.includes(m.trunk);
  const ownTrunk = equivariant ? { trunk: trunkFromFields(m) } : {};
  if (m.kind === 'flat') return { kind: 'flat', inputSize: size, channels, learningRate: lr, ...ownTrunk };
  if (m.kind === 'per-question') {
    const branch = {
      ...(m.filters ? { filters: m.filters } : {}),
      ...(m.dense !== undefined ? { dense: m.dense } : {}),
      ...(m.dropout !== undefined ? { dropout: m.dropout } : {}),
    };
    return {
      kind: 'per-question',
      inputSize: size,
      channels,
      learningRate: lr,
      output: 'cumulative',
      branch,
      ...ownTrunk,
    };
  }
  const trunk = trunkFromFields(m);
  return {
    kind: 'hierarchical',
    inputSize: size,
    channels,
    learningRate: lr,
    output: 'cumulative',
    trunk,
    ...(m.heads ? { heads: m.heads } : {}),
  };
}

export function lossSpec(settings: VariantSettings): LossSpec {
  const l = settings.loss;
  if (l.kind === 'dirichlet-multinomial')
    return { kind: 'dirichlet-multinomial', ...(l.concentration ? { concentration: l.concentration } : {}) };
  return { kind: l.kind };
}

export function makeOptimizer(settings: VariantSettings): tf.Optimizer {
  const o = settings.optimizer;
  if (o.kind === 'sgd')
    return o.momentum ? tf.train.momentum(o.learningRate, o.momentum) : tf.train.sgd(o.learningRate);
  if (o.kind === 'rmsprop') return tf.train.rmsprop(o.learningRate, 0.9, o.momentum ?? 0);
  return tf.train.adam(o.learningRate);
}

export function schedule(settings: VariantSettings): Schedule | null {
  const s = settings.schedule;
  const epochs = settings.training.epochs;
  switch (s.kind) {
    case 'constant':
      return s.warmupEpochs > 0
        ? (epoch, base) => (epoch < s.warmupEpochs ? (base * (epoch + 1)) / (s.warmupEpochs + 1) : base)
        : null;
    case 'step':
      return stepDecay({ factor: s.gamma ?? 0.5, every: s.stepEpochs ?? 10 });
    case 'exponential': {
      const gamma = s.gamma ?? 0.9;
      return (epoch, base) => base * gamma ** epoch;
    }
    case 'cosine':
      return cosineDecay({ epochs, minLearningRate: s.minLearningRate ?? 0, warmupEpochs: s.warmupEpochs });
  }
}

/**
 * The callbacks of a member's training: its learning-rate schedule, and early stopping / restore
 * best where asked and there are validation galaxies to monitor. `variant` holds the variant's
 * callback and budget settings (shared by its members); `member` the member's own recipe.
 */
export function trainingCallbacks(
  variant: VariantSettings,
  member: VariantSettings,
  hasValidation: boolean,
): Callback[] {
  const callbacks: Callback[] = [];
  const sched = schedule(member);
  if (sched) callbacks.push(new LearningRateScheduler(sched));
  const es = variant.callbacks.earlyStopping;
  if (hasValidation && (es || variant.callbacks.restoreBest)) {
    callbacks.push(
      new EarlyStopping({
        monitor: es?.monitor ?? 'val_rmse',
        patience: es?.patience ?? variant.training.epochs + 1,
        minDelta: es?.minDelta ?? 0,
        restoreBestWeights: variant.callbacks.restoreBest,
      }),
    );
  }
  return callbacks;
}

/** The training time budget in seconds (training.maxMinutes), or undefined for none. */
export function timeBudgetSeconds(settings: VariantSettings): number | undefined {
  return settings.training.maxMinutes ? settings.training.maxMinutes * 60 : undefined;
}

/** Identifies a preprocessing (the cache directory aside). */
export function preprocessKey(p: VariantSettings['preprocess']): string {
  const { cacheDir: _cacheDir, ...rest } = p;
  return canonicalJson(rest);
}

/** e.g. `center 160 → 64px rgb`, `contour → 106px gray`. */
export function preprocessLabel(p: VariantSettings['preprocess']): string {
  return (
    `${p.method}${p.method === 'center' ? ` ${p.centerCrop}` : ''} → ${p.size}px ` +
    `${p.channels === 1 ? 'gray' : 'rgb'}`
  );
}

/** The training recipe of a variant: every setting except how its members are combined. */
export function trainingKey(settings: VariantSettings): string {
  const { ensemble: _ensemble, slurm: _slurm, output: _output, ...rest } = settings;
  return canonicalJson(rest);
}

/**
 * e.g. `10 epochs, ≤ 2 min per model, batch 32, adam lr 0.002 (cosine)` (`, 25% of the training split` with a
 * data.trainFraction).
 */
export function budgetText(s: VariantSettings): string {
  const t = s.training;
  const fraction = s.data.trainFraction;
  const part =
    fraction !== undefined && fraction < 1 ? `, ${+(fraction * 100).toPrecision(4)}% of the training split` : '';
  return (
    `${t.epochs} epochs${t.maxMinutes ? `, ≤ ${t.maxMinutes} min` : ''} per model, batch ${t.batchSize}, ` +
    `${s.optimizer.kind} lr ${s.optimizer.learningRate} (${s.schedule.kind})${part}`
  );
}
