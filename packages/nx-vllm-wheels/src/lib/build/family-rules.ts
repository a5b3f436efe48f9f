import type { WheelConfig } from '../../config';
import { ConfigError } from '../errors';
import { UNIFIED_X86_BASELINE } from '../isa/model';
import type { CommitProfile } from './commit-profile';

/**
 * wheel.json rules that depend on the commit's build family, so they cannot live in the schema (which
 * knows no commit), for x86_64. isa-variants (vLLM <= 0.16): the `isa` and VLLM_CPU_DISABLE_AVX512 must
 * agree, or the build host decides. unified (vLLM >= 0.17): one x86 wheel whose libraries carry the higher
 * levels under their dispatch ceilings, so its `isa` is the baseline every library but those stays at.
 */
export function checkFamilyRules(profile: CommitProfile, variant: Pick<WheelConfig, 'arch' | 'isa' | 'env'>, where: { file: string; commit: string }): void {
  // Both families build one aarch64 wheel whose level the pinned cpuinfo and VLLM_CPU_ARM_* decide (arm-level.ts).
  if (variant.arch !== 'x86_64') return;
  const at = `vLLM ${where.commit.slice(0, 12)} (${profile.family} build)`;
  if (profile.family === 'unified') {
    if (variant.arch === 'x86_64' && variant.isa !== UNIFIED_X86_BASELINE) {
      throw new ConfigError(
        `${where.file} is invalid for ${at}:\n  - isa: must be "${UNIFIED_X86_BASELINE}" (got "${variant.isa}"): this commit builds one x86_64 wheel whose _C and _C_AVX512 carry the higher levels and are chosen at run time; its isa is the baseline the rest of the wheel stays at. For a wheel limited to ${variant.isa}, lock a vLLM <= 0.16 source.`,
      );
    }
    return;
  }
  const disabled = variant.env.VLLM_CPU_DISABLE_AVX512 === 'true';
  if (variant.isa === 'avx2' && !disabled) {
    const state = variant.env.VLLM_CPU_DISABLE_AVX512 === undefined ? 'is required and must be' : 'must be';
    throw new ConfigError(`${where.file} is invalid for ${at}:\n  - env.VLLM_CPU_DISABLE_AVX512: ${state} "true" when isa is "avx2", or the build host may compile AVX-512 into it`);
  }
  if (variant.isa !== 'avx2' && disabled) {
    throw new ConfigError(`${where.file} is invalid for ${at}:\n  - env.VLLM_CPU_DISABLE_AVX512: must not be "true" when isa is "${variant.isa}": that would build an AVX2 wheel`);
  }
}
