import { delimiter, dirname } from 'node:path';
import { PINNED_FLAGS_VARIABLE } from './isa-pin';

/**
 * Inherited variables that would change the build's output without entering its cache key: a user's
 * exported VLLM_CPU_AVX512BF16=1 must not leak into every variant. Only wheel.json sets these.
 */
const OUTPUT_CHANGING_PREFIXES = ['VLLM_'];
/** Except our own settings, and the fixture's stand-ins for the host (its /proc/cpuinfo, its compiler). */
const KEPT_PREFIXES = ['VLLM_WHEELS_', 'VLLM_FIXTURE_'];
const OUTPUT_CHANGING_NAMES = [
  'SETUPTOOLS_SCM_PRETEND_VERSION',
  'CMAKE_ARGS',
  'CMAKE_BUILD_TYPE',
  'CMAKE_GENERATOR',
  'CMAKE_PREFIX_PATH',
  'CFLAGS',
  'CXXFLAGS',
  'CPPFLAGS',
  'LDFLAGS',
  'VIRTUAL_ENV',
  'PYTHONPATH',
  'PYTHONHOME',
];

export interface BuildEnvInput {
  /** The environment nx runs in. */
  base: Record<string, string | undefined>;
  /** wheel.json "env". */
  variantEnv: Record<string, string>;
  device: 'cpu';
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
}

/**
 * The build's environment: vLLM's own variables (VLLM_TARGET_DEVICE, the variant's VLLM_CPU_* flags,
 * MAX_JOBS exactly as vLLM reads it from the environment), reproducible timestamps, the venv first on
 * PATH, and ccache pointed at the shared machine cache with paths made relative to the source.
 */
export function buildEnv(input: BuildEnvInput): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(input.base)) {
    const changesOutput = OUTPUT_CHANGING_NAMES.includes(k) || OUTPUT_CHANGING_PREFIXES.some((p) => k.startsWith(p));
    if (changesOutput && !KEPT_PREFIXES.some((p) => k.startsWith(p))) continue;
    env[k] = v;
  }
  const venvBin = dirname(input.venvPython);
  return {
    ...env,
    PATH: [venvBin, input.base.PATH].filter(Boolean).join(delimiter),
    VIRTUAL_ENV: dirname(venvBin),
    VLLM_TARGET_DEVICE: input.device,
    CMAKE_BUILD_TYPE: 'Release',
    ...input.variantEnv,
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    ...(input.pretendVersion ? { SETUPTOOLS_SCM_PRETEND_VERSION: input.pretendVersion } : {}),
    [PINNED_FLAGS_VARIABLE]: input.pinnedCpuFlags,
    CCACHE_DIR: input.base.CCACHE_DIR ?? input.ccacheDir,
    CCACHE_BASEDIR: input.sourceDir,
    CCACHE_NOHASHDIR: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/**
 * The variables this plugin sets or passes on purpose (what a dry run prints; never the whole env), and,
 * as undefined, those of `base` it keeps from the build (a user's exported VLLM_CPU_AVX512BF16=1).
 */
export function describedEnv(env: Record<string, string | undefined>, variantEnv: Record<string, string>, base: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const keys = ['VLLM_TARGET_DEVICE', 'CMAKE_BUILD_TYPE', ...Object.keys(variantEnv), 'MAX_JOBS', 'SOURCE_DATE_EPOCH', 'SETUPTOOLS_SCM_PRETEND_VERSION', PINNED_FLAGS_VARIABLE, 'CCACHE_DIR', 'CCACHE_BASEDIR', 'VIRTUAL_ENV'];
  const out: Record<string, string | undefined> = {};
  for (const k of keys) if (env[k] !== undefined) out[k] = env[k] as string;
  for (const [k, v] of Object.entries(base)) if (v !== undefined && env[k] === undefined) out[k] = undefined;
  return out;
}
