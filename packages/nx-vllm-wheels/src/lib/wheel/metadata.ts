import { WheelError } from '../errors';

/**
 * Core metadata (METADATA) and WHEEL files: RFC 822-style headers, then an optional body. Parsed into a
 * list of fields that remembers each field's exact original text, so that rewriting one header leaves
 * every other byte as it was (order, folding, spelling, line ends, the body).
 */

export interface HeaderField {
  /** As spelled in the file. Names compare case-insensitively. */
  readonly name: string;
  /** Unfolded and trimmed. */
  readonly value: string;
  /** The field's original text (continuation lines and line end included); absent for new fields. */
  readonly raw?: string;
}

export interface HeaderDocument {
  readonly fields: readonly HeaderField[];
  /** Everything after the headers, verbatim, starting with the blank separator line when there is one. */
  readonly body: string;
  /** Line end for new fields: the file's own. */
  readonly eol: '\n' | '\r\n';
}

/** Printable ASCII except ":" (RFC 5322 field-name). */
const FIELD_NAME = /^[!-9;-~]+$/;

/**
 * Parses headers the way Python's email parser splits them: a field starts at a line `Name: value`,
 * lines starting with a space or tab continue it, and the headers end at the first blank line (or at the
 * first line that is not a header, which then starts the body).
 */
export function parseHeaders(text: string): HeaderDocument {
  const eol = /\r\n/.test(text.slice(0, text.search(/\n|$/) + 1)) ? '\r\n' : '\n';
  const fields: { name: string; raw: string }[] = [];
  let pos = 0;
  while (pos < text.length) {
    const next = text.indexOf('\n', pos);
    const end = next < 0 ? text.length : next + 1;
    const line = text.slice(pos, end);
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].raw += line;
    } else {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!FIELD_NAME.test(name)) break; // a blank line, or the body starting without one
      fields.push({ name, raw: line });
    }
    pos = end;
  }
  return {
    fields: fields.map(({ name, raw }) => ({ name, raw, value: unfold(raw.slice(name.length + 1)) })),
    body: text.slice(pos),
    eol,
  };
}

function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '').trim();
}

export function serializeHeaders(doc: HeaderDocument): string {
  const lines = doc.fields.map((f) => f.raw ?? `${f.name}: ${f.value}${doc.eol}`);
  // Only a file's last line can lack its line end; a field appended after it needs one.
  return lines.map((l, i) => (i < lines.length - 1 && !l.endsWith('\n') ? l + doc.eol : l)).join('') + doc.body;
}

/** The first value of a header, or undefined. */
export function getHeader(doc: HeaderDocument, name: string): string | undefined {
  const key = name.toLowerCase();
  return doc.fields.find((f) => f.name.toLowerCase() === key)?.value;
}

/** Every value of a (multi-valued) header, in file order. */
export function getHeaders(doc: HeaderDocument, name: string): string[] {
  const key = name.toLowerCase();
  return doc.fields.filter((f) => f.name.toLowerCase() === key).map((f) => f.value);
}

export type HeaderUpdates = Readonly<Record<string, string | readonly string[]>>;

/**
 * Replaces the values of each named header (an array gives a multi-valued header; an empty array
 * removes it). The new values take the place of the header's first occurrence, keeping its spelling;
 * a header that was absent is appended after the others. Every other field is untouched.
 */
export function updateHeaders(doc: HeaderDocument, updates: HeaderUpdates): HeaderDocument {
  let fields = [...doc.fields];
  for (const [name, value] of Object.entries(updates)) {
    const values = typeof value === 'string' ? [value] : [...value];
    const problem = headerProblem(name, values);
    if (problem) throw new WheelError(problem);
    const key = name.toLowerCase();
    const first = fields.findIndex((f) => f.name.toLowerCase() === key);
    const spelling = first >= 0 ? fields[first].name : name;
    const replacement = values.map((v) => ({ name: spelling, value: v }));
    const kept = fields.filter((f, i) => i === first || f.name.toLowerCase() !== key);
    const at = first >= 0 ? kept.indexOf(fields[first]) : kept.length;
    fields = [...kept.slice(0, at), ...replacement, ...kept.slice(first >= 0 ? at + 1 : at)];
  }
  return { ...doc, fields };
}

/** Why a header cannot be written with these values (a name that is not a field name, a line break), or undefined. */
export function headerProblem(name: string, values: readonly string[]): string | undefined {
  if (!FIELD_NAME.test(name)) return `header name ${JSON.stringify(name)} is not valid (printable ASCII without ":" or spaces)`;
  const bad = values.find((v) => /[\r\n]/.test(v));
  if (bad !== undefined) return `header ${name} value ${JSON.stringify(bad)} contains a line break`;
  return undefined;
}
