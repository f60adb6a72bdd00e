/**
 * Experiment configs (experiments/*.json): the schema (`config/schema.ts`), the wording of its
 * errors (`config/messages.ts`), path placeholders (`config/paths.ts`), the expansion of
 * `variants` into complete per-variant settings that are compared on the identical split with the
 * identical training budget (`config/variants.ts`), and loading (`config/load.ts`).
 */
export {
  answerIndex,
  type AugmentSettings,
  type BackendName,
  type DataSource,
  type ExperimentFile,
  type LossKind,
  type ModelKind,
  type ModelSettings,
  type PreprocessSettings,
  type TrainingSettings,
  type TtaKind,
  type VariantSection,
  type VariantSettings,
} from './config/schema.js';
export { ConfigError } from './config/messages.js';
export { canonicalJson, deepMerge, sha256 } from './config/json.js';
export { defaultRunsDir } from './config/paths.js';
export type { ResolvedMember, ResolvedVariant } from './config/variants.js';
export {
  type Experiment,
  type LoadOptions,
  type ResolvedData,
  loadExperimentConfig,
  parseExperimentConfig,
} from './config/load.js';
