/**
 * The expansion of a config's `variants` (and of each variant's ensemble members) into complete
 * settings: the base merged with the overrides, validated, with the shared cache directory.
 */
import { deepMerge, isPlainObject } from './json.js';
import { formatIssues } from './messages.js';
import { type PlaceholderValues, expandPath } from './paths.js';
import { MEMBER_SECTIONS, type ModelKind, SettingsSchema, VARIANT_SECTIONS, type VariantSettings } from './schema.js';

/** One ensemble member of a variant, with its complete settings. */
export interface ResolvedMember {
  /** What this member changes from the variant ("" when nothing). */
  readonly label: string;
  /** Complete settings of this member: the variant's with the member's overrides. */
  readonly settings: VariantSettings;
}

/** One variant of an experiment, with its complete settings and its ensemble members. */
export interface ResolvedVariant {
  /** Short unique id, used in folder names and tables. */
  readonly name: string;
  /** Label of the report (default: the model kind, with the ensemble size). */
  readonly label: string;
  /** Free text from the config. */
  readonly description?: string;
  /** Complete settings (defaults filled, paths absolute) for this variant. */
  readonly settings: VariantSettings;
  /** One entry per ensemble member (ensemble.size of them; a single model has one). */
  readonly members: readonly ResolvedMember[];
}

type RawVariant = Record<string, unknown>;

/** The label of a variant without one: the model kind, and the ensemble size past one. */
export function labelFor(kind: ModelKind, ensembleSize: number): string {
  const base = kind === 'flat' ? 'Flat' : kind === 'hierarchical' ? 'Hierarchical' : 'Per-question';
  return ensembleSize > 1 ? `${base} ×${ensembleSize} ensemble` : base;
}

/**
 * Problems of settings that failed validation. Problems already in the base are reported once,
 * without the variant prefix; the others name the variant.
 */
function variantProblems(issues: string[], base: unknown, where: string, problems: string[]): void {
  const baseCheck = SettingsSchema.safeParse(base);
  const baseLines = baseCheck.success ? [] : formatIssues(baseCheck.error.issues, base, SettingsSchema);
  for (const line of issues) {
    if (!baseLines.includes(line)) problems.push(`${where}: ${line}`);
    else if (!problems.includes(line)) problems.push(line);
  }
}

/** Merge one variant into the base and validate it; undefined (with problems added) when invalid. */
function resolveVariant(
  rv: RawVariant,
  i: number,
  base: unknown,
  values: PlaceholderValues,
  problems: string[],
): ResolvedVariant | undefined {
  const name = String(rv.name);
  const where = `variants[${i}] ("${name}")`;
  if (isPlainObject(rv.preprocess) && 'cacheDir' in rv.preprocess) {
    problems.push(
      `${where}: preprocess.cacheDir: variants share the experiment's cache directory; set it in the base preprocess`,
    );
    return undefined;
  }
  let merged: unknown = base;
  for (const section of [...VARIANT_SECTIONS, 'data'] as const) {
    if (rv[section] !== undefined) merged = deepMerge(merged, { [section]: rv[section] });
  }
  const result = SettingsSchema.safeParse(merged);
  if (!result.success) {
    variantProblems(formatIssues(result.error.issues, merged, SettingsSchema), base, where, problems);
    return undefined;
  }
  values.cacheDir = expandPath(result.data.preprocess.cacheDir, values, 'preprocess.cacheDir', problems);
  const settings: VariantSettings = {
    ...result.data,
    preprocess: { ...result.data.preprocess, cacheDir: values.cacheDir },
  };
  return {
    name,
    label: typeof rv.label === 'string' ? rv.label : labelFor(settings.model.kind, settings.ensemble.size),
    ...(typeof rv.description === 'string' ? { description: rv.description } : {}),
    settings,
    members: resolveMembers(settings, merged, where, problems),
  };
}

/**
 * Every variant's complete settings: the base (the file without `variants`) merged with each
 * variant's overrides. Problems are added to `problems`; the result is only complete without any.
 */
export function resolveVariants(
  base: Record<string, unknown>,
  rawVariants: readonly RawVariant[],
  values: PlaceholderValues,
  problems: string[],
): ResolvedVariant[] {
  const variants: ResolvedVariant[] = [];
  rawVariants.forEach((rv, i) => {
    const variant = resolveVariant(rv, i, base, values, problems);
    if (variant) variants.push(variant);
  });
  return variants;
}

/** The label of a member that has none: what it changes, e.g. `preprocess.size 20, model.dropout 0.3`. */
function memberLabel(override: Record<string, unknown>, changed: readonly string[]): string {
  return changed
    .flatMap((section) =>
      Object.entries(override[section] as Record<string, unknown>).map(
        ([key, value]) => `${section}.${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`,
      ),
    )
    .join(', ');
}

/**
 * The settings of each ensemble member: the variant's, with the member's overrides merged in.
 * Members share the variant's data, split, budget and cache directory.
 */
function resolveMembers(
  settings: VariantSettings,
  merged: unknown,
  where: string,
  problems: string[],
): ResolvedMember[] {
  const overrides = settings.ensemble.members ?? [];
  const members: ResolvedMember[] = [];
  for (let m = 0; m < settings.ensemble.size; m++) {
    const override = overrides[m];
    const changed = override
      ? MEMBER_SECTIONS.filter(
          (section) => override[section] !== undefined && Object.keys(override[section]!).length > 0,
        )
      : [];
    if (!override || changed.length === 0) {
      members.push({ label: override?.label ?? '', settings });
      continue;
    }
    if (override.preprocess && 'cacheDir' in override.preprocess) {
      problems.push(
        `${where}: ensemble.members[${m}].preprocess.cacheDir: members share the experiment's cache directory; ` +
          'remove it',
      );
      continue;
    }
    let memberMerged = merged;
    for (const section of changed) memberMerged = deepMerge(memberMerged, { [section]: override[section] });
    const result = SettingsSchema.safeParse(memberMerged);
    if (!result.success) {
      for (const line of formatIssues(result.error.issues, memberMerged, SettingsSchema))
        problems.push(`${where}: ensemble.members[${m}]: ${line}`);
      continue;
    }
    const label = override.label ?? memberLabel(override, changed);
    members.push({
      label,
      settings: { ...result.data, preprocess: { ...result.data.preprocess, cacheDir: settings.preprocess.cacheDir } },
    });
  }
  return members;
}
