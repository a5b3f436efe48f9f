import { ConfigError } from '../errors';
import { cmakeArgsDefines, devJobs, devPresets, presetsOrigin, presetsText, type DevPresetInput } from './cmake-presets';
import { buildEnv, describedEnv } from './env';
import { PINNED_CPU_FLAGS, PINNED_FLAGS_VARIABLE } from './isa-pin';

const SOURCE = '/cache/src/vllm-cpu-avx512';
const PYTHON = '/cache/venvs/abc/bin/python';

/** The presets for an env made by the build's own buildEnv, as `<variant>:dev` makes them. */
function presetsFor(variantEnv: Record<string, string>, extra: Partial<DevPresetInput> = {}, base: Record<string, string> = {}) {
  const thirdParty = { FETCHCONTENT_SOURCE_DIR_ONEDNN: '/cache/third-party/onednn/123' };
  const env = buildEnv({
    base: { PATH: '/usr/bin', HOME: '/home/u', MAX_JOBS: '3', CPATH: '/opt/include', ...base },
    variantEnv,
    device: 'cpu',
    venvPython: PYTHON,
    sourceDir: SOURCE,
    sourceDateEpoch: 1700000000,
    ccacheDir: '/cache/ccache',
    pinnedCpuFlags: PINNED_CPU_FLAGS.avx512,
    thirdPartySources: thirdParty,
    cmakeDefines: thirdParty,
  });
  return devPresets({
    name: 'vllm-cpu-avx512',
    description: 'd',
    env,
    setVariables: describedEnv(env, { ...variantEnv, ...thirdParty }),
    venvPython: PYTHON,
    launcher: '/usr/bin/ccache',
    jobs: 3,
    configFile: 'packages/vllm-cpu-avx512/wheel.json',
    ...extra,
  });
}

describe('devPresets', () => {
  const variantEnv = { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512VNNI: '0', CXX: '/usr/bin/g++-13', CC: '/usr/bin/gcc-13' };

  it("configures as vLLM's setup.py does: its cache variables, Ninja with a compile pool, ccache, the variant's -D options", () => {
    const presets = presetsFor({ ...variantEnv, CMAKE_ARGS: '-DVLLM_EXTRA=1 -DSOME_PATH:PATH=/x' });
    const [configure] = presets.configurePresets;
    expect(configure).toMatchObject({ name: 'vllm-cpu-avx512', generator: 'Ninja', binaryDir: '${sourceDir}/build/dev', installDir: '${sourceDir}' });
    expect(configure.cacheVariables).toEqual({
      CMAKE_BUILD_TYPE: 'Release',
      CMAKE_CXX_COMPILER_LAUNCHER: '/usr/bin/ccache',
      CMAKE_C_COMPILER_LAUNCHER: '/usr/bin/ccache',
      CMAKE_JOB_POOLS: { type: 'STRING', value: 'compile=3' },
      CMAKE_JOB_POOL_COMPILE: { type: 'STRING', value: 'compile' },
      FETCHCONTENT_BASE_DIR: '${sourceDir}/build/dev/.deps',
      // the plugin's -D after the variant's, as buildEnv appends it to CMAKE_ARGS
      FETCHCONTENT_SOURCE_DIR_ONEDNN: '/cache/third-party/onednn/123',
      SOME_PATH: { type: 'PATH', value: '/x' },
      VLLM_EXTRA: '1',
      VLLM_PYTHON_EXECUTABLE: PYTHON,
      VLLM_TARGET_DEVICE: 'cpu',
    });
    expect(presets.buildPresets).toEqual([{ name: 'vllm-cpu-avx512', configurePreset: 'vllm-cpu-avx512', jobs: 3 }]);
  });

  it("carries the build's variables into CMake's environment: flags, the ISA pin, the compiler, the third-party checkout, ccache; nothing of the caller's", () => {
    const { environment } = presetsFor(variantEnv).configurePresets[0];
    expect(environment).toEqual({
      CC: '/usr/bin/gcc-13',
      CXX: '/usr/bin/g++-13',
      CCACHE_BASEDIR: SOURCE,
      CCACHE_DIR: '/cache/ccache',
      CCACHE_NOHASHDIR: '1',
      CMAKE_BUILD_TYPE: 'Release',
      FETCHCONTENT_SOURCE_DIR_ONEDNN: '/cache/third-party/onednn/123',
      PATH: '/cache/venvs/abc/bin:$penv{PATH}',
      SOURCE_DATE_EPOCH: '1700000000',
      VIRTUAL_ENV: '/cache/venvs/abc',
      VLLM_CPU_AVX512VNNI: '0',
      VLLM_CPU_DISABLE_AVX512: 'false',
      VLLM_TARGET_DEVICE: 'cpu',
      [PINNED_FLAGS_VARIABLE]: PINNED_CPU_FLAGS.avx512,
    });
  });

  it("keeps a user's exported CCACHE_DIR, as the build does; without a launcher, no launcher variables", () => {
    const presets = presetsFor(variantEnv, { launcher: undefined }, { CCACHE_DIR: '/mine' });
    expect(presets.configurePresets[0].environment.CCACHE_DIR).toBe('/mine');
    expect(presets.configurePresets[0].cacheVariables).not.toHaveProperty('CMAKE_CXX_COMPILER_LAUNCHER');
  });

  it('is the same text for the same input (a second run changes nothing)', () => {
    expect(presetsText(presetsFor(variantEnv))).toBe(presetsText(presetsFor(variantEnv)));
  });
});

describe('cmakeArgsDefines', () => {
  it('splits on whitespace as setup.py does; a later -D wins', () => {
    expect(cmakeArgsDefines('  -DA=1   -DB:BOOL=ON -DA=2 ', 'w.json')).toEqual({ A: '2', B: { type: 'BOOL', value: 'ON' } });
    expect(cmakeArgsDefines(undefined, 'w.json')).toEqual({});
  });

  it('refuses an option a preset cannot carry, naming the file and the field', () => {
    expect(() => cmakeArgsDefines('-DA=1 -Wno-dev', 'packages/v/wheel.json')).toThrow(ConfigError);
    expect(() => cmakeArgsDefines('-DA=1 -Wno-dev', 'packages/v/wheel.json')).toThrow(/packages\/v\/wheel\.json: env\.CMAKE_ARGS: "-Wno-dev"/);
  });
});

describe('presetsOrigin', () => {
  const text = presetsText(presetsFor({}));

  it('knows its own file, however it is formatted', () => {
    expect(presetsOrigin(text)).toBe('generated');
    expect(presetsOrigin(JSON.stringify(JSON.parse(text)))).toBe('generated');
  });

  it('sees an edit by hand, and a file someone else wrote', () => {
    const edited = JSON.parse(text);
    edited.configurePresets[0].cacheVariables.CMAKE_BUILD_TYPE = 'Debug';
    expect(presetsOrigin(JSON.stringify(edited))).toBe('edited');
    expect(presetsOrigin('{"version": 3, "configurePresets": []}')).toBe('foreign');
    expect(presetsOrigin('not json')).toBe('foreign');
  });
});

describe('devJobs', () => {
  it('is MAX_JOBS when set, else every core; refuses what setup.py could not read', () => {
    expect(devJobs('4', 16)).toBe(4);
    expect(devJobs(undefined, 16)).toBe(16);
    expect(() => devJobs('lots', 16)).toThrow(/MAX_JOBS="lots".*positive whole number/);
  });
});
