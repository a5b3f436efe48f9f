import { SourceError } from '../errors';

/** Options in a requirements file that choose package indexes: the plugin decides those, not the source. */
const INDEX_OPTION = /^(-i|--index-url|--extra-index-url|-f|--find-links|--no-index)(\s|=|$)/;
const INCLUDE_OPTION = /^(-r|--requirement)\s*=?\s*(\S+)/;
/** Constraint files limit versions but install nothing; following them like -r would install them. */
const CONSTRAINT_OPTION = /^(-c|--constraint)(\s|=|$)/;

export interface BuildRequirements {
  /** Requirement lines to install, in order, comments and index options removed. */
  lines: string[];
  /** Index and constraint options the source declared and that were dropped (reported in the log). */
  droppedIndexOptions: string[];
  /** The torch requirement (e.g. "torch==2.6.0+cpu"), if any. */
  torchPin?: string;
  /** Which file(s) they came from. */
  files: string[];
}

/**
 * Reads the build requirements of the source: the first of `candidates` that exists, with `-r`
 * includes followed (relative to the including file), through `readFile` (e.g. `git show`).
 */
export async function readBuildRequirements(
  candidates: readonly string[],
  readFile: (path: string) => Promise<string | undefined>,
): Promise<BuildRequirements> {
  for (const candidate of candidates) {
    const text = await readFile(candidate);
    if (text === undefined) continue;
    const result: BuildRequirements = { lines: [], droppedIndexOptions: [], files: [] };
    await collect(candidate, text, readFile, result, new Set());
    result.torchPin = result.lines.find((l) => /^torch\s*(==|===|~=|>=|<=|<|>|!=|@|\[|;|$)/i.test(l));
    return result;
  }
  throw new SourceError(`None of the build requirements files exist in the source: ${candidates.join(', ')} (torch.json "requirements").`);
}

async function collect(
  path: string,
  text: string,
  readFile: (path: string) => Promise<string | undefined>,
  out: BuildRequirements,
  seen: Set<string>,
): Promise<void> {
  if (seen.has(path)) return;
  seen.add(path);
  out.files.push(path);
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    if (INDEX_OPTION.test(line) || CONSTRAINT_OPTION.test(line)) {
      out.droppedIndexOptions.push(line);
      continue;
    }
    const include = INCLUDE_OPTION.exec(line);
    if (include) {
      const target = joinRelative(path, include[2]);
      const included = await readFile(target);
      if (included === undefined) throw new SourceError(`${path} includes ${include[2]}, which does not exist in the source.`);
      await collect(target, included, readFile, out, seen);
      continue;
    }
    out.lines.push(line);
  }
}

function joinRelative(from: string, rel: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const p of rel.split('/')) {
    if (p === '..') parts.pop();
    else if (p !== '.') parts.push(p);
  }
  return parts.join('/');
}
