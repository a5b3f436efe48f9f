import { wheelConfigSchema } from '../../config';
import { V0_16_0_CPU_EXTENSION, V0_16_0_SETUP_PY, V0_17_0_CPU_EXTENSION, V0_34_0_CPU_EXTENSION, V0_34_0_SETUP_PY } from '../../test-support/upstream-vllm';
import { ConfigError } from '../errors';
import { armLevelEnv, cmakeTrue } from './arm-level';
import { commitProfile } from './commit-profile';

const v016 = commitProfile({ cmake: V0_16_0_CPU_EXTENSION, setupPy: V0_16_0_SETUP_PY, where: 'v0.16.0' });
const v017 = commitProfile({ cmake: V0_17_0_CPU_EXTENSION, setupPy: V0_34_0_SETUP_PY, where: 'v0.17.0' });
const v034 = commitProfile({ cmake: V0_34_0_CPU_EXTENSION, setupPy: V0_34_0_SETUP_PY, where: 'v0.34.0' });
const at = { file: 'packages/vllm-0.34/vllm-cpu-aarch64/wheel.json', commit: '62d4bc3c7aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' };
const arm = (isa: string, env: Record<string, string> = {}, pinIsa = true) => wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: 'aarch64', isa, env, pinIsa });

describe('cmakeTrue', () => {
  it("is CMake's if(<variable>): the false constants, case-insensitive, else true", () => {
    for (const v of ['', '0', 'off', 'OFF', 'No', 'false', 'n', 'IGNORE', 'NOTFOUND', 'ACL-NOTFOUND']) expect([v, cmakeTrue(v)]).toEqual([v, false]);
    for (const v of ['1', 'ON', 'yes', 'TRUE', 'y', '2', 'anything']) expect([v, cmakeTrue(v)]).toEqual([v, true]);
  });
});

describe('armLevelEnv', () => {
  it('sets VLLM_CPU_ARM_BF16 from bf16 up and VLLM_CPU_ARM_I8MM from i8mm up, as far as the commit reads them', () => {
    expect(['armv8', 'dotprod', 'bf16', 'i8mm', 'sve', 'sve2'].map((isa) => armLevelEnv(v034, arm(isa), at))).toEqual([
      {},
      {},
      { VLLM_CPU_ARM_BF16: '1' },
      { VLLM_CPU_ARM_BF16: '1', VLLM_CPU_ARM_I8MM: '1' },
      { VLLM_CPU_ARM_BF16: '1', VLLM_CPU_ARM_I8MM: '1' },
      { VLLM_CPU_ARM_BF16: '1', VLLM_CPU_ARM_I8MM: '1' },
    ]);
    // 0.17.0 reads VLLM_CPU_ARM_BF16 only; 0.16.0 neither (its pinned cpuinfo alone decides).
    expect(armLevelEnv(v017, arm('i8mm'), at)).toEqual({ VLLM_CPU_ARM_BF16: '1' });
    expect(armLevelEnv(v016, arm('i8mm'), at)).toEqual({});
  });

  it('leaves x86_64 and "pinIsa": false alone', () => {
    expect(armLevelEnv(v034, wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx2' }), at)).toEqual({});
    expect(armLevelEnv(v034, arm('dotprod', { VLLM_CPU_ARM_BF16: '1' }, false), at)).toEqual({});
  });

  it('refuses a wheel.json value that contradicts the level, naming the file and every field; agreeing values are fine', () => {
    expect(armLevelEnv(v034, arm('dotprod', { VLLM_CPU_ARM_BF16: '0', VLLM_CPU_ARM_I8MM: 'OFF' }), at)).toEqual({});
    expect(armLevelEnv(v034, arm('i8mm', { VLLM_CPU_ARM_BF16: 'ON' }), at)).toEqual({ VLLM_CPU_ARM_BF16: '1', VLLM_CPU_ARM_I8MM: '1' });
    const up = () => armLevelEnv(v034, arm('dotprod', { VLLM_CPU_ARM_BF16: '1', VLLM_CPU_ARM_I8MM: 'yes' }), at);
    expect(up).toThrow(ConfigError);
    expect(up).toThrow(
      [
        'packages/vllm-0.34/vllm-cpu-aarch64/wheel.json is invalid for vLLM 62d4bc3c7aaa with "pinIsa": true:',
        '  - env.VLLM_CPU_ARM_BF16: "1" turns BF16 on, which isa "dotprod" does not have: leave it out (the plugin sets it from isa), or declare isa "bf16" or above',
        '  - env.VLLM_CPU_ARM_I8MM: "yes" turns I8MM on, which isa "dotprod" does not have: leave it out (the plugin sets it from isa), or declare isa "i8mm" or above',
      ].join('\n'),
    );
    expect(() => armLevelEnv(v034, arm('sve', { VLLM_CPU_ARM_I8MM: '0' }), at)).toThrow('  - env.VLLM_CPU_ARM_I8MM: "0" turns I8MM off, which isa "sve" has: leave it out (the plugin sets it from isa)');
  });
});
