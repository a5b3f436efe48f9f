import { VllmWheelsError } from '../errors';

/** The cache server or one of its stores failed (bad store config, unreachable bucket, I/O). */
export class CacheServerError extends VllmWheelsError {
  override readonly exitCode = 7;
}

/**
 * The store cannot take this entry right now, but a retry may succeed (S3's 409
 * ConditionalRequestConflict: another upload of the same key is in flight). Answered with 503.
 */
export class CacheStoreBusyError extends CacheServerError {}
