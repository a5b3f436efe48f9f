import { WheelError } from '../errors';

export interface VersionPolicy {
  local: 'strip' | 'keep';
  suffix?: string;
}

/**
 * Applies wheel.json's version policy to the raw build's version: drop the local label (`+cpu`,
 * `+git…`: PyPI refuses local versions) and append `.postN`/`.devN`. "0.16.0+cpu" -> "0.16.0.post1".
 */
export function applyVersionPolicy(version: string, policy: VersionPolicy): string {
  const [publicPart, local] = version.split('+', 2);
  let out = publicPart;
  if (policy.suffix) {
    if (/\.(post|dev)\d+$/.test(out) && policy.suffix.startsWith(out.match(/\.(post|dev)\d+$/)?.[0].replace(/\d+$/, '') ?? '\0')) {
      throw new WheelError(`Version ${version} already ends in ${out.match(/\.(post|dev)\d+$/)?.[0]}; wheel.json version.suffix ${policy.suffix} cannot be added.`);
    }
    out += policy.suffix;
  }
  if (policy.local === 'keep' && local) out += `+${local}`;
  return out;
}
