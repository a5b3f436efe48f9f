import { basename, dirname } from 'node:path';

/**
 * Where config files live and what their projects are called (see decisions.md, "Several vLLM sources
 * in one workspace"):
 *
 * - `packages/<name>/{vllm,torch,rocm,wheel,index}.json`: one project named `<name>` (the flat layout).
 * - `packages/<source>/<distribution>/wheel.json`: a variant built from `packages/<source>/vllm.json`,
 *   named `<distribution>@<source>`, so one distribution can be built from several sources and adding a
 *   version is adding one folder.
 */
export const CONFIG_GLOB = '{packages/*/{vllm,torch,rocm,wheel,index}.json,packages/*/*/wheel.json}';

/** Separates a nested variant's folder from its source's in its project name. */
export const SOURCE_SEPARATOR = '@';

export type ConfigKind = 'vllm' | 'torch' | 'rocm' | 'wheel' | 'index';

export interface ConfigLocation {
  kind: ConfigKind;
  /** The project's folder, relative to the workspace root. */
  root: string;
  /** The project name. */
  name: string;
  /** For a variant: its folder's name (= its distribution). */
  folder: string;
  /** For a nested variant: the source folder it sits in (= that source's project name). */
  sourceFolder?: string;
}

/** The location of a config file from its workspace-relative path (one the glob matches). */
export function configLocation(file: string): ConfigLocation {
  const normalized = file.replace(/\\/g, '/');
  const root = dirname(normalized);
  const kind = basename(normalized, '.json') as ConfigKind;
  const folder = basename(root);
  const parts = root.split('/');
  if (parts.length === 3) {
    const sourceFolder = parts[1];
    return { kind, root, folder, sourceFolder, name: `${folder}${SOURCE_SEPARATOR}${sourceFolder}` };
  }
  return { kind, root, folder, name: folder };
}
