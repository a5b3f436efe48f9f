import type { Tree } from '@nx/devkit';

export type FileStatus = 'created' | 'unchanged' | 'kept' | 'replaced';
export interface FileResult {
  path: string;
  status: FileStatus;
}

const sameJson = (a: string, b: string): boolean => {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
};

/**
 * Writes a generated file. An existing file with the same content (for JSON: the same value, however
 * formatted) is unchanged; one that differs was edited by hand or written for other options, and is kept
 * unless `force` (then replaced). A second run with the same options therefore changes nothing.
 */
export function writeGenerated(tree: Tree, path: string, text: string, force: boolean): FileResult {
  if (!tree.exists(path)) {
    tree.write(path, text);
    return { path, status: 'created' };
  }
  const existing = tree.read(path, 'utf8') ?? '';
  if (existing === text || (path.endsWith('.json') && sameJson(existing, text))) return { path, status: 'unchanged' };
  if (!force) return { path, status: 'kept' };
  tree.write(path, text);
  return { path, status: 'replaced' };
}

/** One line per file, and the hint to --force when a differing file was left alone. */
export function describeResults(results: readonly FileResult[]): string[] {
  const lines = results.map(({ path, status }) =>
    status === 'kept' ? `${path}: exists and differs from what this generator writes; left as it is (--force replaces it)` : `${path}: ${status === 'unchanged' ? 'up to date' : status}`,
  );
  return lines;
}
