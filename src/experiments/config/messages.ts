/**
 * The wording of config errors: one friendly line per problem, field path first, with the value
 * found and what is allowed. Built from zod's public issue fields (`code`, `path`, `values`,
 * `expected`, `keys`, `minimum`, `maximum`, `origin`, `errors`) and the schema's public classes.
 */
import { z } from 'zod';
import { KAGGLE_COLUMNS } from '../../questions/index.js';
import { ConfigError as ConfigErrorKind } from '../../errors.js';
import { UNKNOWN_ANSWER } from './schema.js';

/** A config that cannot be used; `problems` are one friendly line each (field path first). */
export class ConfigError extends ConfigErrorKind {
  /** The exit code of `gzh` for a config error (bad usage). */
  readonly exitCode = 2;
  /**
   * @param source - the config file (absolute) or `(inline config)`.
   * @param problems - one line per problem, e.g. `training.epochs: must be ≥ 1, got 0`.
   */
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid experiment config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type PathKey = PropertyKey;

function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key as string];
  }
  return cur;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The schema a wrapper (optional, default, nullable, readonly, pipe) stands for. */
function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  for (let i = 0; i < 10; i++) {
    if (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodNullable)
      node = node.unwrap() as z.ZodType;
    else if (node instanceof z.ZodPrefault || node instanceof z.ZodReadonly) node = node.unwrap() as z.ZodType;
    else if (node instanceof z.ZodPipe) node = node.in as z.ZodType;
    else break;
  }
  return node;
}

/** The object keys a schema accepts at a path (for "unknown field" messages). */
function allowedKeys(schema: z.ZodType, path: readonly PathKey[]): string[] | undefined {
  let node = unwrap(schema);
  for (const key of path) {
    if (node instanceof z.ZodObject && typeof key === 'string' && Object.hasOwn(node.shape, key))
      node = unwrap(node.shape[key] as z.ZodType);
    else if (node instanceof z.ZodArray && typeof key === 'number') node = unwrap(node.element as z.ZodType);
    else return undefined;
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape).filter((k) => k !== '$schema') : undefined;
}

function expectedFromUnion(errors: ReadonlyArray<ReadonlyArray<z.core.$ZodIssue>>): string {
  const parts: string[] = [];
  for (const branch of errors) {
    for (const issue of branch) {
      if (issue.code === 'invalid_value') parts.push(...issue.values.map((v) => JSON.stringify(v)));
      else if (issue.code === 'invalid_type') parts.push(`a ${issue.expected}`);
      else if (issue.code === 'too_small') parts.push(`a number ≥ ${String(issue.minimum)}`);
    }
  }
  return [...new Set(parts)].join(' or ');
}

function expectedName(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object') return 'an object';
  if (expected === 'array') return 'an array';
  return `a ${expected}`;
}

function countOf(got: unknown): string {
  return Array.isArray(got) ? String(got.length) : show(got);
}

function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, got: unknown): string {
  if (issue.code === 'too_small') {
    if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} item(s), got ${countOf(got)}`;
    if (issue.origin === 'string') return 'must not be empty';
    return `must be ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}, got ${show(got)}`;
  }
  if (issue.origin === 'array') return `allows at most ${String(issue.maximum)} item(s), got ${countOf(got)}`;
  return `must be ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}, got ${show(got)}`;
}

function unknownKeysMessage(issue: z.core.$ZodIssueUnrecognizedKeys, schema: z.ZodType): string {
  const allowed = allowedKeys(schema, issue.path);
  const names = issue.keys.map((k) => `"${k}"`).join(', ');
  return (
    `unknown field${issue.keys.length > 1 ? 's' : ''} ` +
    `${names}${allowed ? `; allowed fields: ${allowed.join(', ')}` : ''}`
  );
}

function customMessage(issue: z.core.$ZodIssueCustom, got: unknown): string {
  if (issue.message !== UNKNOWN_ANSWER) return issue.message;
  const first = KAGGLE_COLUMNS[0];
  const last = KAGGLE_COLUMNS[KAGGLE_COLUMNS.length - 1];
  return (
    `unknown answer ${show(got)}; allowed values: Kaggle ids ${first} … ${last} or q<question>.<answer key> ` +
    '(e.g. q1.smooth)'
  );
}

/** What is wrong, after the field path: the value found and what is allowed. */
function issueMessage(issue: z.core.$ZodIssue, got: unknown, schema: z.ZodType): string {
  switch (issue.code) {
    case 'invalid_value':
      return `${show(got)} is not allowed; allowed values: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      if (got === undefined) return `is required (expected ${expectedName(issue.expected)})`;
      return `expected ${expectedName(issue.expected)}, got ${show(got)}`;
    case 'unrecognized_keys':
      return unknownKeysMessage(issue, schema);
    case 'too_small':
    case 'too_big':
      return sizeMessage(issue, got);
    case 'invalid_union':
      return `${show(got)} is not allowed; expected ${expectedFromUnion(issue.errors) || 'another value'}`;
    case 'invalid_format':
      return `${issue.message}, got ${show(got)}`;
    case 'custom':
      return customMessage(issue, got);
    default:
      return issue.message;
  }
}

/**
 * One friendly line per zod issue: `field.path: what is wrong (got …; allowed …)`.
 *
 * @param issues - the issues of a failed `safeParse` of `input` against `schema`.
 * @param input - the value that was parsed, to quote what was found at each path.
 * @param schema - the schema it was parsed with, to list the fields allowed where one is unknown.
 * @param prefix - a path to put before each issue's path.
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: z.ZodType,
  prefix: readonly PathKey[] = [],
): string[] {
  return issues.map(
    (issue) => `${formatPath([...prefix, ...issue.path])}: ${issueMessage(issue, valueAt(input, issue.path), schema)}`,
  );
}
