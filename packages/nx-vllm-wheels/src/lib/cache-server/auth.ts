import { createHash, timingSafeEqual } from 'node:crypto';

export type Access = 'read-write' | 'read-only';

export interface CacheTokens {
  /** May GET and PUT. */
  readWrite: readonly string[];
  /** May only GET. */
  readOnly: readonly string[];
}

/**
 * Decides what a request's `Authorization` header allows. Tokens are kept only as SHA-256 digests and
 * compared with `timingSafeEqual` against every configured token, with no early exit, so the time taken
 * says nothing about which token or how much of it matched.
 */
export interface Authenticator {
  /** `undefined`: no bearer token, or not one of ours (401). */
  authenticate(authorization: string | undefined): Access | undefined;
  readonly counts: { readWrite: number; readOnly: number };
}

export function createAuthenticator(tokens: CacheTokens): Authenticator {
  const entries: { digest: Buffer; access: Access }[] = [
    ...tokens.readWrite.map((t) => ({ digest: digest(t), access: 'read-write' as const })),
    ...tokens.readOnly.map((t) => ({ digest: digest(t), access: 'read-only' as const })),
  ];
  return {
    counts: { readWrite: tokens.readWrite.length, readOnly: tokens.readOnly.length },
    authenticate(authorization) {
      const token = bearerToken(authorization);
      if (token === undefined) return undefined;
      const presented = digest(token);
      let readWrite = false;
      let readOnly = false;
      for (const entry of entries) {
        const match = timingSafeEqual(presented, entry.digest);
        if (entry.access === 'read-write') readWrite = readWrite || match;
        else readOnly = readOnly || match;
      }
      return readWrite ? 'read-write' : readOnly ? 'read-only' : undefined;
    },
  };
}

/** The token of `Bearer <token>` (scheme case-insensitive, as RFC 6750 says); anything else is none. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return m ? m[1] : undefined;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
