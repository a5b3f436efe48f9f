import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { s3ClientConfig } from '../net';
import { CacheServerError, CacheStoreBusyError } from './errors';
import { assertValidHash } from './protocol';
import { exactLength, type CacheEntry, type CacheStore } from './store';

/** S3's limit for one PutObject; the store uploads each entry in one request. */
export const S3_MAX_SINGLE_PUT_BYTES = 5 * 2 ** 30;

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix ("nx/cache" -> keys "nx/cache/<hash>"); a trailing "/" is added when missing. */
  prefix?: string;
  /** An S3-compatible endpoint (MinIO `http://host:9000`, R2 `https://<account>.r2.cloudflarestorage.com`); default AWS. */
  endpoint?: string;
  /** Default: the SDK's chain (AWS_REGION, ~/.aws/config); `us-east-1` when an endpoint is given and none is found. */
  region?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, moto). */
  forcePathStyle?: boolean;
  /**
   * true (default): `PutObject` with `If-None-Match: *`, so S3 itself refuses to replace an object
   * (412), atomically: AWS (since 2024-08), MinIO, R2 and moto support it. false: for stores that
   * do not, check with HEAD first and then put; that is racy (two uploads of the same hash at the same
   * moment both write; as entries are content-addressed both write the same kind of result, but the
   * "never overwrite" guarantee is then only best effort).
   */
  conditionalPut?: boolean;
  /** Explicit credentials; default the SDK's standard chain (env, shared config/credentials, SSO, IMDS…). */
  credentials?: S3ClientConfig['credentials'];
  /** Where the proxy variables come from (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** A ready client (tests, custom middleware); the options above that configure a client are then ignored. */
  client?: S3Client;
}

/**
 * Entries as S3 objects `<prefix><hash>`, through @aws-sdk/client-s3. Bodies are streamed both ways:
 * an upload is one PutObject whose body is the request stream with its exact Content-Length (no
 * multipart buffering), a download is GetObject's response stream piped to the client.
 */
export function createS3Store(options: S3StoreOptions): CacheStore {
  const { bucket } = options;
  const prefix = normalizePrefix(options.prefix ?? '');
  const conditionalPut = options.conditionalPut ?? true;
  const client = options.client ?? createS3Client(options);
  const key = (hash: string) => {
    assertValidHash(hash);
    return `${prefix}${hash}`;
  };
  const where = `s3://${bucket}/${prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`;

  const has = async (hash: string, signal?: AbortSignal) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key(hash) }), { abortSignal: signal });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw wrap(e, `HEAD ${where}${hash}`);
    }
  };

  return {
    description: `${where}${conditionalPut ? '' : ' (no conditional put: HEAD then PUT, racy)'}`,

    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (e) {
        throw wrap(e, `Cannot use the bucket ${bucket}${options.endpoint ? ` at ${options.endpoint}` : ''} (HeadBucket)`);
      }
    },

    has,

    async get(hash, signal): Promise<CacheEntry | undefined> {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(hash) }), { abortSignal: signal });
        if (!(out.Body instanceof Readable) || out.ContentLength === undefined) {
          throw new CacheServerError(`GET ${where}${hash}: the S3 response has no streamable body or no Content-Length.`);
        }
        return { body: out.Body, size: out.ContentLength };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw wrap(e, `GET ${where}${hash}`);
      }
    },

    async putIfAbsent(hash, body, size, signal): Promise<'created' | 'exists'> {
      if (size > S3_MAX_SINGLE_PUT_BYTES) throw new CacheServerError(`An entry of ${size} bytes is larger than one S3 PutObject allows (5 GiB).`);
      const objectKey = key(hash);
      if (!conditionalPut && (await has(hash, signal))) return 'exists';
      // The body goes through a length check: if the client's stream ends short or errors, the check
      // fails, the PutObject is aborted, and S3 keeps nothing.
      const checked = new PassThrough();
      const abortUpload = new AbortController();
      let feedFailure: unknown;
      let sendFailed = false;
      const feeding = pipeline(body, exactLength(size), checked, { signal }).catch((e) => {
        if (!sendFailed) feedFailure = e;
        abortUpload.abort();
      });
      const onAbort = () => abortUpload.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: objectKey,
            Body: checked,
            ContentLength: size,
            ContentType: 'application/octet-stream',
            ...(conditionalPut ? { IfNoneMatch: '*' } : {}),
          }),
          { abortSignal: abortUpload.signal },
        );
        await feeding;
        if (feedFailure) throw feedFailure;
        return 'created';
      } catch (e) {
        // S3 may answer (412, an error) before reading the whole body: stop feeding it.
        if (feedFailure === undefined) sendFailed = true;
        checked.destroy();
        await feeding;
        if (feedFailure !== undefined) {
          if (feedFailure instanceof CacheServerError) throw feedFailure;
          throw new CacheServerError(`PUT ${where}${hash}: the upload failed: ${(feedFailure as Error).message}`, { cause: feedFailure });
        }
        if (statusOf(e) === 412 || nameOf(e) === 'PreconditionFailed') return 'exists';
        if (nameOf(e) === 'ConditionalRequestConflict' || statusOf(e) === 409) {
          throw new CacheStoreBusyError(`PUT ${where}${hash}: another upload of this key is in progress (S3 409 ConditionalRequestConflict).`, { cause: e });
        }
        throw wrap(e, `PUT ${where}${hash}`);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}

/** A client for AWS, MinIO or R2 (an endpoint without a region: us-east-1). */
export function createS3Client(options: Pick<S3StoreOptions, 'endpoint' | 'region' | 'forcePathStyle' | 'credentials' | 'env'>): S3Client {
  return new S3Client(s3ClientConfig(options, options.env ?? process.env, { fallbackRegion: options.endpoint ? 'us-east-1' : undefined }));
}

/** `s3://bucket/some/prefix` -> { bucket, prefix }; throws naming what is wrong. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new CacheServerError(`Invalid S3 location ${JSON.stringify(url)}: write s3://bucket or s3://bucket/prefix.`);
  const bucket = m[1];
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new CacheServerError(`Invalid S3 bucket name ${JSON.stringify(bucket)} in ${url}: 3 to 63 lowercase letters, digits, dots and hyphens.`);
  }
  return { bucket, prefix: normalizePrefix(m[2] ?? '') };
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

function nameOf(e: unknown): string | undefined {
  return (e as { name?: string })?.name;
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** The object is missing (not the bucket: a missing bucket is an error, which `check()` reports at startup). */
function isNotFound(e: unknown): boolean {
  const name = nameOf(e);
  return name === 'NotFound' || name === 'NoSuchKey' || (statusOf(e) === 404 && name !== 'NoSuchBucket');
}

function wrap(e: unknown, what: string): CacheServerError {
  if (e instanceof CacheServerError) return e;
  const status = statusOf(e);
  return new CacheServerError(`${what}: ${nameOf(e) ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
