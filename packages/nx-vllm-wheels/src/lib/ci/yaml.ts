/**
 * A small deterministic YAML writer for the documents this plugin generates (block style only).
 * The plugin ships no YAML library, and a workflow needs little: maps in insertion order, lists,
 * scalars quoted exactly when YAML would read them as something else, literal blocks for scripts,
 * comments and blank lines for the reader.
 */

export type YamlScalar = string | number | boolean | null;
export type YamlValue = YamlScalar | YamlValue[] | YamlMap | Commented | Spaced;
export interface YamlMap {
  [key: string]: YamlValue;
}

/** A map entry (or list item) with `# comment` lines above it. */
export class Commented {
  constructor(
    readonly comment: string,
    readonly value: YamlValue,
  ) {}
}

/** A map whose entries are separated by blank lines (top level, jobs). */
export class Spaced {
  constructor(readonly map: YamlMap) {}
}

export const commented = (comment: string, value: YamlValue) => new Commented(comment, value);
export const spaced = (map: YamlMap) => new Spaced(map);

const INDENT = '  ';

/** YAML 1.1 and 1.2 read these plain scalars as booleans, nulls or numbers. */
const SPECIAL = /^(?:~|null|true|false|yes|no|on|off|y|n|[-+]?(?:\.inf|\.nan|\d[\d_]*(?:\.[\d_]*)?(?:e[-+]?\d+)?|\.\d[\d_]*(?:e[-+]?\d+)?|0x[\da-f_]+|0o[0-7_]+|0b[01_]+|\d+(?::[0-5]?\d)+(?:\.\d*)?))$/i;

/** A plain scalar YAML reads back as the same string: printable ASCII, no indicator in front, no ": " or " #". */
function isPlainSafe(s: string): boolean {
  if (s === '' || s !== s.trim() || SPECIAL.test(s)) return false;
  if (!/^[\x20-\x7e]+$/.test(s)) return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(s)) return false;
  return !/: |:$| #|\t/.test(s);
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function scalar(value: YamlScalar): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`Cannot write ${value} as YAML`);
    return String(value);
  }
  if (isPlainSafe(value)) return value;
  // Single quotes read best (no escapes) for printable ASCII; JSON's double-quoted strings are valid YAML otherwise.
  if (/^[\x20-\x7e]*$/.test(value) && !value.includes("'")) return `'${value}'`;
  return JSON.stringify(value);
}

function key(k: string): string {
  // `on` stays plain: it is how every workflow spells its triggers (GitHub reads it as the key "on").
  return KEY.test(k) && (k === 'on' || !SPECIAL.test(k)) ? k : JSON.stringify(k);
}

/** A multi-line script as a literal block (`|`) when that keeps it byte for byte; undefined otherwise. */
function literalBlock(s: string, indent: string): string[] | undefined {
  if (!s.includes('\n') || !s.endsWith('\n') || s.endsWith('\n\n') || /^[ \t]/.test(s) || /[^\x20-\x7e\n]/.test(s)) return undefined;
  return ['|', ...s.slice(0, -1).split('\n').map((line) => (line === '' ? '' : `${indent}${line}`))];
}

function isEmptyCollection(v: YamlValue): string | undefined {
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (isMap(v) && Object.keys(v).length === 0) return '{}';
  return undefined;
}

function isMap(v: YamlValue): v is YamlMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Commented) && !(v instanceof Spaced);
}

function comments(text: string, indent: string): string[] {
  return text.split('\n').map((line) => (line ? `${indent}# ${line}` : `${indent}#`));
}

/** Lines of `value` placed after `prefix` ("key:" or "-") at `indent`. */
function entry(prefix: string, value: YamlValue, indent: string): string[] {
  if (value instanceof Commented) return [...comments(value.comment, indent), ...entry(prefix, value.value, indent)];
  const inner = indent + INDENT;
  const empty = isEmptyCollection(value);
  if (empty) return [`${indent}${prefix} ${empty}`];
  if (value instanceof Spaced || isMap(value)) return [`${indent}${prefix}`, ...mapLines(value, inner)];
  if (Array.isArray(value)) return [`${indent}${prefix}`, ...listLines(value, inner)];
  if (value === null && prefix !== '-') return [`${indent}${prefix}`];
  if (typeof value === 'string') {
    const block = literalBlock(value, inner);
    if (block) return [`${indent}${prefix} ${block[0]}`, ...block.slice(1)];
  }
  return [`${indent}${prefix} ${scalar(value)}`];
}

function mapLines(value: YamlMap | Spaced, indent: string): string[] {
  const map = value instanceof Spaced ? value.map : value;
  const lines: string[] = [];
  Object.entries(map).forEach(([k, v], i) => {
    if (value instanceof Spaced && i > 0) lines.push('');
    lines.push(...entry(`${key(k)}:`, v, indent));
  });
  return lines;
}

function listLines(items: YamlValue[], indent: string): string[] {
  const lines: string[] = [];
  for (const item of items) {
    const bare = item instanceof Commented ? item.value : item;
    if (item instanceof Commented) lines.push(...comments(item.comment, indent));
    if ((isMap(bare) || bare instanceof Spaced) && !isEmptyCollection(bare)) {
      // "- first: x" then the other keys under it, aligned with "first".
      const [first, ...rest] = mapLines(bare, indent + INDENT);
      lines.push(`${indent}- ${first.slice(indent.length + INDENT.length)}`, ...rest);
    } else {
      lines.push(...entry('-', bare, indent));
    }
  }
  return lines;
}

/** `text` as YAML comment lines, each ending in a newline. */
export function yamlComment(text: string): string {
  return `${comments(text, '').join('\n')}\n`;
}

/** The document's text: `header` as comment lines, then the top-level map; ends with one newline. */
export function toYaml(document: YamlMap | Spaced, header?: string): string {
  const lines = [...(header ? comments(header, '') : []), ...mapLines(document, '')];
  return `${lines.join('\n')}\n`;
}
