import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../lib/errors';
import { closestMatch } from '../lib/suggest';

/**
 * Parses one config file against its schema. Every problem is reported at once, each naming the
 * file, the JSON path of the field and what is allowed; unknown keys get a "did you mean" hint.
 */
export function parseConfigText<S extends z.ZodType>(schema: S, file: string, text: string): z.output<S> {
  if (text.trim() === '') throw new ConfigError(`${file} is empty: it must be ${typeText('object', unwrap(schema))}.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message}).`, { cause: e });
  }
  // Schema-level messages win over this map; it only words the issues a schema leaves to zod's defaults.
  const result = schema.safeParse(json, { error: defaultMessage });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${describeIssue(issue, schema, json)}`);
  throw new ConfigError(`${file} is invalid:\n${problems.join('\n')}`);
}

export function parseConfigFile<S extends z.ZodType>(schema: S, file: string, displayName = file): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${displayName}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, { cause: e });
  }
  return parseConfigText(schema, displayName, text);
}

export function jsonPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(String(p)) ? `${i ? '.' : ''}${String(p)}` : `[${JSON.stringify(String(p))}]`))
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, json: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(schema, issue.path);
    return issue.keys
      .map((key) => {
        const where = jsonPath([...issue.path, key]);
        const hint = closestMatch(key, allowed);
        const list = allowed.length ? ` Allowed keys: ${allowed.join(', ')}.` : '';
        return `${where}: unknown field${hint ? ` (did you mean "${hint}"?)` : ''}.${list}`;
      })
      .join('\n  - ');
  }
  const where = jsonPath(issue.path);
  const found = valueAt(json, issue.path);
  if (!found.present) return `${where}: is required${/^must /.test(issue.message) ? ' and' : ':'} ${issue.message}`;
  if (issue.code === 'invalid_type') return `${where}: ${issue.message} (got ${valueKind(found.value)})`;
  return `${where}: ${issue.message}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a JSON object',
  record: 'a JSON object',
  array: 'a JSON array',
};

/** What a schema accepts, in JSON terms: "a JSON object with the fields a, b" or "a JSON array of strings". */
function typeText(expected: string, inst: unknown): string {
  const base = TYPE_NAMES[expected] ?? expected;
  const fields = inst instanceof z.ZodObject ? Object.keys(inst.shape) : [];
  if (fields.length) return `${base} with the fields ${fields.join(', ')}`;
  if (inst instanceof z.ZodArray && unwrap(inst.element as z.ZodType) instanceof z.ZodString) return `${base} of strings`;
  return base;
}

/** Words the issues no schema gave a message of its own (zod's defaults say "Invalid input: expected record"). */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') return `must be ${typeText(issue.expected, issue.inst)}`;
  if (issue.code === 'invalid_key') return `is not an allowed key: ${issue.issues.map((i) => i.message).join('; ')}`;
  return undefined;
}

function valueAt(json: unknown, path: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let current = json;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, part)) return { present: false };
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return { present: true, value: current };
}

/** The kind of a wrong value; a string's text is never echoed (a misplaced token must not end up in a log). */
function valueKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return JSON.stringify(value) ?? typeof value;
}

/** Keys of the object schema found by walking `path` (best effort, for error hints). */
function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const part of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.ZodType>)[String(part)];
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return [];
  }
  current = unwrap(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodNullable) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else break;
  }
  return cur;
}
