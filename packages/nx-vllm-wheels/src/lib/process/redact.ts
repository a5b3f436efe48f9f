/** Replaces every occurrence of each secret (of 4+ characters) with "***". */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) {
    if (s && s.length >= 4) out = out.split(s).join('***');
  }
  return out;
}

/**
 * `scheme://user:password@` and `http(s)://token@` in commands, paths, values and messages. The password
 * runs to the last `@` before the path, so an unencoded `@` in it is masked too.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*)(:[^\s/'"]*)?@/gi;

/**
 * Masks the password of every `scheme://user:password@host` (and the token of `https://token@host`)
 * in a text; `ssh://git@host` and `git@host:path` keep their user (not a secret).
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, (match: string, scheme: string, user: string, password: string | undefined) => {
    if (password !== undefined) return `${scheme}${user}:***@`;
    return /^https?:\/\/$/i.test(scheme) && user ? `${scheme}***@` : match;
  });
}
