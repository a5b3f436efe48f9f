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
};

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
  it('is the base env minus output-changing variables, plus what the plugin sets', () => {
    expect(buildEnv(input())).toEqual({
      PATH: '/cache/venvs/py3.11.7-abc/bin:/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/builder',
      MAX_JOBS: '3',
      LANG: 'C.UTF-8',
      UNSET_BY_CALLER: undefined,
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

  it('removes every inherited VLLM_CPU_* and compiler/CMake/Python variable', () => {
    const env = buildEnv(input({ variantEnv: {} }));
    for (const name of ['VLLM_CPU_AVX512BF16', 'VLLM_CPU_DISABLE_AVX512', 'VLLM_CPU_SOMETHING_NEW', 'VLLM_VERSION_OVERRIDE', 'VLLM_USE_PRECOMPILED', 'CMAKE_GENERATOR', 'CMAKE_PREFIX_PATH', 'CPPFLAGS', 'SETUPTOOLS_SCM_PRETEND_VERSION', 'CMAKE_ARGS', 'CFLAGS', 'CXXFLAGS', 'LDFLAGS', 'PYTHONPATH', 'PYTHONHOME']) {
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
    expect(removed.sort()).toEqual(
      ['VLLM_CPU_AVX512BF16', 'VLLM_CPU_SOMETHING_NEW', 'VLLM_VERSION_OVERRIDE', 'VLLM_USE_PRECOMPILED', 'CMAKE_GENERATOR', 'CMAKE_PREFIX_PATH', 'CPPFLAGS', 'SETUPTOOLS_SCM_PRETEND_VERSION', 'CMAKE_ARGS', 'CFLAGS', 'CXXFLAGS', 'LDFLAGS', 'PYTHONPATH', 'PYTHONHOME'].sort(),
    );
    expect(shown).toMatchObject({ VLLM_TARGET_DEVICE: 'cpu', VLLM_CPU_DISABLE_AVX512: 'false', CMAKE_BUILD_TYPE: 'Release' });
  });
});
