import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../net';
import { redact } from '../process';
import { S3PublishError } from './s3-errors';

/** Where the index lives: the S3 target of index.json (`prefix` without a trailing `/`). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
  readonly region?: string;
  /** An S3-compatible endpoint (MinIO, R2, moto); AWS when absent. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
}

/**
 * A client for AWS, MinIO or R2. Credentials come from the SDK's chain (environment, shared config,
 * SSO, instance roles) unless given (tests). The SDK's own retries are off (`maxAttempts: 1`): it would
 * resend an upload's already-consumed body stream; `withRetry` retries with a fresh body instead.
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read from `env`.
 */
export function createIndexS3Client(
  location: S3Location,
  credentials?: S3ClientConfig['credentials'],
  env: Readonly<Record<string, string | undefined>> = process.env,
): S3Client {
  return new S3Client({
    // A stalled connection fails after a minute without progress; a slow large upload does not.
    ...s3ClientConfig({ ...location, credentials }, env, { fallbackRegion: 'us-east-1', socketTimeoutMs: 60_000 }),
    maxAttempts: 1,
  });
}

/**
 * The plain-HTTP URL of the index root in the bucket (ending in `/`): what pip and uv use when the bucket
 * allows anonymous reads. `https://<bucket>.s3.<region>.amazonaws.com/<prefix>/` on AWS; with an
 * endpoint, `<endpoint>/<bucket>/<prefix>/` (path style) or `<scheme>://<bucket>.<host>/<prefix>/`.
 */
export function s3HttpUrl(location: S3Location): string {
  const path = location.prefix === '' ? '' : `${location.prefix.split('/').map(encodeURIComponent).join('/')}/`;
  if (!location.endpoint) {
    const region = location.region ?? 'us-east-1';
    return location.forcePathStyle ? `https://s3.${region}.amazonaws.com/${location.bucket}/${path}` : `https://${location.bucket}.s3.${region}.amazonaws.com/${path}`;
  }
  const endpoint = new URL(location.endpoint);
  const base = `${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}`;
  return location.forcePathStyle ? `${base}/${location.bucket}/${path}` : `${endpoint.protocol}//${location.bucket}.${endpoint.host}${endpoint.pathname.replace(/\/+$/, '')}/${path}`;
}

export function nameOf(e: unknown): string | undefined {
  return (e as { name?: string })?.name;
}

export function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** The key does not exist (a missing bucket is not this: it is an error). */
export function isNotFound(e: unknown): boolean {
  const name = nameOf(e);
  return name === 'NotFound' || name === 'NoSuchKey' || (statusOf(e) === 404 && name !== 'NoSuchBucket');
}

const TRANSIENT_NAMES = new Set(['SlowDown', 'RequestTimeout', 'Throttling', 'ThrottlingException', 'InternalError', 'ServiceUnavailable', 'TimeoutError']);

/** Worth another try: the connection failed (no HTTP answer), a 5xx, or S3 asked to slow down. */
export function isTransient(e: unknown): boolean {
  if (e instanceof S3PublishError || nameOf(e) === 'CredentialsProviderError') return false;
  const status = statusOf(e);
  if (status === undefined) return true;
  return status >= 500 || TRANSIENT_NAMES.has(nameOf(e) ?? '');
}

export interface RetryOptions {
  readonly attempts?: number;
  readonly delayMs?: number;
}

/** Runs `attempt` up to `attempts` times (exponential backoff) while it fails transiently. */
export async function withRetry<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 3;
  const delay = options.delayMs ?? 500;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (i >= attempts || !isTransient(e)) throw e;
      await new Promise((r) => setTimeout(r, delay * 2 ** (i - 1)));
    }
  }
}

const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'InvalidClientTokenId']);
const CREDENTIALS_HINT = 'Credentials come from the AWS SDK chain: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), AWS_PROFILE, SSO or an instance role.';

/**
 * An S3 failure as an error that says what was being done and what to check; `secrets` (the secret
 * key, the session token) are replaced with `***` should the SDK ever echo them.
 */
export function describeS3Error(e: unknown, what: string, location: S3Location, secrets: readonly string[] = []): S3PublishError {
  if (e instanceof S3PublishError) return e;
  const name = nameOf(e) ?? 'Error';
  const status = statusOf(e);
  const where = `s3://${location.bucket}/${location.prefix}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
  const detail = ((e as Error)?.message ?? String(e)).replace(/^AWS SDK error wrapper for /, '');
  let message: string;
  if (name === 'CredentialsProviderError') {
    message = `${what}: no AWS credentials were found for ${where}. ${CREDENTIALS_HINT}`;
  } else if (CREDENTIAL_ERRORS.has(name)) {
    message = `${what}: S3 refused the credentials (${name}, HTTP ${status ?? '?'}): ${detail} Check the access key and secret key. ${CREDENTIALS_HINT}`;
  } else if (name === 'AccessDenied' || status === 403) {
    message = `${what}: access denied (${name}, HTTP 403) on ${where}. The credentials are wrong or lack a permission; publishing needs s3:GetObject, s3:PutObject and s3:ListBucket (and s3:DeleteObject with --prune). ${CREDENTIALS_HINT}`;
  } else if (name === 'NoSuchBucket') {
    message = `${what}: the bucket ${location.bucket} does not exist${location.endpoint ? ` at ${location.endpoint}` : ''} (index.json s3.bucket).`;
  } else if (status === undefined) {
    const code = (e as NodeJS.ErrnoException)?.code;
    message = `${what}: cannot reach ${location.endpoint ?? 'S3'}: ${code && !detail.includes(code) ? `${code}: ` : ''}${detail}.`;
    if (what.startsWith('PUT ')) message += ' Nothing links to an object that was not uploaded: run again to complete.';
  } else {
    message = `${what}: ${name} (HTTP ${status}): ${detail}`;
  }
  return new S3PublishError(redact(message, secrets), { cause: e });
}
