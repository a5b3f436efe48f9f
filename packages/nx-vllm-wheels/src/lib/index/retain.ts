import { compareVersions, parseWheelFileName } from '../wheel';
import { type IndexedFile, type IndexState } from './state';

/** index.json `retain`: project (PEP 503 name) -> how many of its newest versions the published index lists. */
export type Retention = Readonly<Record<string, number>>;

export interface Retained {
  /** The index with only the newest versions of each retained project (every other project as it was). */
  readonly state: IndexState;
  /** The files of the older versions, which the index no longer lists; each with why. */
  readonly dropped: readonly { readonly file: IndexedFile; readonly keep: number; readonly newest: readonly string[] }[];
}

/**
 * Keeps the `retain[project]` newest versions (PEP 440 order, the order pip picks by) of each retained
 * project; every file of an older version leaves the index (all its platforms and Pythons together).
 */
export function retainNewest(state: IndexState, retain: Retention): Retained {
  const versionsOf = new Map<string, string[]>();
  const versionOf = new Map<IndexedFile, string>();
  for (const f of state.files) {
    if (retain[f.project] === undefined) continue;
    const version = parseWheelFileName(f.filename).version;
    versionOf.set(f, version);
    const list = versionsOf.get(f.project) ?? [];
    if (!list.includes(version)) list.push(version);
    versionsOf.set(f.project, list);
  }
  const kept = new Map<string, string[]>();
  for (const [project, versions] of versionsOf) kept.set(project, [...versions].sort((a, b) => compareVersions(b, a)).slice(0, retain[project]));
  const files: IndexedFile[] = [];
  const dropped: Retained['dropped'][number][] = [];
  for (const f of state.files) {
    const version = versionOf.get(f);
    const newest = kept.get(f.project);
    if (version === undefined || !newest || newest.includes(version)) files.push(f);
    else dropped.push({ file: f, keep: retain[f.project], newest });
  }
  return { state: { formatVersion: 1, files }, dropped };
}
