import { createHash, type Hash } from 'node:crypto';

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
  for (const { line, fields, error } of parseCsv(text)) {
    if (error) {
      issues.push({ line, message: error });
      continue;
    }
    if (fields.length !== 3) {
      issues.push({ line, message: `expected 3 fields (path,hash,size), got ${fields.length}` });
      continue;
    }
    const [path, hashText, sizeText] = fields;
    const problems: string[] = [];
    if (path === '') problems.push('the path is empty');
    let hash: RecordHash | undefined;
    if (hashText !== '') {
      const parsed = parseHash(hashText);
      if (typeof parsed === 'string') problems.push(parsed);
      else hash = parsed;
    }
    if (sizeText !== '' && !/^\d+$/.test(sizeText)) problems.push(`size ${JSON.stringify(sizeText)} is not a non-negative integer`);
    if (problems.length) issues.push({ line, message: `${path || '(no path)'}: ${problems.join('; ')}` });
    else entries.push({ path, ...(hash && { hash }), ...(sizeText !== '' && { size: Number(sizeText) }) });
  }
  return { entries, issues };
}

/** `algorithm=value` → RecordHash, or the reason it is not acceptable. */
export function parseHash(text: string): RecordHash | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return `hash ${JSON.stringify(text)} is not of the form algorithm=digest`;
  const algorithm = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (WEAK_ALGORITHMS.has(algorithm.toLowerCase())) return `hash algorithm ${algorithm} is too weak; RECORD hashes must be sha256 or stronger`;
  if (!Object.hasOwn(ALGORITHMS, algorithm)) return `hash algorithm ${JSON.stringify(algorithm)} is not supported (use one of ${Object.keys(ALGORITHMS).join(', ')})`;
  const spec = ALGORITHMS[algorithm as RecordHashAlgorithm];
  if (!/^[A-Za-z0-9_-]*$/.test(value) || value.length !== Math.ceil((spec.bytes * 4) / 3)) {
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
  const hasher = createRecordHasher(algorithm);
  hasher.update(data);
  return hasher.digest();
}

/** RECORD's text: one CSV row per entry, quoted like Python's csv module, "\n" line ends (as pypa/wheel writes). */
export function serializeRecord(entries: readonly RecordEntry[]): string {
  return entries
    .map((e) => [e.path, e.hash ? formatHash(e.hash) : '', e.size === undefined ? '' : String(e.size)].map(quoteField).join(',') + '\n')
    .join('');
}

/** csv.QUOTE_MINIMAL: quote when the field holds the delimiter, the quote char or a line break. */
function quoteField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

interface CsvRow {
  line: number;
  fields: string[];
  error?: string;
}

/**
 * Python's csv.reader (excel dialect, strict=False): quoted fields may hold commas, line breaks and ""
 * escapes; a quote inside an unquoted field is literal; blank lines yield no row. An unterminated quoted
 * field is reported instead of silently accepted. Rows without a quote (nearly all) are simply split.
 */
function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let line = 1;
  for (let pos = 0; pos < text.length; ) {
    const lf = text.indexOf('\n', pos);
    const end = lf < 0 ? text.length : lf;
    const simple = text.slice(pos, end);
    if (!simple.includes('"') && !simple.includes('\r')) {
      if (simple !== '') rows.push({ line, fields: simple.split(',') });
      pos = end + 1;
      line++;
      continue;
    }
    const row = parseQuotedRow(text, pos);
    if (row.fields) rows.push({ line, fields: row.fields });
    if (row.error) rows.push({ line, fields: [], error: row.error });
    line += row.lines;
    pos = row.next;
  }
  return rows;
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
