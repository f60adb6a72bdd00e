import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { EnsembleDescription } from '../ensemble/ensemble-dir.js';
import { type TtaSpec, resolveTta } from '../ensemble/tta.js';

/**
 * Fingerprint of what decides a prediction: each member's directory, weight and manifest
 * (architecture, preprocessing), the test-time views and the Q6 reach. Parts made with another
 * model or TTA have another key and are never gathered together.
 */
export function predictionKey(description: EnsembleDescription, tta?: TtaSpec): string {
  const identity = {
    members: description.members.map((m) => ({ dir: resolve(m.dir), weight: m.weight, manifest: m.manifest })),
    views: resolveTta(tta ?? description.tta).map((v) => v.label),
    q6Reach: description.q6Reach,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
}
