import { WheelError } from '../errors';

export interface VersionPolicy {
  local: 'strip' | 'keep';
  suffix?: string;
  /** `commit-time`: a nightly, `<base>.dev<YYYYMMDDHHMM>` from the commit's committer date (UTC). */
  dev?: 'commit-time';
}

/** What a version rule may need besides the raw version: the commit's committer time (seconds since the epoch). */
export interface VersionInputs {
  commitTime?: number;
  /** Where commitTime was read from, for the error when it is missing. */
  commitTimeSource?: string;
}

/**
 * Applies wheel.json's version policy to the raw build's version: drop the local label (`+cpu`,
 * `+git…`: PyPI refuses local versions) and append `.postN`/`.devN`. "0.16.0+cpu" -> "0.16.0.post1".
 * With `dev: "commit-time"` setuptools-scm's `.devN` (the distance from the last tag, which two
 * branches can share) is replaced by the commit's time: "0.30.1.dev123+g62d4bc3c7.cpu" committed
 * 2026-09-23 11:58 UTC -> "0.30.1.dev202609231158". A tagged commit has no `.devN`; it gets one.
 */
export function applyVersionPolicy(version: string, policy: VersionPolicy, inputs: VersionInputs = {}): string {
  const [publicPart, local] = version.split('+', 2);
  let out = publicPart;
  if (policy.dev === 'commit-time') {
    const { commitTime } = inputs;
    if (commitTime === undefined) {
      throw new WheelError(
        `wheel.json version.dev "commit-time" needs the commit's time, and ${inputs.commitTimeSource ?? 'the build'} does not record it ("sourceDateEpoch"). Rebuild the raw wheel (nx run <variant>:build --skip-nx-cache).`,
      );
    }
    out = `${out.replace(/\.dev\d+$/, '')}.dev${commitTimeStamp(commitTime)}`;
  }
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

/** `YYYYMMDDHHMM` of a time in seconds since the epoch, in UTC (the nightly's dev number). */
export function commitTimeStamp(epochSeconds: number): string {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds < 0) {
    throw new WheelError(`The commit time ${JSON.stringify(epochSeconds)} is not a non-negative whole number of seconds since 1970-01-01 UTC.`);
  }
  // toISOString is always UTC: 2026-09-23T11:58:07.000Z
  const iso = new Date(epochSeconds * 1000).toISOString();
  return iso.slice(0, 16).replace(/[-T:]/g, '');
}
