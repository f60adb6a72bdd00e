import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues } from '../../src/experiments/config/messages.js';

function linesOf(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected the input to fail');
  return formatIssues(result.error.issues, input, schema);
}

describe('config error wording', () => {
  it('lists the allowed fields through optional, default, nullable, readonly, refined and piped schemas', () => {
    const inner = z.strictObject({ alpha: z.number(), beta: z.string().optional() });
    const schema = z.strictObject({
      $schema: z.string().optional(),
      plain: inner.optional(),
      filled: inner.default({ alpha: 1 }),
      nullable: inner.nullable(),
      frozen: inner.readonly().optional(),
      refined: inner.refine(() => true).optional(),
      piped: inner.transform((v) => v).optional(),
      list: z.array(inner.default({ alpha: 2 })).optional(),
    });
    const allowed = 'allowed fields: alpha, beta';
    for (const key of ['plain', 'filled', 'nullable', 'frozen', 'refined', 'piped']) {
      expect(linesOf(schema, { nullable: null, [key]: { alpha: 1, gamma: 2 } })).toEqual([
        `${key}: unknown field "gamma"; ${allowed}`,
      ]);
    }
    expect(linesOf(schema, { nullable: null, list: [{ alpha: 1 }, { alpha: 1, gamma: 2, delta: 3 }] })).toEqual([
      `list[1]: unknown fields "gamma", "delta"; ${allowed}`,
    ]);
    // The JSON-schema pointer is accepted but not advertised.
    expect(linesOf(schema, { nullable: null, extra: 1 })).toEqual([
      '(top level): unknown field "extra"; allowed fields: plain, filled, nullable, frozen, refined, piped, list',
    ]);
  });

  it('names every field a strict object allows, for any set of field names', () => {
    const name = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 8 }), name, (keys, unknown) => {
        fc.pre(!keys.includes(unknown));
        const schema = z.strictObject({
          nested: z.strictObject(Object.fromEntries(keys.map((k) => [k, z.number().optional()]))).default({}),
        });
        expect(linesOf(schema, { nested: { [unknown]: 1 } })).toEqual([
          `nested: unknown field "${unknown}"; allowed fields: ${keys.join(', ')}`,
        ]);
      }),
      { numRuns: 50 },
    );
  });

  it('quotes the value found with enums, types, ranges, lengths and unions', () => {
    const schema = z.strictObject({
      kind: z.enum(['a', 'b']),
      count: z.number().int().min(1).max(5),
      ratio: z.number().gt(0).lt(1),
      name: z.string().min(1),
      items: z.array(z.number()).min(1).max(2),
      either: z.union([z.literal(1), z.literal(3)]),
      required: z.boolean(),
    });
    expect(linesOf(schema, { kind: 'c', count: 1.5, ratio: 1, name: '', items: [1, 2, 3], either: 2 })).toEqual([
      'kind: "c" is not allowed; allowed values: "a", "b"',
      'count: expected an integer, got 1.5',
      'ratio: must be < 1, got 1',
      'name: must not be empty',
      'items: allows at most 2 item(s), got 3',
      'either: 2 is not allowed; expected 1 or 3',
      'required: is required (expected a boolean)',
    ]);
    expect(linesOf(schema, { kind: 'a', count: 0, ratio: 0, name: 'x', items: [], either: 1, required: true })).toEqual(
      ['count: must be ≥ 1, got 0', 'ratio: must be > 0, got 0', 'items: needs at least 1 item(s), got 0'],
    );
  });
});
