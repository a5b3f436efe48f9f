import { WheelError } from '../errors';
import { versionProblem } from './names';

/**
 * PEP 440 order of normalized versions (the form wheel file names carry), as pip and uv sort them
 * (pypa/packaging `_cmpkey`): epoch, release without trailing zeros, then a dev-only release before
 * its pre-releases, pre-releases (a < b < rc) before the release, post-releases after it, `.devN` before
 * what it develops, and a local label above the same public version.
 */
export function compareVersions(a: string, b: string): number {
  const ka = sortKey(a);
  const kb = sortKey(b);
  for (let i = 0; i < ka.length; i++) {
    const d = compareKeyPart(ka[i], kb[i]);
    if (d !== 0) return d;
  }
  return 0;
}

type KeyPart = number | readonly KeyPart[] | string;

const VERSION = /^(?:(\d+)!)?(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?(?:\+([a-z0-9]+(?:\.[a-z0-9]+)*))?$/;
const PHASES = { a: 0, b: 1, rc: 2 } as const;

function sortKey(version: string): KeyPart[] {
  const m = VERSION.exec(version);
  const problem = versionProblem(version);
  if (!m || problem) throw new WheelError(`Cannot order versions: ${problem ?? JSON.stringify(version)}`);
  const [, epoch, release, phase, preN, post, dev, local] = m;
  const numbers = release.split('.').map(Number);
  while (numbers.length > 1 && numbers[numbers.length - 1] === 0) numbers.pop();
  // Infinity / -Infinity stand for packaging's Infinity / NegativeInfinity sentinels.
  const pre: KeyPart =
    phase !== undefined ? [PHASES[phase as keyof typeof PHASES], Number(preN)] : post === undefined && dev !== undefined ? [-Infinity] : [Infinity];
  const localKey: KeyPart = local === undefined ? [[-Infinity]] : local.split('.').map((s) => (/^\d+$/.test(s) ? [Number(s), ''] : [-Infinity, s]));
  return [Number(epoch ?? 0), numbers, pre, post === undefined ? -Infinity : Number(post), dev === undefined ? Infinity : Number(dev), localKey];
}

function compareKeyPart(a: KeyPart, b: KeyPart): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = compareKeyPart(a[i], b[i]);
      if (d !== 0) return d;
    }
    return Math.sign(a.length - b.length);
  }
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  // A number against an array cannot happen at the same position of two keys; strings sort after numbers.
  return typeof a === 'string' ? 1 : -1;
}
