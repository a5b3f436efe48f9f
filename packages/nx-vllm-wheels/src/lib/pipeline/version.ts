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
    // PEP 440 allows N[.postN][.devN]: a suffix may not repeat its kind, and nothing may follow .devN.
    const existing = /\.(post|dev)\d+$/.exec(out);
    if (existing && (existing[1] === 'dev' || policy.suffix.startsWith(`.${existing[1]}`))) {
      throw new WheelError(`Version ${version} already ends in ${existing[0]}; wheel.json version.suffix ${policy.suffix} cannot be added.`);
    }
    out += policy.suffix;
  }
  if (policy.local === 'keep' && local) out += `+${local}`;
  return out;
}
