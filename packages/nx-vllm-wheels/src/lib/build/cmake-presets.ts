import { createHash } from 'node:crypto';
import { delimiter, dirname } from 'node:path';
import { ConfigError } from '../errors';

/** The file CMake reads user presets from, in the source dir. */
export const USER_PRESETS_FILE = 'CMakeUserPresets.json';
/** The dev build's own tree: beside setup.py's build/temp.*, never shared with it (decision 50). */
export const DEV_BINARY_DIR = '${sourceDir}/build/dev';
const VENDOR = 'nx-vllm-wheels';

export interface DevPresetInput {
  /** Preset name (the variant's name). */
  name: string;
  /** What `cmake --preset` users see in the list. */
  description: string;
  /** The build's environment (buildEnv): what setup.py would run with. */
  env: Record<string, string | undefined>;
  /**
   * The variables the plugin sets on purpose (describedEnv's defined entries): the ones the preset's
   * environment carries, so CMake's configure reads the same VLLM_CPU_* flags, pin, third-party dirs and compiler.
   */
  setVariables: Record<string, string | undefined>;
  venvPython: string;
  /** The compiler launcher setup.py would pass (sccache, else ccache, from the build's PATH); undefined: none. */
  launcher?: string;
  /** MAX_JOBS as setup.py reads it, else every core. */
  jobs: number;
  /** wheel.json, for messages about its CMAKE_ARGS. */
  configFile: string;
}

type CacheVariable = string | { type: string; value: string };

export interface CmakeUserPresets {
  version: 3;
  cmakeMinimumRequired: { major: number; minor: number; patch: number };
  configurePresets: {
    name: string;
    description: string;
    generator: 'Ninja';
    binaryDir: string;
    installDir: string;
    cacheVariables: Record<string, CacheVariable>;
    environment: Record<string, string>;
  }[];
  buildPresets: { name: string; configurePreset: string; jobs: number }[];
  vendor: Record<string, { writtenBy: string; sha256?: string }>;
}

/** Variables of the build's env the preset leaves out: CMake never reads them (setup.py turns them into arguments). */
const NOT_FOR_CMAKE = new Set(['CMAKE_ARGS', 'MAX_JOBS']);

/**
 * setup.py's `CMAKE_ARGS` split as it splits it (on whitespace); each `-DNAME[:TYPE]=value` becomes a cache
 * variable. Anything else has no preset equivalent and is refused, naming the file and the field.
 */
export function cmakeArgsDefines(cmakeArgs: string | undefined, configFile: string): Record<string, CacheVariable> {
  const out: Record<string, CacheVariable> = {};
  for (const arg of (cmakeArgs ?? '').split(/\s+/).filter(Boolean)) {
    const m = /^-D([A-Za-z_][A-Za-z0-9_.+-]*)(?::([A-Z]+))?=(.*)$/.exec(arg);
    if (!m) {
      throw new ConfigError(
        `${configFile}: env.CMAKE_ARGS: "${arg}" has no CMake preset equivalent; \`nx run <variant>:dev\` can carry only -DNAME=value (or -DNAME:TYPE=value) options.`,
      );
    }
    out[m[1]] = m[2] ? { type: m[2], value: m[3] } : m[3];
  }
  return out;
}

/**
 * The CMakeUserPresets.json of a variant's worktree: configure as vLLM's setup.py configures (its cache
 * variables, Ninja with a compile job pool, the compiler launcher, CMAKE_ARGS) with the build's env, into
 * a tree of its own, installing the extensions next to the Python sources as vLLM's own presets do.
 */
export function devPresets(input: DevPresetInput): CmakeUserPresets {
  const { env, name } = input;
  const cacheVariables: Record<string, CacheVariable> = {
    CMAKE_BUILD_TYPE: env.CMAKE_BUILD_TYPE ?? 'RelWithDebInfo',
    VLLM_TARGET_DEVICE: env.VLLM_TARGET_DEVICE ?? 'cpu',
    VLLM_PYTHON_EXECUTABLE: input.venvPython,
    // Not setup.py's ${sourceDir}/.deps: that holds the build tree of a fetched oneDNN, which two build trees must not share.
    FETCHCONTENT_BASE_DIR: `${DEV_BINARY_DIR}/.deps`,
    ...(input.launcher ? { CMAKE_C_COMPILER_LAUNCHER: input.launcher, CMAKE_CXX_COMPILER_LAUNCHER: input.launcher } : {}),
    CMAKE_JOB_POOL_COMPILE: { type: 'STRING', value: 'compile' },
    CMAKE_JOB_POOLS: { type: 'STRING', value: `compile=${input.jobs}` },
    // Last, as setup.py appends it: the variant's own -D options, then the plugin's (third-party checkouts).
    ...cmakeArgsDefines(env.CMAKE_ARGS, input.configFile),
  };
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.setVariables)) if (v !== undefined && !NOT_FOR_CMAKE.has(k)) environment[k] = v;
  for (const k of ['CC', 'CXX', 'CCACHE_NOHASHDIR']) if (env[k] !== undefined) environment[k] = env[k] as string;
  // ninja, and the python CMake runs, from the build venv first (as setup.py runs with it first on PATH).
  environment.PATH = `${dirname(input.venvPython)}${delimiter}$penv{PATH}`;
  const presets: CmakeUserPresets = {
    version: 3,
    cmakeMinimumRequired: { major: 3, minor: 21, patch: 0 },
    configurePresets: [
      {
        name,
        description: input.description,
        generator: 'Ninja',
        binaryDir: DEV_BINARY_DIR,
        installDir: '${sourceDir}',
        cacheVariables: sortedObject(cacheVariables),
        environment: sortedObject(environment),
      },
    ],
    // The configure preset's environment is inherited (inheritConfigureEnvironment defaults to true): ccache sees CCACHE_DIR.
    buildPresets: [{ name, configurePreset: name, jobs: input.jobs }],
    vendor: { [VENDOR]: { writtenBy: `nx run ${name}:dev` } },
  };
  return stamped(presets);
}

function sortedObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The file's text as written (two-space JSON, newline-terminated). */
export function presetsText(presets: CmakeUserPresets): string {
  return `${JSON.stringify(presets, null, 2)}\n`;
}

function digest(presets: CmakeUserPresets): string {
  const { sha256: _, ...rest } = presets.vendor[VENDOR];
  return createHash('sha256').update(JSON.stringify({ ...presets, vendor: { ...presets.vendor, [VENDOR]: rest } })).digest('hex');
}

function stamped(presets: CmakeUserPresets): CmakeUserPresets {
  return { ...presets, vendor: { ...presets.vendor, [VENDOR]: { ...presets.vendor[VENDOR], sha256: digest(presets) } } };
}

/**
 * Who wrote an existing CMakeUserPresets.json: this plugin, unchanged since (its stamp matches its
 * content, however it is formatted); this plugin, then edited by hand; or someone else.
 */
export function presetsOrigin(text: string): 'generated' | 'edited' | 'foreign' {
  let parsed: CmakeUserPresets;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'foreign';
  }
  const stamp = parsed?.vendor?.[VENDOR]?.sha256;
  if (typeof stamp !== 'string') return 'foreign';
  return digest(parsed) === stamp ? 'generated' : 'edited';
}

/** The number of compile jobs as setup.py counts them: MAX_JOBS, else every core. */
export function devJobs(maxJobs: string | undefined, cores: number): number {
  if (maxJobs === undefined || maxJobs === '') return cores;
  if (!/^[1-9]\d*$/.test(maxJobs.trim())) throw new ConfigError(`MAX_JOBS=${JSON.stringify(maxJobs)} in the environment is not allowed: it must be a positive whole number (vLLM's setup.py reads it with int()).`);
  return Number(maxJobs.trim());
}
