/** The environment variables an upload token is read from, first match wins (the seed script used PYPI_TOKEN). */
export const TOKEN_VARIABLES = ['PYPI_TOKEN', 'TWINE_PASSWORD', 'UV_PUBLISH_TOKEN'] as const;
export type TokenVariable = (typeof TOKEN_VARIABLES)[number];

/** The source of credentials written in wheel.json's `publish.repositoryUrl` (`https://user:password@host/`). */
export const REPOSITORY_URL = 'the repository URL';

export interface UploadCredentials {
  readonly username: string;
  /** The token (or password): passed to twine by environment only, never printed. */
  readonly password: string;
  /** Which variable it came from, or the repository URL (safe to print). */
  readonly source: TokenVariable | typeof REPOSITORY_URL;
}

export interface CredentialsLookup {
  readonly credentials?: UploadCredentials;
  /** Other token variables that are set (to a different value, when a token variable is used) and are not used (names only). */
  readonly ignored: readonly TokenVariable[];
}

/** "token from PYPI_TOKEN" or "password from the repository URL", for messages. */
export function describeCredentials(credentials: UploadCredentials): string {
  return credentials.source === REPOSITORY_URL ? `password from ${REPOSITORY_URL}` : `token from ${credentials.source}`;
}

/**
 * The upload's credentials: the repository URL's `user:password@` when it has them (they name this
 * repository), else a token variable (a URL with only a user sets the user).
 */
export function uploadCredentials(urlCredentials: { username: string; password: string } | undefined, env: Record<string, string | undefined>): CredentialsLookup {
  if (urlCredentials?.password) {
    return { credentials: { ...urlCredentials, source: REPOSITORY_URL }, ignored: TOKEN_VARIABLES.filter((v) => (env[v] ?? '').trim() !== '') };
  }
  const lookup = credentialsFromEnv(env);
  if (!lookup.credentials || !urlCredentials?.username) return lookup;
  return { ...lookup, credentials: { ...lookup.credentials, username: urlCredentials.username } };
}

/** The upload credentials from the environment: user `__token__` (API tokens) unless TWINE_USERNAME says otherwise. */
export function credentialsFromEnv(env: Record<string, string | undefined>): CredentialsLookup {
  const set = TOKEN_VARIABLES.filter((v) => (env[v] ?? '').trim() !== '');
  if (!set.length) return { ignored: [] };
  const source = set[0];
  const password = (env[source] as string).trim();
  const username = (env.TWINE_USERNAME ?? '').trim() || '__token__';
  return { credentials: { username, password, source }, ignored: set.slice(1).filter((v) => (env[v] as string).trim() !== password) };
}

/** What to say when no token is set. */
export function missingTokenMessage(uploadUrl: string): string {
  return (
    `No upload token for ${uploadUrl}: set PYPI_TOKEN (or TWINE_PASSWORD, or UV_PUBLISH_TOKEN) in the environment of nx ` +
    '(a PyPI API token, "pypi-…"; the user is __token__ unless TWINE_USERNAME is set), or write a private server\'s user and password ' +
    'into wheel.json\'s "publish.repositoryUrl" (https://user:password@host/). Tokens are never read from other files or arguments.'
  );
}
