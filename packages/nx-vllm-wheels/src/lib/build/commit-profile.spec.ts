import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { V0_16_0_CPU_EXTENSION, V0_16_0_SETUP_PY, V0_17_0_CPU_EXTENSION, V0_34_0_CPU_EXTENSION, V0_34_0_SETUP_PY } from '../../test-support/upstream-vllm';
import { SourceError } from '../errors';
import { buildFamily, cmakeEnvReads, commitProfile, cpuinfoArchitectures, setupPyEnvReads } from './commit-profile';
import { compilerRequirements } from './compiler-requirement';

/** The 1-based line of the n-th occurrence of `text` in `file`. */
function lineOf(file: string, text: string, n: number): number {
  let at = -1;
  for (let i = 0; i <= n; i++) at = file.indexOf(text, at + 1);
  if (at === -1) throw new Error(`no occurrence ${n} of ${text}`);
  return file.slice(0, at).split('\n').length;
}

const FIXTURE = join(__dirname, '../../../../../tools/fixtures/vllm-src');
const fixtureFile = (path: string) => readFileSync(join(FIXTURE, path), 'utf8');

describe('commitProfile', () => {
  it('reads vLLM v0.16.0 as the isa-variants family that asks cpuinfo for x86 and Arm, with its six VLLM_CPU_* switches', () => {
    expect(commitProfile({ cmake: V0_16_0_CPU_EXTENSION, setupPy: V0_16_0_SETUP_PY, where: 'v0.16.0' })).toEqual({
      family: 'isa-variants',
      reads: {
        'cmake/cpu_extension.cmake': [
          'ACL_ROOT_DIR',
          'FETCHCONTENT_SOURCE_DIR_ONEDNN',
          'VLLM_CPU_AMXBF16',
          'VLLM_CPU_AVX2',
          'VLLM_CPU_AVX512',
          'VLLM_CPU_AVX512BF16',
          'VLLM_CPU_AVX512VNNI',
          'VLLM_CPU_DISABLE_AVX512',
        ],
        // os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"] = … is a write, not a read.
        'setup.py': ['CMAKE_ARGS', 'CMAKE_BUILD_TYPE', 'FETCHCONTENT_BASE_DIR', 'VLLM_TARGET_DEVICE', 'VLLM_VERSION_OVERRIDE'],
      },
      computedReads: [],
      cpuinfoArchs: ['x86_64', 'aarch64'],
      // Below GNU 12.3 each of the three is turned off with a warning, and the build goes on.
      compilerRequirements: [
        { compiler: 'GNU', minVersion: '12.3', effect: 'drops-isa', levels: ['avx512bf16'], arch: 'x86_64', line: lineOf(V0_16_0_CPU_EXTENSION, 'VERSION_GREATER_EQUAL 12.3', 0) },
        { compiler: 'GNU', minVersion: '12.3', effect: 'drops-isa', levels: ['avx512vnni'], arch: 'x86_64', line: lineOf(V0_16_0_CPU_EXTENSION, 'VERSION_GREATER_EQUAL 12.3', 1) },
        { compiler: 'GNU', minVersion: '12.3', effect: 'drops-isa', levels: ['amxbf16'], arch: 'x86_64', line: lineOf(V0_16_0_CPU_EXTENSION, 'VERSION_GREATER_EQUAL 12.3', 2) },
      ],
      dispatchLibraries: [],
    });
  });

  it('reads vLLM v0.34.0 as the unified family: only VLLM_CPU_X86 on x86, and cpuinfo asked for Arm only', () => {
    expect(commitProfile({ cmake: V0_34_0_CPU_EXTENSION, setupPy: V0_34_0_SETUP_PY, where: 'v0.34.0' })).toEqual({
      family: 'unified',
      reads: {
        'cmake/cpu_extension.cmake': ['ACL_ROOT_DIR', 'FETCHCONTENT_SOURCE_DIR_ONEDNN', 'VLLM_CPU_ARM_BF16', 'VLLM_CPU_ARM_I8MM', 'VLLM_CPU_RVV_BF16', 'VLLM_CPU_X86'],
        'setup.py': ['CMAKE_ARGS', 'FETCHCONTENT_BASE_DIR', 'GH_TOKEN', 'GITHUB_TOKEN', 'VLLM_MAIN_CUDA_VERSION', 'VLLM_TARGET_DEVICE', 'VLLM_VERSION_OVERRIDE'],
      },
      computedReads: [],
      cpuinfoArchs: ['aarch64'],
      // The x86 gate; the GCC 15 test beside it only adds a flag, so it is no requirement.
      compilerRequirements: [{ compiler: 'GNU', minVersion: '12.3', effect: 'fatal', levels: [], arch: 'x86_64', line: lineOf(V0_34_0_CPU_EXTENSION, 'VERSION_GREATER_EQUAL 12.3', 0) }],
      dispatchLibraries: ['_C', '_C_AVX512', '_C_AVX2'],
    });
  });

  it('reads vLLM v0.17.0 as the unified family too: _C and _C_AVX2 only (_C_AVX512 came later)', () => {
    const profile = commitProfile({ cmake: V0_17_0_CPU_EXTENSION, setupPy: undefined, where: 'v0.17.0' });
    expect(profile.family).toBe('unified');
    expect(profile.dispatchLibraries).toEqual(['_C', '_C_AVX2']);
    expect(profile.cpuinfoArchs).toEqual(['aarch64']);
  });

  it("reads the test fixture's own v0.16-shaped files like v0.16.0 (plus its host stand-ins), every variable by literal name", () => {
    const profile = commitProfile({ cmake: fixtureFile('cmake/cpu_extension.cmake'), setupPy: fixtureFile('setup.py'), where: 'fixture' });
    expect(profile.family).toBe('isa-variants');
    expect(profile.cpuinfoArchs).toEqual(['x86_64']);
    expect(profile.computedReads).toEqual([]);
    expect(profile.reads['cmake/cpu_extension.cmake']).toEqual([
      'VLLM_CPU_AMXBF16',
      'VLLM_CPU_AVX2',
      'VLLM_CPU_AVX512',
      'VLLM_CPU_AVX512BF16',
      'VLLM_CPU_AVX512VNNI',
      'VLLM_CPU_DISABLE_AVX512',
      'VLLM_FIXTURE_CPUINFO',
      'VLLM_FIXTURE_CXX_COMPILER_VERSION',
    ]);
    expect(profile.reads['setup.py']).toEqual(expect.arrayContaining(['CMAKE_ARGS', 'VLLM_TARGET_DEVICE']));
    // Its one test of a variable set from CMAKE_CXX_COMPILER_VERSION, whose warning names the level through ${LABEL}.
    expect(profile.compilerRequirements).toEqual([
      { compiler: 'GNU', minVersion: '12.3', effect: 'drops-isa', levels: ['avx512vnni', 'avx512bf16', 'amxbf16'], arch: 'x86_64', line: expect.any(Number) },
    ]);
  });
});

describe('compilerRequirements', () => {
  it('reads a VERSION_LESS test, an elseif, an enclosing aarch64 branch, and ignores a test without the GNU id or in a string', () => {
    const text = [
      'if (CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64")', // 1
      '  if (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)', // 2
      '    message(FATAL_ERROR "Arm needs gcc 13")',
      '  endif()',
      'elseif (X)',
      '  if (FOO)',
      '  elseif (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12.3)', // 7
      '  else()',
      '    message(WARNING "Disable AMX_BF16 ISA support, requires gcc/g++ >= 12.3")',
      '  endif()',
      'endif()',
      'if (CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 14)', // no GNU id
      '  message(FATAL_ERROR "x")',
      'endif()',
      'message(STATUS "if (CMAKE_CXX_COMPILER_ID STREQUAL \\"GNU\\" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 99) message(FATAL_ERROR)")',
    ].join('\n');
    expect(compilerRequirements(text)).toEqual([
      { compiler: 'GNU', minVersion: '13', effect: 'fatal', levels: [], arch: 'aarch64', line: 2 },
      { compiler: 'GNU', minVersion: '12.3', effect: 'drops-isa', levels: ['amxbf16'], arch: 'x86_64', line: 7 },
    ]);
  });

  it('takes a test whose failing branch neither stops nor drops a level for no requirement', () => {
    expect(compilerRequirements('if (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 15)\n  list(APPEND F "-fno-tree-pre")\nelse()\n  message(STATUS "old")\nendif()\n')).toEqual([]);
  });
});

describe('reading CMake and setup.py', () => {
  it('counts $ENV{X} and DEFINED ENV{X} as reads; set/unset(ENV{X}) as writes; a computed name apart; comments not at all', () => {
    const text = [
      'set(A $ENV{READ_A})',
      'if (DEFINED ENV{READ_B}) # and $ENV{IN_A_COMMENT}',
      'set(ENV{WRITTEN} "x")',
      'unset(ENV{UNSET})',
      'set(C "$ENV{${NAME_VAR}}")',
      'message(STATUS "# not a comment: $ENV{READ_IN_STRING}")',
      '#[[ a bracket comment: $ENV{BRACKETED}',
      ']]',
    ].join('\n');
    expect(cmakeEnvReads(text)).toEqual({ names: ['READ_A', 'READ_B', 'READ_IN_STRING'], computed: ['$ENV{${NAME_VAR}}'] });
  });

  it("takes setup.py's literal reads, envs.X included, and not its writes", () => {
    const text = ['a = os.environ["READ_A"]', 'os.environ["WRITTEN"] = a', 'if os.environ["READ_B"] == "1": pass', 'if "READ_C" not in os.environ: pass', 'envs.READ_D', 'envs.is_set("READ_E")'].join('\n');
    expect(setupPyEnvReads(text)).toEqual(['READ_A', 'READ_B', 'READ_C', 'READ_D', 'READ_E']);
  });

  it('does not take a flag named in a comment, or a file without the cpuinfo read, for a cpuinfo decision', () => {
    expect(cpuinfoArchitectures('# find_isa(${CPUINFO} "avx2" AVX2_FOUND) with /proc/cpuinfo\n')).toEqual([]);
    expect(cpuinfoArchitectures('find_isa(${CPUINFO} "avx2" AVX2_FOUND)\n')).toEqual([]);
  });

  it('refuses a file of neither family, and one with both shapes, naming the file and the two families', () => {
    expect(() => buildFamily('set(CPUINFO "")\n', 'cmake/cpu_extension.cmake at 0123456789ab')).toThrow(SourceError);
    expect(() => buildFamily('set(CPUINFO "")\n', 'cmake/cpu_extension.cmake at 0123456789ab')).toThrow(
      /cmake\/cpu_extension\.cmake at 0123456789ab .*neither .*"isa-variants".*"unified"/,
    );
    expect(() => buildFamily(`${V0_16_0_CPU_EXTENSION}\n${V0_34_0_CPU_EXTENSION}`, 'both')).toThrow(/both decides the x86 ISA from \/proc\/cpuinfo/);
  });
});
