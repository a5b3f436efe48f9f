import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ToolError } from '../errors';
import type { Logger } from '../log';
import { createStampedVenv, describePython, isVenvComplete, venvCommandRunner, venvLayout, type PythonInterpreter } from '../python';
import { normalizeGroups, TOOL_PROGRAMS, toolRequirements, type ToolGroup } from './requirements';

export interface ToolsVenvOptions {
  /**
   * The cache the venv lives in, as `<cacheRoot>/tools/<key>` (locks in `<cacheRoot>/locks`): the
   * machine cache for the plugin; tests pass one cache dir shared by every test run on the machine, so
   * each set of tools is installed once.
   */
  cacheRoot: string;
  /** The interpreter the venv is made from: a described one, a path, or a name on env's PATH (default python3). */
  python?: PythonInterpreter | string;
  /** The tool groups to install (default ["wheel"]); order and duplicates do not matter. */
  groups?: readonly ToolGroup[];
  /** The user's environment: kept for pip (proxies, certificates, PIP_INDEX_URL…) except what must be controlled. */
  env: Record<string, string | undefined>;
  log: Logger;
  /** Print the commands and files instead of creating anything. */
  dryRun?: boolean;
  /** For each venv/pip command; default 20 minutes. */
  timeoutMs?: number;
}

export interface ToolsVenv {
  dir: string;
  /** The venv's python (runs python/analyze_wheel.py with auditwheel importable). */
  python: string;
  key: string;
  groups: ToolGroup[];
  /** The pinned requirement lines installed. */
  requirements: string[];
  reused: boolean;
  /** The path of a program the venv's groups install (`twine`, `auditwheel`, `moto_server`…). */
  bin(name: string): string;
}

/** The venv's identity: the interpreter's full version and the pinned requirements of its groups. */
export function toolsVenvKey(pythonVersion: string, groups: readonly ToolGroup[]): string {
  const normalized = normalizeGroups(groups);
  const identity = JSON.stringify({ python: pythonVersion, requirements: toolRequirements(normalized) });
  return `py${pythonVersion}-${normalized.join('+')}-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}`;
}

/**
 * The pinned tools venv (`<cacheRoot>/tools/<key>`): created once with `python -m venv` + pip, under a
 * lock, stamp written last (a directory without a stamp is recreated), then reused at no cost.
 */
export async function ensureToolsVenv(options: ToolsVenvOptions): Promise<ToolsVenv> {
  const { log } = options;
  const dryRun = options.dryRun ?? false;
  const groups = normalizeGroups(options.groups ?? ['wheel']);
  const python = typeof options.python === 'object' ? options.python : await describePython(options.python ?? 'python3', options.env);
  const key = toolsVenvKey(python.version, groups);
  const requirements = toolRequirements(groups);
  const toolsDir = join(options.cacheRoot, 'tools');
  const layout = venvLayout(join(toolsDir, key));
  const result = (reused: boolean): ToolsVenv => ({
    dir: layout.dir,
    python: layout.python,
    key,
    groups,
    requirements,
    reused,
    bin: (name) => toolPath(layout.dir, name, groups, dryRun),
  });
  if (isVenvComplete(layout.dir)) {
    log.info(`Tools venv ${layout.dir} is ready (${requirements.join(' ')}); reusing it.`);
    return result(true);
  }
  await createStampedVenv({
    dir: layout.dir,
    lockPath: join(options.cacheRoot, 'locks', `tools-${key}.lock`),
    stamp: () => ({ key, python: python.version, groups, requirements }),
    populate: async () => {
      log.step(`Creating tools venv ${layout.dir} (python ${python.version}: ${requirements.join(' ')})`);
      const exec = venvCommandRunner({ cwd: toolsDir, env: options.env, timeoutMs: options.timeoutMs ?? 20 * 60_000, log, dryRun });
      await exec(python.path, ['-m', 'venv', layout.dir]);
      await exec(layout.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...requirements]);
    },
    waitMessage: `Waiting for another process creating ${layout.dir}…`,
    log,
    dryRun,
  });
  return result(false);
}

function toolPath(dir: string, name: string, groups: readonly ToolGroup[], dryRun: boolean): string {
  const path = join(dir, 'bin', name);
  if (dryRun || existsSync(path)) return path;
  const known = groups.flatMap((g) => TOOL_PROGRAMS[g]);
  throw new ToolError(`The tools venv ${dir} has no program ${name} (it has ${known.join(', ')} from the groups ${groups.join(', ')}).`);
}
