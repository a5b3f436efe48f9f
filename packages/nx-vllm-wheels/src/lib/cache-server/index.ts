/**
 * A server for Nx's self-hosted remote cache API (`NX_SELF_HOSTED_REMOTE_CACHE_SERVER`), entries in a
 * directory or an S3 bucket, bearer tokens with read-only / read-write scope, immutable entries.
 * No Nx here.
 */
export { startCacheServer } from './server';
export type { CacheServer, CacheServerOptions } from './server';
export { createDirectoryStore } from './directory-store';
export type { DirectoryStoreOptions } from './directory-store';
export { createS3Client, createS3Store, parseS3Url, S3_MAX_SINGLE_PUT_BYTES } from './s3-store';
export type { S3StoreOptions } from './s3-store';
export type { CacheEntry, CacheStore } from './store';
export { bearerToken, createAuthenticator } from './auth';
export type { Access, Authenticator, CacheTokens } from './auth';
export { HASH_PATTERN, isValidHash, MESSAGES, STATUS } from './protocol';
export { formatByteSize, parseByteSize, parseDuration } from './size';
export { CacheServerError, CacheStoreBusyError } from './errors';
