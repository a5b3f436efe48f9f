import { WheelError } from '../errors';

/**
 * Distribution names, versions and wheel file names: PEP 503 normalization, PEP 508 name validity,
 * PEP 440 (normalized) versions and the PEP 427 / PEP 491 file name convention.
 */

/** PEP 508: ASCII letters and digits, with '.', '-', '_' inside. */
const VALID_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/**
 * A normalized PEP 440 version: the canonical public form `[N!]N(.N)*[{a|b|rc}N][.postN][.devN]`
 * (no leading zeros) and an optional local label of lowercase alphanumeric segments.
 */
const CANONICAL_VERSION =
  /^(?:[1-9][0-9]*!)?(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*(?:(?:a|b|rc)(?:0|[1-9][0-9]*))?(?:\.post(?:0|[1-9][0-9]*))?(?:\.dev(?:0|[1-9][0-9]*))?(?:\+[a-z0-9]+(?:\.[a-z0-9]+)*)?$/;

/** PEP 503: `re.sub(r"[-_.]+", "-", name).lower()`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

export function isValidName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** The name as it appears in wheel file names and .dist-info/.data directories: `re.sub(r"[-_.]+", "_", name).lower()`. */
export function escapeName(name: string): string {
  return name.replace(/[-_.]+/g, '_').toLowerCase();
}

export function isCanonicalVersion(version: string): boolean {
  return CANONICAL_VERSION.test(version);
}

/** Why a (display) distribution name is invalid, or undefined. */
export function nameProblem(name: string): string | undefined {
  return isValidName(name)
    ? undefined
    : `${JSON.stringify(name)} is not a valid distribution name (PEP 508: letters, digits, '.', '-' and '_', starting and ending with a letter or digit)`;
}

/** Why a version is not a normalized PEP 440 version, or undefined. */
export function versionProblem(version: string): string | undefined {
  return isCanonicalVersion(version)
    ? undefined
    : `${JSON.stringify(version)} is not a normalized PEP 440 version (like 1.2.3, 1.2.3rc1, 1.2.3.post1, 1.2.3.dev0, 1.2.3+cpu)`;
}

/** `{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl`; tags keep their compressed "a.b" form. */
export interface WheelFileName {
  /** As written in the file name (escaped). */
  readonly distribution: string;
  readonly version: string;
  /** Build tag: starts with a digit. */
  readonly build?: string;
  readonly pythonTag: string;
  readonly abiTag: string;
  readonly platformTag: string;
}

const TAG = /^[A-Za-z0-9_.]+$/;

/** Parses a wheel file name (a path's directory part is ignored). Throws WheelError saying what is wrong. */
export function parseWheelFileName(fileName: string): WheelFileName {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const fail = (why: string) => new WheelError(`${base} is not a valid wheel file name: ${why}`);
  if (!base.endsWith('.whl')) throw fail('it does not end with .whl');
  const parts = base.slice(0, -'.whl'.length).split('-');
  if (parts.length !== 5 && parts.length !== 6) {
    throw fail(`expected {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl, got ${parts.length} dash-separated parts`);
  }
  const [distribution, version] = parts;
  const [pythonTag, abiTag, platformTag] = parts.slice(-3);
  const build = parts.length === 6 ? parts[2] : undefined;
  if (!/^[A-Za-z0-9_.]+$/.test(distribution) || !isValidName(distribution)) throw fail(`distribution ${JSON.stringify(distribution)} is not a valid escaped name`);
  const badVersion = versionProblem(version);
  if (badVersion) throw fail(`version ${badVersion}`);
  if (build !== undefined && !/^[0-9][A-Za-z0-9_.]*$/.test(build)) throw fail(`build tag ${JSON.stringify(build)} must start with a digit`);
  for (const tag of [pythonTag, abiTag, platformTag]) if (!TAG.test(tag)) throw fail(`tag ${JSON.stringify(tag)} is not valid`);
  return { distribution, version, ...(build !== undefined && { build }), pythonTag, abiTag, platformTag };
}

/** The file name of a wheel; the distribution is escaped (it may be given in its display form). */
export function formatWheelFileName(name: WheelFileName): string {
  const build = name.build === undefined ? '' : `-${name.build}`;
  return `${escapeName(name.distribution)}-${name.version}${build}-${name.pythonTag}-${name.abiTag}-${name.platformTag}.whl`;
}

/** `<escaped name>-<version>.dist-info` */
export function distInfoDirName(distribution: string, version: string): string {
  return `${escapeName(distribution)}-${version}.dist-info`;
}

/** `<escaped name>-<version>.data` */
export function dataDirName(distribution: string, version: string): string {
  return `${escapeName(distribution)}-${version}.data`;
}

/**
 * Splits a `.dist-info` or `.data` directory name into name and version (the version is after the last
 * "-": escaped names and normalized versions hold none). Undefined when it has no such suffix or no "-".
 */
export function splitMetadataDirName(dir: string): { name: string; version: string; suffix: '.dist-info' | '.data' } | undefined {
  const suffix = dir.endsWith('.dist-info') ? '.dist-info' : dir.endsWith('.data') ? '.data' : undefined;
  if (!suffix) return undefined;
  const stem = dir.slice(0, -suffix.length);
  const dash = stem.lastIndexOf('-');
  if (dash <= 0) return undefined;
  return { name: stem.slice(0, dash), version: stem.slice(dash + 1), suffix };
}
