import type { WheelConfig } from '../../config';
import { ConfigError } from '../errors';
import { ARM_LEVEL_VARIABLES, levelAtLeast } from '../isa/model';
import { CPU_EXTENSION_CMAKE, type CommitProfile } from './commit-profile';

/**
 * CMake's false constants (`if(<variable>)`): anything else a variable holds is true. vLLM tests
 * VLLM_CPU_ARM_BF16 / _I8MM this way (`set(ENABLE_ARM_BF16 $ENV{VLLM_CPU_ARM_BF16})`, `if (ENABLE_ARM_BF16)`).
 */
export function cmakeTrue(value: string): boolean {
  const v = value.trim().toUpperCase();
  return !(v === '' || v === '0' || v === 'OFF' || v === 'NO' || v === 'FALSE' || v === 'N' || v === 'IGNORE' || v === 'NOTFOUND' || v.endsWith('-NOTFOUND'));
}

/**
 * The VLLM_CPU_ARM_* variables an aarch64 build with the ISA pin sets from its level: vLLM turns BF16 /
 * I8MM on when the host's cpuinfo has them OR the variable is CMake-true, so the pinned cpuinfo alone
 * would not stop a wheel.json `VLLM_CPU_ARM_BF16: "1"` from putting BF16 into a dotprod wheel. Each
 * variable the commit reads is set to "1" when the level has its extension; a wheel.json value that says
 * otherwise is a ConfigError naming the field. Nothing for x86_64 or with "pinIsa": false (the user's
 * env then decides, as without the plugin).
 */
export function armLevelEnv(profile: CommitProfile, variant: Pick<WheelConfig, 'arch' | 'isa' | 'env' | 'pinIsa'>, where: { file: string; commit: string }): Record<string, string> {
  if (variant.arch !== 'aarch64' || !variant.pinIsa) return {};
  const reads = new Set(profile.reads[CPU_EXTENSION_CMAKE]);
  const set: Record<string, string> = {};
  const problems: string[] = [];
  for (const { variable, level } of ARM_LEVEL_VARIABLES) {
    if (!reads.has(variable)) continue;
    const on = levelAtLeast(variant.isa, level);
    const given = variant.env[variable];
    if (given !== undefined && cmakeTrue(given) !== on) {
      problems.push(
        on
          ? `  - env.${variable}: ${JSON.stringify(given)} turns ${level.toUpperCase()} off, which isa "${variant.isa}" has: leave it out (the plugin sets it from isa)`
          : `  - env.${variable}: ${JSON.stringify(given)} turns ${level.toUpperCase()} on, which isa "${variant.isa}" does not have: leave it out (the plugin sets it from isa), or declare isa "${level}" or above`,
      );
    }
    if (on) set[variable] = '1';
  }
  if (problems.length) {
    throw new ConfigError(`${where.file} is invalid for vLLM ${where.commit.slice(0, 12)} with "pinIsa": true:\n${problems.join('\n')}`);
  }
  return set;
}
