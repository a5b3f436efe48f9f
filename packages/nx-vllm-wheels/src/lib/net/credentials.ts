/** A user and password for HTTP Basic auth, percent-decoded from a URL's `user:password@`. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * `url` without its `user:password@` and those credentials, when it has any (else `url` unchanged).
 * fetch refuses a URL with credentials ("Request cannot be constructed from a URL that includes
 * credentials"), and a URL without them is safe to print.
 */
export function splitUrlCredentials(url: string): { url: string; credentials?: BasicCredentials } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  if (!u.username && !u.password) return { url };
  const credentials = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  return { url: u.href, credentials };
}

/** `url` without its `user:password@` (unchanged when it has none). */
export function withoutCredentials(url: string): string {
  return splitUrlCredentials(url).url;
}

/** The `Authorization` (or `Proxy-Authorization`) header value for Basic auth. */
export function basicAuthorization(credentials: BasicCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
