import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { CacheServerError } from './errors';

/** An entry read from a store: its bytes as a stream (never buffered whole) and their number. */
export interface CacheEntry {
  body: Readable;
  size: number;
}

/**
 * Where entries live. Entries are immutable: `putIfAbsent` either creates the entry from the whole
 * stream or leaves the store as it was; it never replaces an existing entry, and a failed or
 * aborted write leaves nothing behind. Hashes are validated by every implementation.
 */
export interface CacheStore {
  /** For the startup log: where entries go (no secrets). */
  readonly description: string;
  /** Fails fast with a clear message when the store cannot be used (bucket missing, no permission). */
  check(): Promise<void>;
  has(hash: string, signal?: AbortSignal): Promise<boolean>;
  get(hash: string, signal?: AbortSignal): Promise<CacheEntry | undefined>;
  /**
   * Stores exactly `size` bytes read from `body` under `hash`, unless the entry exists ('exists': the
   * body may be left unread). Rejects, storing nothing, when the body is shorter or longer than `size`,
   * errors, or `signal` aborts.
   */
  putIfAbsent(hash: string, body: Readable, size: number, signal?: AbortSignal): Promise<'created' | 'exists'>;
}

/**
 * Passes bytes through and fails the stream if it ends with a different count than `expected`: a store
 * must never commit a short body (a client that died mid-upload) or a longer one.
 */
export function exactLength(expected: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length;
      if (seen > expected) done(new CacheServerError(`The upload is longer than its declared ${expected} bytes.`));
      else done(null, chunk);
    },
    flush(done: TransformCallback) {
      if (seen !== expected) done(new CacheServerError(`The upload ended after ${seen} of its declared ${expected} bytes.`));
      else done();
    },
  });
}
