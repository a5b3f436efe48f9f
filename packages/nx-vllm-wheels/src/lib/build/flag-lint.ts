import type { CpuIsa } from '../../config';
import { ConfigError } from '../errors';
import { closestMatch } from '../suggest';
import { CPU_EXTENSION_CMAKE, SETUP_PY, type CommitProfile, type CpuinfoArch } from './commit-profile';

/**
 * Variables the build's tools read whatever the commit: CMake's own (cmake-env-variables(7)) and the
 * compilers' (CMake turns CC/CXX/…FLAGS into its first configuration). Not in vLLM's files, yet real.
 */
export const TOOL_VARIABLES: readonly string[] = [
  'CC',
  'CXX',
  'CFLAGS',
  'CXXFLAGS',
  'LDFLAGS',
  'ASM',
  'ASMFLAGS',
  'CMAKE_BUILD_PARALLEL_LEVEL',
  'CMAKE_BUILD_TYPE',
  'CMAKE_COLOR_DIAGNOSTICS',
  'CMAKE_CONFIGURATION_TYPES',
  'CMAKE_C_COMPILER_LAUNCHER',
  'CMAKE_CXX_COMPILER_LAUNCHER',
  'CMAKE_C_LINKER_LAUNCHER',
  'CMAKE_CXX_LINKER_LAUNCHER',
  'CMAKE_EXPORT_COMPILE_COMMANDS',
  'CMAKE_GENERATOR',
  'CMAKE_PREFIX_PATH',
  'CMAKE_INCLUDE_PATH',
  'CMAKE_LIBRARY_PATH',
  'CMAKE_PROGRAM_PATH',
  'CMAKE_TOOLCHAIN_FILE',
];
/** ccache reads every CCACHE_* variable (those that move its cache are reserved by the wheel.json schema). */
const TOOL_PREFIXES = ['CCACHE_'];

/** What the lint found: refusals, and names it could not judge (the commit also reads computed names). */
export interface FlagLintResult {
  unchecked: string[];
}

/**
 * Refuses a wheel.json `env` that sets a variable the commit does not read: a typo or a flag of the
 * other family would otherwise be accepted and silently change nothing (decision 38). Every refused
 * field is reported at once, with what the commit reads.
 */
export function lintVariantEnv(env: Record<string, string>, profile: CommitProfile, where: { file: string; commit: string }): FlagLintResult {
  const read = new Set([...profile.reads[CPU_EXTENSION_CMAKE], ...profile.reads[SETUP_PY], ...TOOL_VARIABLES]);
  const unread = Object.keys(env).filter((name) => !read.has(name) && !TOOL_PREFIXES.some((p) => name.startsWith(p)));
  if (unread.length === 0) return { unchecked: [] };
  if (profile.computedReads.length > 0) return { unchecked: unread };
  const candidates = [...read];
  const problems = unread.map((name) => {
    const hint = closestMatch(name, candidates);
    return `  - env.${name}: is not read by vLLM at ${where.commit.slice(0, 12)} (${profile.family} build)${hint ? `; did you mean "${hint}"?` : ''}`;
  });
  throw new ConfigError(
    [
      `${where.file} sets variables this vLLM commit ignores:`,
      ...problems,
      `  ${CPU_EXTENSION_CMAKE} reads: ${profile.reads[CPU_EXTENSION_CMAKE].join(', ') || '(nothing)'}`,
      `  ${SETUP_PY} reads: ${profile.reads[SETUP_PY].join(', ') || '(nothing)'}`,
      `  also allowed (read by CMake, the compilers, ccache): ${TOOL_VARIABLES.join(', ')}, ${TOOL_PREFIXES.map((p) => `${p}*`).join(', ')}`,
    ].join('\n'),
  );
}

/** The ISA pin edits the host's cpuinfo read, so it has work to do only where the commit decides this architecture's ISA from it. */
export function isaPinApplies(profile: CommitProfile, arch: CpuinfoArch): boolean {
  return profile.cpuinfoArchs.includes(arch);
}

/** One line saying what the build will do about the host's CPU (printed by real and dry runs). */
export function isaPinDecision(profile: CommitProfile, variant: { arch: CpuinfoArch; isa: CpuIsa; pinIsa: boolean }): { pin: boolean; message: string } {
  const reads = profile.cpuinfoArchs.length ? `reads /proc/cpuinfo for ${profile.cpuinfoArchs.join(', ')}` : 'reads /proc/cpuinfo for no ISA decision';
  if (!isaPinApplies(profile, variant.arch)) {
    return { pin: false, message: `${profile.family} build, ${reads}: nothing to pin for ${variant.arch} (the host's CPU does not decide what is compiled).` };
  }
  if (!variant.pinIsa) return { pin: false, message: `${profile.family} build, ${reads}: "pinIsa": false, so the build host's CPU decides the ISA.` };
  return { pin: true, message: `${profile.family} build, ${reads}: the CPU flags are pinned to isa ${variant.isa}.` };
}
