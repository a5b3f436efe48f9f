import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { V0_16_0_THIRD_PARTY, V0_34_0_THIRD_PARTY } from '../../test-support/upstream-third-party';
import { V0_34_0_CPU_EXTENSION } from '../../test-support/upstream-vllm';
import { pinsForArch, readThirdPartySources } from './third-party';

const ONEDNN = 'https://github.com/oneapi-src/oneDNN.git';
const ACL = 'https://github.com/ARM-software/ComputeLibrary.git';
const ACL_PIN = { name: 'arm_compute', repository: ACL, ref: 'v52.6.0', archs: ['aarch64'], variable: 'ACL_ROOT_DIR', sharing: 'per-build' };

describe('readThirdPartySources', () => {
  it('reads vLLM v0.16.0: ACL v52.6.0 for Arm (built in place), oneDNN v3.10 for x86 (AVX-512 builds) and Arm', () => {
    expect(readThirdPartySources(V0_16_0_THIRD_PARTY)).toEqual({
      pins: [
        { ...ACL_PIN, line: 7 },
        { name: 'oneDNN', repository: ONEDNN, ref: 'v3.10', archs: ['x86_64', 'aarch64'], variable: 'FETCHCONTENT_SOURCE_DIR_ONEDNN', sharing: 'shared', line: 29 },
      ],
      unmirrored: [],
    });
  });

  it('reads vLLM v0.34.0: oneDNN v3.13 for x86, a pinned oneDNN commit and ACL for Arm', () => {
    const reading = readThirdPartySources(V0_34_0_THIRD_PARTY);
    expect(reading.unmirrored).toEqual([]);
    expect(reading.pins.map(({ line: _, ...pin }) => pin)).toEqual([
      ACL_PIN,
      { name: 'oneDNN', repository: ONEDNN, ref: '9c5be1cc59e368aebf0909e6cf20f981ea61462a', archs: ['aarch64'], variable: 'FETCHCONTENT_SOURCE_DIR_ONEDNN', sharing: 'shared' },
      { name: 'oneDNN', repository: ONEDNN, ref: 'v3.13', archs: ['x86_64'], variable: 'FETCHCONTENT_SOURCE_DIR_ONEDNN', sharing: 'shared' },
    ]);
    expect(pinsForArch(reading, 'x86_64').pins.map((p) => `${p.name} ${p.ref}`)).toEqual(['oneDNN v3.13']);
    expect(pinsForArch(reading, 'aarch64').pins.map((p) => `${p.name} ${p.ref}`)).toEqual(['arm_compute v52.6.0', 'oneDNN 9c5be1cc59e368aebf0909e6cf20f981ea61462a']);
    expect(pinsForArch(reading, 'ppc64le')).toEqual({ pins: [], unmirrored: [] });
  });

  it('finds nothing to mirror in a file that downloads nothing (the fixture today, the other parts of v0.34.0)', () => {
    const fixture = readFileSync(join(__dirname, '../../../../../tools/fixtures/vllm-src/cmake/cpu_extension.cmake'), 'utf8');
    expect(readThirdPartySources(fixture)).toEqual({ pins: [], unmirrored: [] });
    expect(readThirdPartySources(V0_34_0_CPU_EXTENSION)).toEqual({ pins: [], unmirrored: [] });
    expect(readThirdPartySources('')).toEqual({ pins: [], unmirrored: [] });
  });

  it('ignores a download in a comment, and takes the line of the call', () => {
    const text = [
      '# FetchContent_Declare(old GIT_REPOSITORY https://example.com/old.git GIT_TAG v1)',
      '#[[ FetchContent_Declare(older GIT_REPOSITORY https://example.com/older.git GIT_TAG v0) ]]',
      'if(IS_DIRECTORY "$ENV{DEP_DIR}")',
      'else()',
      '  FetchContent_Populate(dep GIT_REPOSITORY "https://example.com/dep.git" # the repository',
      '    GIT_TAG v2)',
      'endif()',
    ].join('\n');
    expect(readThirdPartySources(text).pins).toEqual([
      { name: 'dep', repository: 'https://example.com/dep.git', ref: 'v2', archs: ['x86_64', 'aarch64'], variable: 'DEP_DIR', sharing: 'per-build', line: 5 },
    ]);
  });

  it('decides the architecture from the CPU detection variables and CMAKE_SYSTEM_PROCESSOR', () => {
    const text = (condition: string) => `if(${condition})\n  if(FETCHCONTENT_SOURCE_DIR_DEP)\n  else()\n    FetchContent_Declare(dep GIT_REPOSITORY https://example.com/dep.git GIT_TAG v1)\n  endif()\nendif()`;
    const archs = (condition: string) => readThirdPartySources(`set(FETCHCONTENT_SOURCE_DIR_DEP "$ENV{FETCHCONTENT_SOURCE_DIR_DEP}" CACHE PATH "")\n${text(condition)}`).pins[0]?.archs;
    expect(archs('CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64"')).toEqual(['x86_64']);
    expect(archs('CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64"')).toEqual(['aarch64']);
    expect(archs('NOT ASIMD_FOUND')).toEqual(['x86_64']);
    expect(archs('AVX2_FOUND OR ARM_BF16_FOUND')).toEqual(['x86_64', 'aarch64']);
    expect(archs('POWER10_FOUND OR S390_FOUND OR APPLE_SILICON_FOUND')).toBeUndefined();
    expect(archs('SOME_OPTION')).toEqual(['x86_64', 'aarch64']);
  });

  it('names each download it cannot mirror, and why; the build downloads those itself', () => {
    const text = [
      'set(ONEDNN_TAG v3.13)',
      'set(OTHER_TAG $ENV{OTHER_TAG})',
      'set(ENABLE_X86_ISA $ENV{VLLM_CPU_X86})',
      'FetchContent_Declare(bare GIT_REPOSITORY https://example.com/bare.git GIT_TAG v1)',
      'if(ENABLE_X86_ISA)',
      'else()',
      '  FetchContent_Declare(switched GIT_REPOSITORY https://example.com/switched.git GIT_TAG v1)',
      'endif()',
      'if(DEFINED ENV{A_DIR} AND IS_DIRECTORY "$ENV{A_DIR}")',
      'elseif(EXISTS "$ENV{B_DIR}")',
      'else()',
      '  FetchContent_Declare(two GIT_REPOSITORY https://example.com/two.git GIT_TAG v1)',
      '  FetchContent_Declare(computed GIT_REPOSITORY https://example.com/computed.git GIT_TAG ${OTHER_TAG})',
      '  FetchContent_Declare(tarball URL https://example.com/tarball.tar.gz)',
      'endif()',
      'if(DEFINED ENV{SWITCH})',
      'else()',
      '  FetchContent_Declare(defined GIT_REPOSITORY https://example.com/defined.git GIT_TAG v1)',
      'endif()',
      'if(NOT IS_DIRECTORY "$ENV{C_DIR}")',
      '  FetchContent_Declare(untagged GIT_REPOSITORY https://example.com/untagged.git)',
      '  FetchContent_Declare(literal GIT_REPOSITORY https://example.com/literal.git GIT_TAG ${ONEDNN_TAG})',
      'endif()',
    ].join('\n');
    const { pins, unmirrored } = readThirdPartySources(text);
    expect(unmirrored).toEqual([
      { name: 'bare', line: 4, why: 'no environment variable replaces the download' },
      // VLLM_CPU_X86 is a switch, not a directory: never set to a checkout.
      { name: 'switched', line: 7, why: 'no environment variable replaces the download' },
      { name: 'two', line: 12, why: 'several variables decide whether it is downloaded (A_DIR, B_DIR)' },
      { name: 'computed', line: 13, why: 'its GIT_REPOSITORY or GIT_TAG is computed' },
      { name: 'tarball', line: 14, why: 'it downloads a URL, not a git repository' },
      // A variable only tested for being set may be a switch: not taken for a directory.
      { name: 'defined', line: 18, why: 'no environment variable replaces the download' },
      { name: 'untagged', line: 21, why: 'it has no GIT_TAG (it follows the default branch)' },
      // `if(NOT IS_DIRECTORY …)` downloads in its if branch; there is no else to skip it from.
      { name: 'literal', line: 22, why: 'no environment variable replaces the download' },
    ]);
    expect(pins).toEqual([]);
  });

  it('resolves a GIT_TAG set once to a literal', () => {
    const text = 'set(DEP_TAG v3.13)\nif(EXISTS "$ENV{DEP_DIR}")\nelse()\n  FetchContent_Declare(dep GIT_REPOSITORY https://example.com/dep.git GIT_TAG ${DEP_TAG})\nendif()';
    expect(readThirdPartySources(text).pins.map((p) => p.ref)).toEqual(['v3.13']);
  });
});

describe('pinsForArch', () => {
  it('leaves a name pinned two ways under conditions it cannot decide to the build', () => {
    const text = [
      'set(FETCHCONTENT_SOURCE_DIR_ONEDNN "$ENV{FETCHCONTENT_SOURCE_DIR_ONEDNN}" CACHE PATH "")',
      'if(FETCHCONTENT_SOURCE_DIR_ONEDNN)',
      'elseif(USE_NEW_ONEDNN)',
      '  FetchContent_Declare(oneDNN GIT_REPOSITORY https://github.com/oneapi-src/oneDNN.git GIT_TAG v3.13)',
      'else()',
      '  FetchContent_Declare(oneDNN GIT_REPOSITORY https://github.com/oneapi-src/oneDNN.git GIT_TAG v3.10)',
      'endif()',
    ].join('\n');
    expect(pinsForArch(readThirdPartySources(text), 'x86_64')).toEqual({
      pins: [],
      unmirrored: [{ name: 'oneDNN', line: 4, why: 'it is pinned 2 ways (v3.13 at line 4, v3.10 at line 6) under conditions that do not say which one x86_64 uses' }],
    });
  });
});
