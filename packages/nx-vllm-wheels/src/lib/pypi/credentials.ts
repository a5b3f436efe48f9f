/** The environment variables an upload token is read from, first match wins (the seed script used PYPI_TOKEN). */
export const TOKEN_VARIABLES = ['PYPI_TOKEN', 'TWINE_PASSWORD', 'UV_PUBLISH_TOKEN'] as const;
export type TokenVariable = (typeof TOKEN_VARIABLES)[number];

export interface UploadCredentials {
  readonly username: string;
  /** The token (or password): passed to twine by environment only, never printed. */
  readonly password: string;
  /** Which variable it came from (safe to print). */
  readonly source: TokenVariable;
}

export interface CredentialsLookup {
  readonly credentials?: UploadCredentials;
  /** Other token variables that are set to a different value and are not used (names only). */
  readonly ignored: readonly TokenVariable[];
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
    '(a PyPI API token, "pypi-…"; the user is __token__ unless TWINE_USERNAME is set). Tokens are never read from files or arguments.'
  );
}
