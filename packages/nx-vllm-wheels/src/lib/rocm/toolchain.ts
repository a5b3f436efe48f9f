import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { ToolError } from '../errors';

/** Where ROCm is installed when ROCM_PATH is not set (as ROCm's own tools assume). */
export const DEFAULT_ROCM_PATH = '/opt/rocm';

export interface RocmToolchain {
  /** ROCM_PATH, or /opt/rocm. */
  readonly root: string;
  readonly hipcc?: string;
  /** `<root>/.info/version` (e.g. "7.1.0-38"), when there is one. */
  readonly version?: string;
  /** What is missing or wrong for a ROCm build of `rocmVersion`; empty when it can build. */
  readonly problems: readonly string[];
}

/**
 * Looks for the ROCm a build needs, without running anything: hipcc in ROCM_PATH (default /opt/rocm)
 * or on PATH, and ROCm's version file agreeing with rocm.json's "rocmVersion" (a wheel built against
 * another ROCm would be published under this environment's name).
 */
export function findRocmToolchain(env: Record<string, string | undefined>, rocmVersion: string): RocmToolchain {
  const root = resolve(env.ROCM_PATH || DEFAULT_ROCM_PATH);
  const hipcc = [join(root, 'bin', 'hipcc'), ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'hipcc'))].find(isExecutable);
  const version = readVersion(root);
  const problems: string[] = [];
  if (!hipcc) problems.push(`hipcc: not in ${join(root, 'bin')} (ROCM_PATH${env.ROCM_PATH ? '' : ' is not set; the default is ' + DEFAULT_ROCM_PATH}) nor on PATH`);
  if (!version) problems.push(`ROCm ${rocmVersion}: ${join(root, '.info', 'version')} does not exist`);
  else if (!sameRelease(version, rocmVersion)) problems.push(`ROCm ${rocmVersion}: ${join(root, '.info', 'version')} says ${version}`);
  return { root, ...(hipcc && { hipcc }), ...(version && { version }), problems };
}

/** Throws a ToolError saying what the ROCm build needs and where it looked, unless the toolchain is complete. */
export function requireRocmToolchain(found: RocmToolchain, rocmVersion: string, what: string): void {
  if (!found.problems.length) return;
  throw new ToolError(
    `${what} needs ROCm ${rocmVersion} with hipcc (a ROCm build machine: an AMD GPU runner or a ROCm container), and this machine lacks it:\n` +
      found.problems.map((p) => `  - ${p}`).join('\n') +
      `\nRun it where ROCm ${rocmVersion} is installed (set ROCM_PATH if it is not in ${DEFAULT_ROCM_PATH}); \`--dry-run\` shows what it would do.`,
  );
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readVersion(root: string): string | undefined {
  try {
    return readFileSync(join(root, '.info', 'version'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** "7.1.0-38" is ROCm "7.1" and "7.1.0"; not "7.1.1" nor "7.10". */
function sameRelease(installed: string, wanted: string): boolean {
  const have = installed.split(/[-+]/)[0].split('.');
  const want = wanted.split('.');
  return want.every((part, i) => Number(part) === Number(have[i] ?? '0'));
}
