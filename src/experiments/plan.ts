/**
 * A run is a plan of units with explicit inputs and outputs in the run directory:
 *
 *   prepare              ingest, preprocessing caches (one per preprocessing), split.json
 *   train:<variant>:<m>  member m of a variant: member-<m>/model, member-<m>/history.json
 *   score:<variant>      test metrics, members alone, TTA, ensemble: result.json (+ ensemble.json)
 *   report               report/report.{md,html,json}
 *
 * A unit is done when its outputs exist and the hash of its recorded inputs matches the plan's
 * (src/experiments/unit-status.ts); a resumed run runs only what is not done. A member whose
 * recipe and seed match a member of an earlier variant has no unit of its own: it is that unit's
 * model.
 */
import { join } from 'node:path';
import type { Experiment, ResolvedVariant } from './config.js';
import { canonicalJson, sha256 } from './config.js';
import { budgetText, memberSeed, preprocessKey, trainingKey } from './recipe.js';

export const UNIT_KINDS = ['prepare', 'train', 'score', 'report'] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

export interface Unit {
  readonly id: string;
  readonly kind: UnitKind;
  /** Units whose outputs this one reads. */
  readonly deps: readonly string[];
  readonly variant?: string;
  readonly member?: number;
  /** Hash of everything the unit's outputs depend on (its settings and its dependencies' hashes). */
  readonly inputsHash: string;
  /** Files it writes, relative to the run directory. */
  readonly outputs: readonly string[];
  /** Its budget in words (epochs, time limit, views…). */
  readonly budget: string;
}

/** Member m of a variant: the unit that trains it and where its model lives. */
export interface MemberRef {
  readonly unit: string;
  /** Relative to the run directory. */
  readonly memberDir: string;
  /** The member is another variant's model (same recipe and seed). */
  readonly sharedWith?: string;
}

export interface RunPlan {
  readonly units: readonly Unit[];
  /** Variant name → its members in order. */
  readonly members: ReadonlyMap<string, readonly MemberRef[]>;
  /** Variant names in the order they are scored and reported. */
  readonly variants: readonly string[];
}

export const memberDirOf = (variant: string, m: number): string => join('variants', variant, `member-${m}`);
export const resultFileOf = (variant: string): string => join('variants', variant, 'result.json');
export const REPORT_OUTPUTS = [
  join('report', 'report.md'),
  join('report', 'report.html'),
  join('report', 'report.json'),
];

function hashOf(inputs: unknown, deps: readonly Unit[]): string {
  return sha256(canonicalJson({ inputs, deps: deps.map((d) => d.inputsHash) })).slice(0, 32);
}

function prepareUnit(experiment: Experiment, variants: readonly ResolvedVariant[]): Unit {
  const preprocessings = [
    ...new Set(
      [
        experiment.variants[0].settings.preprocess,
        ...variants.flatMap((v) => v.members.map((m) => m.settings.preprocess)),
      ].map(preprocessKey),
    ),
  ];
  const inputs = { data: experiment.data, seed: experiment.seed, preprocessings };
  return {
    id: 'prepare',
    kind: 'prepare',
    deps: [],
    inputsHash: hashOf(inputs, []),
    outputs: ['split.json'],
    budget: `${preprocessings.length} preprocessing${preprocessings.length > 1 ? 's' : ''}`,
  };
}

function trainUnit(experiment: Experiment, variant: ResolvedVariant, m: number, prepare: Unit): Unit {
  const settings = variant.members[m].settings;
  const dir = memberDirOf(variant.name, m);
  const inputs = {
    recipe: trainingKey(settings),
    seed: memberSeed(experiment.seed, m),
    callbacks: variant.settings.callbacks,
    training: variant.settings.training,
  };
  return {
    id: `train:${variant.name}:${m}`,
    kind: 'train',
    deps: [prepare.id],
    variant: variant.name,
    member: m,
    inputsHash: hashOf(inputs, [prepare]),
    outputs: [join(dir, 'model', 'model.json'), join(dir, 'history.json')],
    budget: budgetText(settings),
  };
}

/** The plan of a run of `variants` (a subset of the experiment's, in its order). */
export function buildPlan(experiment: Experiment, variants: readonly ResolvedVariant[]): RunPlan {
  const prepare = prepareUnit(experiment, variants);
  const units: Unit[] = [prepare];
  const byId = new Map<string, Unit>([[prepare.id, prepare]]);
  const members = new Map<string, MemberRef[]>();
  const trained = new Map<string, MemberRef>(); // recipe + member index → first unit training it
  for (const variant of variants) {
    const refs: MemberRef[] = [];
    variant.members.forEach((member, m) => {
      const budget = canonicalJson({ c: variant.settings.callbacks, t: variant.settings.training });
      const key = `${m}\n${trainingKey(member.settings)}\n${budget}`;
      const twin = trained.get(key);
      if (twin) return refs.push({ ...twin, sharedWith: twin.unit.split(':')[1] });
      const unit = trainUnit(experiment, variant, m, prepare);
      units.push(unit);
      byId.set(unit.id, unit);
      const ref = { unit: unit.id, memberDir: memberDirOf(variant.name, m) };
      trained.set(key, ref);
      return refs.push(ref);
    });
    members.set(variant.name, refs);
    const deps = [...new Set(refs.map((r) => r.unit))];
    const s = variant.settings;
    const outputs = [
      resultFileOf(variant.name),
      ...(refs.length > 1 ? [join('variants', variant.name, 'ensemble.json')] : []),
    ];
    const inputs = {
      tta: s.ensemble.tta,
      report: experiment.config.report,
      convention: experiment.data.convention,
      label: variant.label,
      members: variant.members.map((x) => x.label),
    };
    const budget = `${refs.length} member${refs.length > 1 ? 's' : ''} × ${s.ensemble.tta} TTA on the test split`;
    const unit: Unit = {
      id: `score:${variant.name}`,
      kind: 'score',
      deps,
      variant: variant.name,
      inputsHash: hashOf(
        inputs,
        deps.map((d) => byId.get(d)!),
      ),
      outputs,
      budget,
    };
    units.push(unit);
    byId.set(unit.id, unit);
  }
  const scores = units.filter((u) => u.kind === 'score');
  units.push({
    id: 'report',
    kind: 'report',
    deps: scores.map((u) => u.id),
    inputsHash: hashOf({ report: experiment.config.report }, scores),
    outputs: REPORT_OUTPUTS,
    budget: 'report files',
  });
  return { units, members, variants: variants.map((v) => v.name) };
}

/** `gzh run --plan`: one line per unit with its dependencies and budget. */
export function formatPlan(plan: RunPlan, done: (unit: Unit) => boolean = () => false): string {
  const width = Math.max(...plan.units.map((u) => u.id.length));
  const lines = plan.units.map(
    (u) =>
      `${done(u) ? '✓' : '·'} ${u.id.padEnd(width)}  ← ${u.deps.length ? u.deps.join(', ') : '(nothing)'}  ` +
      `[${u.budget}]`,
  );
  for (const [variant, refs] of plan.members) {
    for (const [m, ref] of refs.entries())
      if (ref.sharedWith) lines.push(`  ${variant} member ${m + 1} is ${ref.unit} (same recipe and seed)`);
  }
  return lines.join('\n');
}
