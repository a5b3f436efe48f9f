import { SourceError } from '../errors';
import { cmakeCode } from './cmake-code';
import { compilerRequirements, type CompilerRequirement } from './compiler-requirement';

export { cmakeCode };
export type { CompilerRequirement };

/**
 * What a vLLM commit's CPU build is, read from its own files rather than from a version table:
 * which family it belongs to, which environment variables it reads, and for which architectures it
 * asks the build host's /proc/cpuinfo (decision 38).
 */

export const CPU_EXTENSION_CMAKE = 'cmake/cpu_extension.cmake';
export const SETUP_PY = 'setup.py';

/** `isa-variants`: vLLM <= 0.16, one ISA per build, chosen from the host's cpuinfo and VLLM_CPU_* flags. `unified`: vLLM >= 0.17, _C + _C_AVX512 + _C_AVX2 in one x86 wheel. */
export const BUILD_FAMILIES = ['isa-variants', 'unified'] as const;
export type BuildFamily = (typeof BUILD_FAMILIES)[number];

export const CPUINFO_ARCHS = ['x86_64', 'aarch64'] as const;
export type CpuinfoArch = (typeof CPUINFO_ARCHS)[number];

export interface CommitProfile {
  family: BuildFamily;
  /** Variables each file reads by literal name, sorted. */
  reads: { [CPU_EXTENSION_CMAKE]: string[]; [SETUP_PY]: string[] };
  /** Reads whose name is computed (`$ENV{${VAR}}`): what they read cannot be known from the text. */
  computedReads: string[];
  /** Architectures whose ISA decision searches the host's /proc/cpuinfo. */
  cpuinfoArchs: CpuinfoArch[];
  /** The GNU versions the file tests, and what it does below each (a fatal gate, or levels dropped with a warning). */
  compilerRequirements: CompilerRequirement[];
  /** The unified family's x86 extension libraries, of which vLLM imports one at run time (`_C`, `_C_AVX512`?, `_C_AVX2`); empty for isa-variants. */
  dispatchLibraries: string[];
}

/**
 * The CPU flags each architecture's decision searches for, as quoted CMake literals (upstream:
 * `find_isa(${CPUINFO} "avx512f" ...)`; the fixture: `cpuinfo_has("avx512f" ...)`).
 */
const CPUINFO_FLAG_LITERALS: Record<CpuinfoArch, RegExp> = {
  x86_64: /"(avx2|avx512\w*|amx_\w+)"/,
  aarch64: /"(asimd|bf16|i8mm)"/,
};

/** `$ENV{NAME}` and `DEFINED ENV{NAME}` are reads; `set(ENV{NAME} …)` / `unset(ENV{NAME})` are writes. */
export function cmakeEnvReads(text: string): { names: string[]; computed: string[] } {
  const names = new Set<string>();
  const computed = new Set<string>();
  const code = cmakeCode(text);
  for (const m of code.matchAll(/(\$|\bDEFINED\s+|\b)ENV\{([^}]*)\}/g)) {
    if (m[1] === '') continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(m[2])) names.add(m[2]);
    else computed.add(`${m[0]}}`); // the match stops at the inner `}`
  }
  return { names: [...names].sort(), computed: [...computed].sort() };
}

/**
 * Variables setup.py reads by literal name: os.getenv("X"), os.environ.get("X"), os.environ["X"]
 * (not an assignment), "X" in os.environ, and vllm/envs.py's `envs.X` / `envs.is_set("X")`, whose
 * attributes are the variables of the same name.
 */
export function setupPyEnvReads(text: string): string[] {
  const names = new Set<string>();
  const patterns = [
    /\bos\.getenv\(\s*["']([A-Za-z_]\w*)["']/g,
    /\bos\.environ\.get\(\s*["']([A-Za-z_]\w*)["']/g,
    /\bos\.environ\[\s*["']([A-Za-z_]\w*)["']\s*\](?!\s*=(?!=))/g,
    /["']([A-Za-z_]\w*)["']\s+(?:not\s+)?in\s+os\.environ\b/g,
    /\benvs\.is_set\(\s*["']([A-Za-z_]\w*)["']/g,
    /\benvs\.([A-Z][A-Z0-9_]*)\b/g,
  ];
  for (const p of patterns) for (const m of text.matchAll(p)) names.add(m[1]);
  return [...names].sort();
}

/** Architectures whose ISA decision reads the host's /proc/cpuinfo: the file reads it and searches it for that architecture's flags. */
export function cpuinfoArchitectures(cmakeText: string): CpuinfoArch[] {
  const code = cmakeCode(cmakeText);
  if (!code.includes('/proc/cpuinfo')) return [];
  return CPUINFO_ARCHS.filter((arch) => CPUINFO_FLAG_LITERALS[arch].test(code));
}

/** Extension targets the file defines (`define_extension_target(<name>`), among vLLM's x86 CPU libraries. */
function x86ExtensionTargets(code: string): string[] {
  const names = new Set([...code.matchAll(/\bdefine_extension_target\s*\(\s*(_C(?:_AVX512|_AVX2)?)\b/g)].map((m) => m[1]));
  return ['_C', '_C_AVX512', '_C_AVX2'].filter((n) => names.has(n));
}

/**
 * The run-time dispatched x86 build of vLLM >= 0.17: `_C_AVX2` beside `_C` (0.17.0: these two, `_C` for
 * any AVX-512 CPU; later releases add `_C_AVX512`).
 */
function buildsDispatchLibraries(code: string): boolean {
  return x86ExtensionTargets(code).includes('_C_AVX2');
}

/**
 * The family, by two structural facts of the file: an x86 ISA decided from cpuinfo (<= 0.16) and the
 * three-library x86 build (>= 0.17). A file with both or neither is not one the plugin knows.
 */
export function buildFamily(cmakeText: string, where: string): BuildFamily {
  const x86FromCpuinfo = cpuinfoArchitectures(cmakeText).includes('x86_64');
  const dispatched = buildsDispatchLibraries(cmakeCode(cmakeText));
  if (x86FromCpuinfo && !dispatched) return 'isa-variants';
  if (dispatched && !x86FromCpuinfo) return 'unified';
  throw new SourceError(
    `Cannot tell which CPU build ${where} makes: ${
      x86FromCpuinfo
        ? 'it both decides the x86 ISA from /proc/cpuinfo (as vLLM <= 0.16) and builds _C_AVX2 beside _C (as vLLM >= 0.17)'
        : 'it neither decides the x86 ISA from /proc/cpuinfo (vLLM <= 0.16: "isa-variants") nor builds _C_AVX2 beside _C (vLLM >= 0.17: "unified")'
    }. The plugin builds these two families only.`,
  );
}

/** The profile of a commit from the text of its cmake/cpu_extension.cmake and setup.py (undefined when it has none). */
export function commitProfile(files: { cmake: string; setupPy: string | undefined; where: string }): CommitProfile {
  const cmake = cmakeEnvReads(files.cmake);
  const family = buildFamily(files.cmake, files.where);
  return {
    family,
    reads: { [CPU_EXTENSION_CMAKE]: cmake.names, [SETUP_PY]: files.setupPy === undefined ? [] : setupPyEnvReads(files.setupPy) },
    computedReads: cmake.computed,
    cpuinfoArchs: cpuinfoArchitectures(files.cmake),
    compilerRequirements: compilerRequirements(files.cmake),
    dispatchLibraries: family === 'unified' ? x86ExtensionTargets(cmakeCode(files.cmake)) : [],
  };
}
