import { delimiter, dirname } from 'node:path';
import { PINNED_FLAGS_VARIABLE } from './isa-pin';

/**
 * The only variables of the caller's environment a build sees: what it needs to run and cannot change
 * the binaries. Anything else a user exported (CPATH, LIBRARY_PATH, LD_LIBRARY_PATH, PKG_CONFIG_PATH,
 * CMAKE_*, CFLAGS, PYTHONPATH, PIP_*, a stray VLLM_CPU_*…) could change the output without entering its
 * cache key, so it is dropped, and a dry run lists it. Only wheel.json `env` sets build variables.
 */
const KEPT_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'LANG',
  'LANGUAGE',
  'TMPDIR',
  'TMP',
  'TEMP',
  // Network (CMake may fetch oneDNN): where to connect and whom to trust, never what is built.
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Parallelism, read by vLLM's setup.py; never part of a key.
  'MAX_JOBS',
  // The compilers CMake picks: part of the toolchain runtime input (src/plugin/toolchain.ts).
  'CC',
  'CXX',
  // Where ccache keeps its files and how big it may grow; not how it compiles.
  'CCACHE_DIR',
  'CCACHE_MAXSIZE',
  'CCACHE_TEMPDIR',
  'CCACHE_LOGFILE',
  'CCACHE_DISABLE',
  'CCACHE_READONLY',
  'CCACHE_RECACHE',
  'CCACHE_UMASK',
]);
/** Locale categories; the plugin's own settings; the fixture's stand-ins for the host (its /proc/cpuinfo, its compiler version). */
const KEPT_PREFIXES = ['LC_', 'VLLM_WHEELS_', 'VLLM_FIXTURE_'];

/** True for a variable of the caller's environment that the build may see. */
export function isKeptBuildVariable(name: string): boolean {
  return KEPT_NAMES.has(name) || KEPT_PREFIXES.some((p) => name.startsWith(p));
}

export interface BuildEnvInput {
  /** The environment nx runs in. */
  base: Record<string, string | undefined>;
  /** wheel.json "env". */
  variantEnv: Record<string, string>;
  device: 'cpu' | 'rocm';
  venvPython: string;
  sourceDir: string;
  sourceDateEpoch: number;
  ccacheDir: string;
  /**
   * The version setuptools-scm should report. Set when patches make the tree dirty, which would
   * otherwise turn "0.16.0" into "0.16.1.dev0+g<sha>.d<date>".
   */
  pretendVersion?: string;
  /** The CPU flags the (ISA-pinned) build must see instead of the host's. */
  pinnedCpuFlags?: string;
  /**
   * The variables that point the build at the machine cache's checkouts of the third-party sources the
   * commit pins (FETCHCONTENT_SOURCE_DIR_ONEDNN, ACL_ROOT_DIR), so CMake downloads nothing.
   */
  thirdPartySources?: Record<string, string>;
  /** CMake cache variables the build must get as `-DNAME=value`, appended to CMAKE_ARGS (after the variant's own). */
  cmakeDefines?: Record<string, string>;
}

/**
 * The build's environment: the kept part of the caller's (see KEPT_NAMES, MAX_JOBS exactly as vLLM
 * reads it), vLLM's own variables (VLLM_TARGET_DEVICE, the variant's VLLM_CPU_* flags), reproducible
 * timestamps, the venv first on PATH, and ccache pointed at the shared machine cache with paths made
 * relative to the source.
 */
export function buildEnv(input: BuildEnvInput): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(input.base)) if (isKeptBuildVariable(k)) env[k] = v;
  const venvBin = dirname(input.venvPython);
  return {
    ...env,
    PATH: [venvBin, input.base.PATH].filter(Boolean).join(delimiter),
    VIRTUAL_ENV: dirname(venvBin),
    VLLM_TARGET_DEVICE: input.device,
    CMAKE_BUILD_TYPE: 'Release',
    ...input.variantEnv,
    ...input.thirdPartySources,
    ...cmakeArgs(input.variantEnv.CMAKE_ARGS, input.cmakeDefines),
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    ...(input.pretendVersion ? { SETUPTOOLS_SCM_PRETEND_VERSION: input.pretendVersion } : {}),
    [PINNED_FLAGS_VARIABLE]: input.pinnedCpuFlags,
    CCACHE_DIR: input.base.CCACHE_DIR ?? input.ccacheDir,
    CCACHE_BASEDIR: input.sourceDir,
    CCACHE_NOHASHDIR: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/** CMAKE_ARGS with `defines` appended (a later -D wins in CMake); unchanged (maybe absent) when there are none. */
function cmakeArgs(variantArgs: string | undefined, defines: Record<string, string> = {}): { CMAKE_ARGS?: string } {
  const added = Object.entries(defines).map(([name, value]) => `-D${name}=${value}`);
  if (added.length === 0) return variantArgs === undefined ? {} : { CMAKE_ARGS: variantArgs };
  return { CMAKE_ARGS: [variantArgs, ...added].filter(Boolean).join(' ') };
}

/**
 * The variables this plugin sets or passes on purpose (what a dry run prints; never the whole env), and,
 * as undefined and sorted by name, those of `base` it withholds from the build (a user's exported CPATH or
 * VLLM_CPU_AVX512BF16=1).
 */
export function describedEnv(env: Record<string, string | undefined>, variantEnv: Record<string, string>, base: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const keys = ['VLLM_TARGET_DEVICE', 'CMAKE_BUILD_TYPE', ...Object.keys(variantEnv), 'CMAKE_ARGS', 'MAX_JOBS', 'SOURCE_DATE_EPOCH', 'SETUPTOOLS_SCM_PRETEND_VERSION', PINNED_FLAGS_VARIABLE, 'CCACHE_DIR', 'CCACHE_BASEDIR', 'VIRTUAL_ENV'];
  const out: Record<string, string | undefined> = {};
  for (const k of keys) if (env[k] !== undefined) out[k] = env[k] as string;
  for (const k of Object.keys(base).sort()) if (base[k] !== undefined && env[k] === undefined) out[k] = undefined;
  return out;
}
