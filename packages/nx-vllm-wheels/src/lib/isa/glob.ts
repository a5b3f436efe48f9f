/**
 * Glob patterns over wheel member names ("/"-separated): `*` and `?` stay within one path segment,
 * `**` spans any number of segments (`**` + `/` also matches none), `[abc]` is a class; everything else is
 * literal. A pattern matches the whole name.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[' && pattern.indexOf(']', i + 2) > 0) {
      const close = pattern.indexOf(']', i + 2);
      const body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
      out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = close;
    } else {
      out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/** The first of `patterns` that matches `name`, or undefined. */
export function firstMatch(name: string, patterns: readonly { pattern: string; regexp: RegExp }[]): string | undefined {
  return patterns.find((p) => p.regexp.test(name))?.pattern;
}
