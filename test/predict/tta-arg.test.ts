import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTta } from '../../src/cli/commands/predict-modes.js';
import { parseTta } from '../../src/cli/commands/predict.js';
import { type TtaSpec, resolveTta } from '../../src/ensemble/tta.js';

describe('--tta on the command line of shard tasks', () => {
  it('formatTta writes what parseTta reads back as the same views, for named specs and any grid', () => {
    for (const named of ['none', 'flip', 'rot4', 'd4'] as const) expect(parseTta(formatTta(named))).toBe(named);
    const grid = fc.record(
      {
        rotations: fc.uniqueArray(fc.constantFrom(0, 30, -30, 45, 90, 180, 12.5), { minLength: 1, maxLength: 4 }),
        flips: fc.boolean(),
        zooms: fc.uniqueArray(fc.constantFrom(1, 1.1, 1.25, 0.9), { minLength: 1, maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(grid, (spec) => {
        if (Object.keys(spec).length === 0) return;
        const back = parseTta(formatTta(spec as TtaSpec));
        expect(back).toEqual(spec);
        expect(resolveTta(back).map((v) => v.label)).toEqual(resolveTta(spec as TtaSpec).map((v) => v.label));
      }),
      { numRuns: 200 },
    );
  });
});
