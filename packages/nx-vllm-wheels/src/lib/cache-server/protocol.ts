import { CacheServerError } from './errors';

/**
 * Nx's self-hosted remote cache API, "Nx custom remote cache specification." v1.0.0 (OpenAPI 3.0.0),
 * published at https://nx.dev/docs/kb/self-hosted-caching ("Build your own caching server"):
 *
 *   PUT /v1/cache/{hash}   "Upload a task output", security bearerToken, body application/octet-stream,
 *                          header Content-Length "The file size in bytes", required: true
 *     202 "Successfully uploaded the output"
 *     401 "Missing or invalid authentication token."                      (text/plain message)
 *     403 "Access forbidden. (e.g. read-only token used to write)"        (text/plain message)
 *     409 "Cannot override an existing record"
 *   GET /v1/cache/{hash}   "Download a task output", security bearerToken
 *     200 "Successfully retrieved cache artifact"                         (application/octet-stream)
 *     403 "Access forbidden"                                              (text/plain message)
 *     404 "The record was not found"
 *   securitySchemes.bearerToken: { type: http, scheme: bearer }
 *
 * What Nx's client actually does (nrwl/nx packages/nx/src/native/cache/http_remote_cache.rs and
 * errors.rs, the code behind `NX_SELF_HOSTED_REMOTE_CACHE_SERVER`, checked against Nx 24.0.6):
 * - it sends `Authorization: Bearer $NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN` and
 *   `Content-Type: application/octet-stream` on both requests, the hash in the path as Nx computed it
 *   (a decimal u64 in Nx 24), and the whole gzipped tar with a Content-Length on PUT;
 * - PUT: `200 => stored`, `409 => already there`, `403 => not allowed to write` (both silently fine),
 *   anything else is an error, and Nx's `tryAndRetry` repeats the whole upload up to 6 times. So a
 *   successful PUT is answered **200**, not the spec's 202: with 202, Nx 24.0.6 uploaded every entry
 *   twice (the retry got 409). 200 is a 2xx the spec's client understands; 202 is what it documents.
 * - GET: `200 => extract`, `404 => miss`, anything else is an error;
 * - a 401 must carry `Content-Type: text/plain` exactly (compared with `==`), else Nx reports
 *   "Misconfigured remote cache endpoint: Requests should respond with text/plain on 401s".
 *
 * GET's 403 is never sent here: every valid token, read-only or read-write, may read. Tests cover each
 * of the others (server.spec.ts, and e2e/cache-server.spec.ts with real Nx).
 *
 * Status codes the spec does not list and this server adds, each for a request Nx never sends:
 * 400 (a hash that is not `HASH_PATTERN`), 404 (any other path), 405 (another method),
 * 411 (a PUT without Content-Length, which the spec requires), 413 (larger than the size limit),
 * 408 (the request stalled past its timeout), 500 (the store failed), 503 (the store is busy with the
 * same hash, try again).
 */
export const STATUS = {
  /** PUT stored (see above for why not 202); GET found. */
  ok: 200,
  badRequest: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  methodNotAllowed: 405,
  requestTimeout: 408,
  conflict: 409,
  lengthRequired: 411,
  payloadTooLarge: 413,
  internalError: 500,
  unavailable: 503,
} as const;

/** The spec's own wording, used as the text/plain bodies Nx shows its user. */
export const MESSAGES = {
  unauthorized: 'Missing or invalid authentication token.',
  forbiddenWrite: 'Access forbidden. (read-only token used to write)',
  conflict: 'Cannot override an existing record',
  notFound: 'The record was not found',
} as const;

/**
 * What a cache key may look like: Nx 24 sends a decimal u64, older versions hex; nothing needs more than
 * letters, digits, `_` and `-`. Anything else (`/`, `.`, `%`, an empty or huge string) is refused with
 * 400 before it gets near a file name or an S3 key: no path traversal, no key injection.
 */
export const HASH_PATTERN = /^[0-9A-Za-z_-]{1,128}$/;

export function isValidHash(hash: string): boolean {
  return HASH_PATTERN.test(hash);
}

export function assertValidHash(hash: string): void {
  if (!isValidHash(hash)) {
    throw new CacheServerError(`Invalid cache hash (${hash.length} characters): a hash is 1 to 128 of [0-9A-Za-z_-].`);
  }
}

export const CACHE_PATH_PREFIX = '/v1/cache/';

/**
 * The hash of a request path, or `undefined` when the path is not `/v1/cache/{something}`. The raw
 * path is used as is (no percent-decoding, no `..` resolution): a hash that needs either is invalid.
 */
export function hashFromPath(rawUrl: string): string | undefined {
  const path = rawUrl.split('?', 1)[0];
  if (!path.startsWith(CACHE_PATH_PREFIX)) return undefined;
  return path.slice(CACHE_PATH_PREFIX.length);
}
