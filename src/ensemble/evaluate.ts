/**
 * Ensemble evaluation on labelled batches: every member reads its own preprocessing of the same
 * galaxies (sources read in lockstep), is shown the TTA views of the predictor's TTA
 * (src/ensemble/tta.ts), and the members' views are averaged; each member's own average comes from
 * the same forward passes. This is how a run scores an ensemble variant on its test split.
 */
import * as tf from '@tensorflow/tfjs';
import { type D4Element, applyD4, centerCrop } from '../augment/index.js';
import type { Batch, BatchSource } from '../data/batch.js';
import { GzhError } from '../errors.js';
import { ANSWER_COUNT, toConditional } from '../questions/index.js';
import { forward, imagesToTensor, modelView } from '../train/index.js';
import { type TtaSpec, resolveTta } from './tta.js';

/** The exact D4 views of a named TTA (`none`, `flip`, `rot4`, `d4`). */
export function ttaElements(tta: string): D4Element[] {
  const spec = (['flip', 'rot4', 'd4'].includes(tta) ? tta : 'none') as TtaSpec;
  return resolveTta(spec).map((view) => view.d4);
}

export interface Predictions {
  readonly ids: string[];
  /** N×37 in the asked convention. */
  readonly predicted: Float32Array;
  readonly truth: Float32Array;
  /** With `perMember`: each member's own predictions over the same TTA views (N×37). */
  readonly members?: Float32Array[];
}

/** One ensemble member at evaluation: the model, its images (its own preprocessing) and input side. */
export interface MemberInput {
  readonly model: tf.LayersModel;
  readonly source: BatchSource;
  /** Network input side: a centre crop of the source's images when smaller. */
  readonly size: number;
}

export interface PredictOptions {
  readonly tta: string;
  readonly convention: 'cumulative' | 'conditional';
  readonly batchSize?: number;
  /** Also return every member's own predictions (from the same forward passes). */
  readonly perMember?: boolean;
}

class DifferentGalaxiesError extends GzhError {
  constructor(detail: string) {
    super(`ensemble members are evaluated on different galaxies: ${detail}`);
  }
}

/** The batches of several sources side by side, checked to hold the same galaxies in the same order. */
export async function* lockstep(sources: readonly BatchSource[], batchSize: number): AsyncGenerator<Batch[]> {
  const iterators = sources.map((s) =>
    s.batches({ batchSize, shuffle: false, seed: 0, epoch: 0 })[Symbol.asyncIterator](),
  );
  try {
    for (;;) {
      const steps = await Promise.all(iterators.map((it) => it.next()));
      if (steps.every((s) => s.done)) return;
      if (steps.some((s) => s.done)) throw new DifferentGalaxiesError('one source ended early');
      const batches = steps.map((s) => s.value as Batch);
      const ids = batches[0].ids;
      for (const b of batches.slice(1)) {
        const at = b.ids.findIndex((id, i) => id !== ids[i]);
        if (at >= 0 || b.ids.length !== ids.length) {
          throw new DifferentGalaxiesError(
            `galaxy ${ids[at] ?? '(none)'} in one preprocessing, ${b.ids[at] ?? '(none)'} in another`,
          );
        }
      }
      yield batches;
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return?.()));
  }
}

/** How the members of one evaluation are combined. */
interface Plan {
  readonly views: ReturnType<typeof modelView>[];
  readonly elements: D4Element[];
  /** Average the ensemble in conditional space (conditional convention, every member with heads). */
  readonly useConditional: boolean;
  /** Per member: its own average in conditional space. */
  readonly aloneConditional: boolean[];
  readonly perMember: boolean;
}

/** One batch through every member and view: the ensemble mean, then each member's own mean. */
function forwardBatch(
  members: readonly MemberInput[],
  sources: readonly BatchSource[],
  batches: Batch[],
  plan: Plan,
): tf.Tensor2D[] {
  return tf.tidy(() => {
    const inputs = new Map(sources.map((s, i) => [s, imagesToTensor(batches[i], s.shape)]));
    let sum: tf.Tensor2D | null = null;
    const perMember: tf.Tensor2D[] = [];
    members.forEach((member, k) => {
      const source = inputs.get(member.source)!;
      const x =
        source.shape[1] === member.size && source.shape[2] === member.size ? source : centerCrop(source, member.size);
      let memberSum: tf.Tensor2D | null = null;
      for (const e of plan.elements) {
        const out = forward(plan.views[k], applyD4(x, e), false);
        const y = plan.useConditional ? out.conditional! : out.cumulative;
        sum = sum ? (tf.add(sum, y) as tf.Tensor2D) : y;
        if (plan.perMember) {
          const z = plan.aloneConditional[k] ? out.conditional! : out.cumulative;
          memberSum = memberSum ? (tf.add(memberSum, z) as tf.Tensor2D) : z;
        }
      }
      if (memberSum) perMember.push(tf.div(memberSum, plan.elements.length) as tf.Tensor2D);
    });
    return [tf.div(sum!, plan.views.length * plan.elements.length) as tf.Tensor2D, ...perMember];
  });
}

/** Copies `rows` predictions into `target` at row `at`, converting cumulative → conditional if asked. */
function place(target: Float32Array, values: Float32Array, rows: number, at: number, convert: boolean): void {
  for (let r = 0; r < rows; r++) {
    const p = values.subarray(r * ANSWER_COUNT, (r + 1) * ANSWER_COUNT);
    target.set(convert ? toConditional(p, { unreached: 'zero' }) : p, (at + r) * ANSWER_COUNT);
  }
}

/**
 * Averages members that may each read their own preprocessing of the same galaxies. Members are
 * averaged in the conditional space only when the convention is conditional and every member has
 * per-question heads; otherwise in cumulative space, converted after averaging.
 */
export async function predictMembers(members: readonly MemberInput[], options: PredictOptions): Promise<Predictions> {
  if (members.length === 0) throw new GzhError('predictMembers: no members');
  const views = members.map((m) => modelView(m.model));
  const conditional = options.convention === 'conditional';
  const plan: Plan = {
    views,
    elements: ttaElements(options.tta),
    useConditional: conditional && views.every((v) => v.conditional),
    aloneConditional: views.map((v) => conditional && v.conditional),
    perMember: options.perMember ?? false,
  };
  const sources = [...new Set(members.map((m) => m.source))];
  const length = sources[0].length;
  for (const s of sources) if (s.length !== length) throw new DifferentGalaxiesError(`${length} vs ${s.length} images`);
  const ids: string[] = [];
  const predicted = new Float32Array(length * ANSWER_COUNT);
  const truth = new Float32Array(length * ANSWER_COUNT);
  const own = plan.perMember ? members.map(() => new Float32Array(length * ANSWER_COUNT)) : undefined;
  let row = 0;
  for await (const batches of lockstep(sources, options.batchSize ?? 128)) {
    const batch = batches[0];
    const [mean, ...alone] = forwardBatch(members, sources, batches, plan);
    place(predicted, mean.dataSync() as Float32Array, batch.size, row, conditional && !plan.useConditional);
    alone.forEach((t, k) =>
      place(own![k], t.dataSync() as Float32Array, batch.size, row, conditional && !plan.aloneConditional[k]),
    );
    tf.dispose([mean, ...alone]);
    truth.set(
      (conditional ? batch.conditional : batch.cumulative).subarray(0, batch.size * ANSWER_COUNT),
      row * ANSWER_COUNT,
    );
    ids.push(...batch.ids);
    row += batch.size;
  }
  return { ids, predicted, truth, ...(own ? { members: own } : {}) };
}

/**
 * Root mean square distance of the members' predictions from their average. With equal weights,
 * MSE(average) = mean member MSE − spread² (the ambiguity decomposition): the spread bounds what
 * averaging these members can gain.
 */
export function spreadAboutMean(predictions: readonly Float32Array[]): number {
  const n = predictions.length;
  const length = predictions[0]?.length ?? 0;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    let mean = 0;
    for (const p of predictions) mean += p[i];
    mean /= n;
    for (const p of predictions) sum += (p[i] - mean) ** 2;
  }
  return length > 0 ? Math.sqrt(sum / (n * length)) : 0;
}
