import { splitUrlCredentials, type BasicCredentials } from '../net';
import { redactUrlCredentials } from '../process';
import { PublishError } from './errors';

export type RepositoryKind = 'pypi' | 'testpypi' | 'other';

/** Where a wheel is uploaded, and the simple index that shows what is already there. */
export interface UploadTarget {
  /** The upload API (twine's --repository-url), without credentials: safe to print. */
  readonly uploadUrl: string;
  /** The PEP 503/691 simple index root, with a trailing "/", without credentials: safe to print. */
  readonly indexUrl: string;
  readonly kind: RepositoryKind;
  /** `user:password@` of the repository URL: the upload's credentials (before any token variable). */
  readonly uploadCredentials?: BasicCredentials;
  /** `user:password@` of the index URL: sent with every request to the index. */
  readonly indexCredentials?: BasicCredentials;
}

const KNOWN: Record<Exclude<RepositoryKind, 'other'>, { hosts: readonly string[]; index: string }> = {
  pypi: { hosts: ['upload.pypi.org', 'pypi.org'], index: 'https://pypi.org/simple/' },
  testpypi: { hosts: ['test.pypi.org'], index: 'https://test.pypi.org/simple/' },
};

function parseUrl(url: string, what: string): URL {
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  } catch {
    // reported below
  }
  throw new PublishError(`${what} ${JSON.stringify(redactUrlCredentials(url))} is not an http:// or https:// URL.`);
}

/**
 * The upload target of a repository URL. The index is derived for PyPI and TestPyPI, and for other
 * servers guessed as `simple/` beside the upload URL (pypiserver: `http://host/` -> `http://host/simple/`;
 * a trailing `legacy/` is dropped); `indexUrl` overrides it (devpi: `.../+simple/`).
 */
export function resolveUploadTarget(uploadUrl: string, indexUrl?: string): UploadTarget {
  const { url: uploadClean, credentials: uploadCredentials } = splitUrlCredentials(uploadUrl);
  const upload = parseUrl(uploadClean, 'The repository URL');
  const kind = (Object.keys(KNOWN) as (keyof typeof KNOWN)[]).find((k) => KNOWN[k].hosts.includes(upload.hostname)) ?? 'other';
  const { url: indexClean, credentials: indexCredentials } = indexUrl ? splitUrlCredentials(indexUrl) : { url: undefined, credentials: undefined };
  let index: string;
  if (indexClean) index = parseUrl(indexClean, 'The index URL').href;
  else if (kind !== 'other') index = KNOWN[kind].index;
  else index = `${upload.origin}${upload.pathname.replace(/\/+$/, '').replace(/\/legacy$/, '')}/simple/`;
  return {
    uploadUrl: upload.href,
    indexUrl: index.endsWith('/') ? index : `${index}/`,
    kind,
    ...(uploadCredentials && { uploadCredentials }),
    ...(indexCredentials && { indexCredentials }),
  };
}

/** PyPI and TestPyPI refuse the same things (local versions, linux_* tags, big files, bad metadata). */
export function hasPypiRules(target: UploadTarget): boolean {
  return target.kind !== 'other';
}

/** "PyPI", "TestPyPI" or the upload URL, for messages. */
export function targetLabel(target: UploadTarget): string {
  return target.kind === 'pypi' ? 'PyPI' : target.kind === 'testpypi' ? 'TestPyPI' : target.uploadUrl;
}
