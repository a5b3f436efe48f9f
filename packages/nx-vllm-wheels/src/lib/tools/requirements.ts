import { ToolError } from '../errors';

/**
 * The Python tools the plugin runs that are part of no build, pinned exactly, in one table. Each group
 * is installed together into one tools venv (see ./venv.ts); a venv's key is made of the python version
 * and the requirement lines of the groups asked for, so bumping a pin here makes a new venv.
 *
 * Chosen to work on Python 3.11 (checked with `pip install` + `--version` of each tool):
 * - auditwheel 6.8.2: its analysis API (`auditwheel.wheel_abi.analyze_wheel_abi`) is what
 *   python/analyze_wheel.py calls; the API is internal, so the pin is what makes it safe.
 * - twine 7.0.0 (`twine check`/`upload`), wheel 0.48.0 (`wheel unpack/pack/tags`), uv 0.13.9.
 * - pypiserver 2.4.2 with passlib (htpasswd authentication) and moto[server] 5.2.5 (`moto_server`,
 *   the S3 API): only the tests start them, on 127.0.0.1.
 */
export const TOOL_GROUPS = {
  /** Inspecting, checking and uploading wheels. */
  wheel: ['auditwheel==6.8.2', 'twine==7.0.0', 'wheel==0.48.0'],
  /** The fast installer (torch.json `installer`). */
  uv: ['uv==0.13.9'],
  /** Test servers: a PyPI-compatible index and the S3 API. */
  servers: ['pypiserver[passlib]==2.4.2', 'moto[server]==5.2.5'],
} as const satisfies Record<string, readonly string[]>;

export type ToolGroup = keyof typeof TOOL_GROUPS;

export const TOOL_GROUP_NAMES = Object.keys(TOOL_GROUPS) as ToolGroup[];

/** The programs each group puts in the venv's bin/ (what `bin(name)` may be asked for). */
export const TOOL_PROGRAMS: Readonly<Record<ToolGroup, readonly string[]>> = {
  wheel: ['auditwheel', 'twine', 'wheel'],
  uv: ['uv', 'uvx'],
  servers: ['pypi-server', 'moto_server'],
};

/** Sorted, without duplicates: the order groups are asked in never changes the venv. */
export function normalizeGroups(groups: readonly string[]): ToolGroup[] {
  const unknown = groups.filter((g) => !(g in TOOL_GROUPS));
  if (unknown.length) {
    throw new ToolError(`Unknown tool group(s) ${unknown.map((g) => JSON.stringify(g)).join(', ')}; the groups are ${TOOL_GROUP_NAMES.join(', ')}.`);
  }
  return [...new Set(groups as ToolGroup[])].sort();
}

/** The requirement lines of the groups, in group order. */
export function toolRequirements(groups: readonly ToolGroup[]): string[] {
  return normalizeGroups(groups).flatMap((g) => TOOL_GROUPS[g]);
}
