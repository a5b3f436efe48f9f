import { randomUUID } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { processTag, taggedProcessState } from '../fs';
import { CacheServerError } from './errors';
import { assertValidHash } from './protocol';
import { exactLength, type CacheEntry, type CacheStore } from './store';

export interface DirectoryStoreOptions {
  /** The store's root; created if missing. Entries go to `<dir>/entries/<hash>`, uploads in progress to `<dir>/tmp/`. */
  dir: string;
  /**
   * At startup, temp files of uploads whose server is gone (killed mid-upload) are removed; those of
   * a server on another machine or in another container only once untouched for this long (an upload
   * that makes no progress is timed out long before), default one day.
   */
  staleTempMs?: number;
}

/**
 * Entries as files. An upload is written to a temp file in `<dir>/tmp` (same filesystem), fsynced, then
 * hard-linked to `<dir>/entries/<hash>`: `link` fails with EEXIST when the entry exists, so creating an
 * entry "only if absent" is one atomic step and an existing entry is never replaced, truncated or
 * briefly missing. Readers only ever see complete files. The temp file is removed in every case but a
 * killed server; its name carries the server's process tag, so the next server started on the
 * directory removes it, never a live upload of another server sharing the directory.
 * The directory's filesystem must support hard links (checked at startup).
 */
export function createDirectoryStore(options: DirectoryStoreOptions): CacheStore {
  const root = resolve(options.dir);
  const entries = join(root, 'entries');
  const tmp = join(root, 'tmp');
  const entryPath = (hash: string) => {
    assertValidHash(hash);
    return join(entries, hash);
  };
  const has = async (hash: string) => {
    try {
      return (await stat(entryPath(hash))).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  };

  return {
    description: `directory ${root}`,

    async check() {
      try {
        await mkdir(entries, { recursive: true });
        await mkdir(tmp, { recursive: true });
      } catch (e) {
        throw new CacheServerError(`Cannot create the cache store directory ${root}: ${(e as Error).message}`, { cause: e });
      }
      await removeStaleTemps(tmp, options.staleTempMs ?? 24 * 3_600_000);
      // The one filesystem feature the store relies on: an atomic create-if-absent by link().
      const probe = join(tmp, tempName('probe'));
      try {
        await (await open(probe, 'wx')).close();
        await link(probe, `${probe}.link`);
      } catch (e) {
        throw new CacheServerError(`The cache store directory ${root} cannot be used: creating and hard-linking a file in ${tmp} failed (${(e as Error).message}). The store needs a filesystem with hard links.`, { cause: e });
      } finally {
        await rm(probe, { force: true });
        await rm(`${probe}.link`, { force: true });
      }
    },

    has,

    async get(hash): Promise<CacheEntry | undefined> {
      let handle;
      try {
        handle = await open(entryPath(hash), fsConstants.O_RDONLY);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      try {
        const { size } = await handle.stat();
        // The stream owns the descriptor from here and closes it when done or destroyed.
        return { body: handle.createReadStream({ autoClose: true }), size };
      } catch (e) {
        await handle.close();
        throw e;
      }
    },

    async putIfAbsent(hash, body: Readable, size, signal): Promise<'created' | 'exists'> {
      const target = entryPath(hash);
      if (await has(hash)) return 'exists';
      await mkdir(tmp, { recursive: true });
      const temp = join(tmp, `${tempName(hash)}.part`);
      // `flush`: fsync before close; pipeline() resolves only once the file is closed.
      const out = createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true });
      try {
        await pipeline(body, exactLength(size), out, { signal });
        try {
          await link(temp, target);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
          throw e;
        }
        await syncDir(entries);
        return 'created';
      } finally {
        // A failure can come before the stream has even opened (created) the file: wait until it has
        // closed it, or the unlink would run first and the temp file would appear after it.
        if (!out.closed) await once(out, 'close').catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    },
  };
}

/** Makes the new directory entry itself durable (the file's data was fsynced before the link). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `<prefix>.<process tag>.<uuid>`: unique, and says which process writes it (prefixes have no dots). */
function tempName(prefix: string): string {
  const tag = processTag();
  return `${prefix}.${tag ? `${tag}.` : ''}${randomUUID()}`;
}

/** Removes the temp files of dead servers on this machine, and any temp file untouched for `olderThanMs`. */
async function removeStaleTemps(tmp: string, olderThanMs: number): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(tmp)) {
    const path = join(tmp, name);
    try {
      const ownerGone = taggedProcessState(name.split('.')[1] ?? '') === 'gone';
      if (ownerGone || now - (await stat(path)).mtimeMs > olderThanMs) await rm(path, { force: true });
    } catch {
      // Removed meanwhile by another server sharing the directory.
    }
  }
}
