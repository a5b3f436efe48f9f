import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../lib/errors';
import { closestMatch } from '../lib/suggest';

/**
 * Parses one config file against its schema. Every problem is reported at once, each naming the
 * file, the JSON path of the field and what is allowed; unknown keys get a "did you mean" hint.
 */
export function parseConfigText<S extends z.ZodType>(schema: S, file: string, text: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message}).`, { cause: e });
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${describeIssue(issue, schema)}`);
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

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType): string {
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
  return `${jsonPath(issue.path)}: ${issue.message}`;
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
