import { createHash, hash as oneShotHash, type Hash } from 'node:crypto';

/**
 * The RECORD file of a wheel (PEP 376 / PEP 627): CSV rows `path,algorithm=digest,size`, digests in
 * urlsafe base64 without padding. Parsing follows Python's csv module (excel dialect), which is what
 * pip, pypa/installer and pypa/wheel read and write it with.
 */

export interface RecordHash {
  /** hashlib's name: sha256, sha384, … */
  readonly algorithm: RecordHashAlgorithm;
  /** urlsafe base64, no padding */
  readonly value: string;
}

export interface RecordEntry {
  readonly path: string;
  readonly hash?: RecordHash;
  readonly size?: number;
}

/** hashlib names accepted in RECORD, mapped to node:crypto names and digest lengths (bytes). */
const ALGORITHMS = {
  sha224: { node: 'sha224', bytes: 28 },
  sha256: { node: 'sha256', bytes: 32 },
  sha384: { node: 'sha384', bytes: 48 },
  sha512: { node: 'sha512', bytes: 64 },
} as const;
export type RecordHashAlgorithm = keyof typeof ALGORITHMS;

/** Refused like pypa/wheel does: too weak to protect an install. */
const WEAK_ALGORITHMS = new Set(['md5', 'sha1']);

/** Why a RECORD line is wrong: `line` is 1-based, counted in RECORD's text. */
export interface RecordIssue {
  readonly line: number;
  readonly message: string;
}

/** The parsed rows, and every problem found (rows with a problem are left out of `entries`). */
export interface ParsedRecord {
  readonly entries: readonly RecordEntry[];
  readonly issues: readonly RecordIssue[];
}

export function parseRecord(text: string): ParsedRecord {
  const entries: RecordEntry[] = [];
  const issues: RecordIssue[] = [];
  parseCsv(text, (line, fields, error) => {
    if (error) {
      issues.push({ line, message: error });
      return;
    }
    if (fields.length !== 3) {
      issues.push({ line, message: `expected 3 fields (path,hash,size), got ${fields.length}` });
      return;
    }
    const [path, hashText, sizeText] = fields;
    let problems: string[] | undefined;
    if (path === '') (problems ??= []).push('the path is empty');
    let hash: RecordHash | undefined;
    if (hashText !== '') {
      const parsed = parseHash(hashText);
      if (typeof parsed === 'string') (problems ??= []).push(parsed);
      else hash = parsed;
    }
    if (sizeText !== '' && !DIGITS.test(sizeText)) (problems ??= []).push(`size ${JSON.stringify(sizeText)} is not a non-negative integer`);
    if (problems) issues.push({ line, message: `${path || '(no path)'}: ${problems.join('; ')}` });
    else {
      const entry: { path: string; hash?: RecordHash; size?: number } = { path };
      if (hash) entry.hash = hash;
      if (sizeText !== '') entry.size = Number(sizeText);
      entries.push(entry);
    }
  });
  return { entries, issues };
}

const DIGITS = /^\d+$/;
const URLSAFE_BASE64 = /^[A-Za-z0-9_-]*$/;

/** `algorithm=value` → RecordHash, or the reason it is not acceptable. */
export function parseHash(text: string): RecordHash | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return `hash ${JSON.stringify(text)} is not of the form algorithm=digest`;
  const algorithm = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (WEAK_ALGORITHMS.has(algorithm.toLowerCase())) return `hash algorithm ${algorithm} is too weak; RECORD hashes must be sha256 or stronger`;
  if (!Object.hasOwn(ALGORITHMS, algorithm)) return `hash algorithm ${JSON.stringify(algorithm)} is not supported (use one of ${Object.keys(ALGORITHMS).join(', ')})`;
  const spec = ALGORITHMS[algorithm as RecordHashAlgorithm];
  if (value.length !== Math.ceil((spec.bytes * 4) / 3) || !URLSAFE_BASE64.test(value)) {
    return `${algorithm} digest ${JSON.stringify(value)} is not urlsafe base64 without padding of a ${spec.bytes}-byte digest`;
  }
  return { algorithm: algorithm as RecordHashAlgorithm, value };
}

export function formatHash(hash: RecordHash): string {
  return `${hash.algorithm}=${hash.value}`;
}

/** A streaming hasher whose digest comes out in RECORD's encoding. */
export function createRecordHasher(algorithm: RecordHashAlgorithm = 'sha256'): { update(data: Uint8Array): void; digest(): RecordHash } {
  const hash: Hash = createHash(ALGORITHMS[algorithm].node);
  return {
    update: (data) => void hash.update(data),
    digest: () => ({ algorithm, value: hash.digest('base64url') }),
  };
}

export function hashBytes(data: Uint8Array, algorithm: RecordHashAlgorithm = 'sha256'): RecordHash {
  return { algorithm, value: digestBytes(data, algorithm) };
}

/** hashBytes' digest alone, in one call (no Hash object: for the thousands of small members of a wheel). */
export function digestBytes(data: Uint8Array, algorithm: RecordHashAlgorithm): string {
  return oneShotHash(ALGORITHMS[algorithm].node, data, 'base64url');
}

/** RECORD's text: one CSV row per entry, quoted like Python's csv module, "\n" line ends (as pypa/wheel writes). */
export function serializeRecord(entries: readonly RecordEntry[]): string {
  let text = '';
  for (const e of entries) text += `${quoteField(e.path)},${e.hash ? quoteField(formatHash(e.hash)) : ''},${e.size === undefined ? '' : e.size}\n`;
  return text;
}

/** csv.QUOTE_MINIMAL: quote when the field holds the delimiter, the quote char or a line break. */
function quoteField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/**
 * Python's csv.reader (excel dialect, strict=False): quoted fields may hold commas, line breaks and ""
 * escapes; a quote inside an unquoted field is literal; blank lines yield no row. An unterminated quoted
 * field is reported instead of silently accepted. Rows without a quote (nearly all) are simply split.
 */
function parseCsv(text: string, row: (line: number, fields: string[], error?: string) => void): void {
  let line = 1;
  for (let pos = 0; pos < text.length; ) {
    const lf = text.indexOf('\n', pos);
    const end = lf < 0 ? text.length : lf;
    const simple = text.slice(pos, end);
    if (!simple.includes('"') && !simple.includes('\r')) {
      if (simple !== '') row(line, simple.split(','));
      pos = end + 1;
      line++;
      continue;
    }
    const quoted = parseQuotedRow(text, pos);
    if (quoted.fields) row(line, quoted.fields);
    if (quoted.error) row(line, [], quoted.error);
    line += quoted.lines;
    pos = quoted.next;
  }
}

/** One row from `start` with the full state machine; `lines` is how many line ends it consumed. */
function parseQuotedRow(text: string, start: number): { fields?: string[]; next: number; lines: number; error?: string } {
  const fields: string[] = [];
  let field = '';
  let state: 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted' = 'fieldStart';
  let lines = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (state === 'quoted') {
      if (c === '"') state = 'quoteInQuoted';
      else field += c;
      // "\n", "\r\n" and a lone "\r" each end one line.
      if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) lines++;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      state = 'fieldStart';
    } else if (c === '\n' || c === '\r') {
      const next = c === '\r' && text[i + 1] === '\n' ? i + 2 : i + 1;
      const blank = fields.length === 0 && field === '' && state === 'fieldStart';
      return { ...(!blank && { fields: [...fields, field] }), next, lines: lines + 1 };
    } else if (state === 'quoteInQuoted' && c === '"') {
      field += '"';
      state = 'quoted';
    } else if (state === 'fieldStart' && c === '"') {
      state = 'quoted';
    } else {
      field += c;
      state = 'unquoted';
    }
  }
  if (state === 'quoted') return { next: text.length, lines, error: 'a quoted field is not closed before the end of RECORD' };
  const blank = fields.length === 0 && field === '' && state === 'fieldStart';
  return { ...(!blank && { fields: [...fields, field] }), next: text.length, lines };
}
