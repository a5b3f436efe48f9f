import { Worker } from 'node:worker_threads';
import type { RecordHashAlgorithm } from './record';
import { METHOD_DEFLATED } from './zip-format';
import type { ZipEntry } from './zip-read';

/**
 * What inflating one member gave: its size, CRC-32 and RECORD digest (urlsafe base64, no padding);
 * or that it inflated past its declared size (stopped there); or why it could not be read.
 */
export type InflatedMember = { kind: 'read'; size: number; crc: number; digest: string } | { kind: 'overflow' } | { kind: 'error'; message: string };

/**
 * Inflates large members on a worker thread and returns their size, CRC-32 and hash, so that the
 * shared libraries of a wheel (nearly all its bytes) are verified on a second core while the main
 * thread verifies the thousands of small members, and the kernel copies the archive meanwhile.
 * Members are verified one after the other, in call order. Their chain is pipelined: the next
 * compressed chunk is read and zlib inflates (both in libuv's pool) while the worker CRCs and hashes
 * the chunk zlib gave before; the two read buffers are reused. Never inflates past the declared size.
 * Self-contained source (no imports of ours), so it runs the same from compiled code and under the
 * test runner, like index/file-hasher.ts.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { open } = require('node:fs/promises');
const { createInflateRaw, crc32 } = require('node:zlib');
const READ_SIZE = 2 * 1024 * 1024;
const INFLATE_CHUNK = 1024 * 1024;
const OVERFLOW = new Error('overflow');
const buffers = [Buffer.allocUnsafe(READ_SIZE), Buffer.allocUnsafe(READ_SIZE)];

/** Reads [offset, end) with two buffers, the next read running while use() has the current chunk. */
async function readChunks(file, offset, end, use) {
  const readAt = async (pos, buffer) => {
    const length = Math.min(READ_SIZE, end - pos);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await file.read(buffer, done, length - done, pos + done);
      if (bytesRead === 0) throw new Error('the archive ended early (was it changed while being read?)');
      done += bytesRead;
    }
    return buffer.subarray(0, length);
  };
  let next = offset < end ? readAt(offset, buffers[0]) : undefined;
  for (let pos = offset, i = 0; next; i++) {
    const chunk = await next;
    pos += chunk.length;
    next = pos < end ? readAt(pos, buffers[(i + 1) % 2]) : undefined;
    next?.catch(() => undefined);
    await use(chunk);
  }
}

/** Writes chunk to zlib; settles once zlib has consumed all of it (then its buffer may be reused). */
function feed(inflater, chunk) {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(inflater.errored || new Error('the inflate stream closed'));
    inflater.once('close', onClose);
    inflater.write(chunk, (error) => {
      inflater.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}

/**
 * Passes the inflater's output to take(), in order, after its 'data' callback has returned: zlib
 * issues its next write (to libuv's pool) when that callback returns, so it inflates the next chunk
 * while this thread takes this one. It has one write in flight at a time, so it is never more than a
 * chunk ahead. Rejects with take's error, else zlib's (the inflater is then destroyed).
 */
function hashInflated(inflater, take) {
  return new Promise((resolve, reject) => {
    const queue = [];
    let ended = false;
    let failed = false;
    const fail = (e) => {
      if (failed) return;
      failed = true;
      inflater.destroy();
      reject(e);
    };
    const drain = () => {
      try {
        while (queue.length && !failed) take(queue.shift());
      } catch (e) {
        return fail(e);
      }
      if (ended && !failed) resolve();
    };
    inflater.on('data', (chunk) => {
      if (queue.push(chunk) === 1) queueMicrotask(drain);
    });
    inflater.on('end', () => {
      ended = true;
      queueMicrotask(drain);
    });
    inflater.on('error', (e) => {
      drain(); // what zlib gave before it failed comes first: too much of it is the error to report
      fail(e);
    });
    inflater.on('close', () => {
      if (!ended) fail(inflater.errored || new Error('the inflate stream closed'));
    });
  });
}

async function inflated(m) {
  const hash = createHash(m.algorithm);
  let size = 0;
  let crc = 0;
  const take = (chunk) => {
    size += chunk.length;
    if (size > m.uncompressedSize) throw OVERFLOW;
    crc = crc32(chunk, crc);
    hash.update(chunk);
  };
  const file = await open(m.path, 'r');
  try {
    const end = m.offset + m.compressedSize;
    if (!m.deflated) await readChunks(file, m.offset, end, take);
    else {
      const inflater = createInflateRaw({ chunkSize: INFLATE_CHUNK });
      const hashed = hashInflated(inflater, take);
      hashed.catch(() => undefined);
      try {
        await readChunks(file, m.offset, end, (chunk) => feed(inflater, chunk));
        inflater.end();
      } catch (e) {
        inflater.destroy(e);
      }
      await hashed;
    }
    return { kind: 'read', size, crc, digest: hash.digest('base64url') };
  } catch (e) {
    return e === OVERFLOW ? { kind: 'overflow' } : { kind: 'error', message: String(e && e.message) };
  } finally {
    await file.close();
  }
}

let queue = Promise.resolve();
parentPort.on('message', (m) => {
  queue = queue.then(() => inflated(m)).then(
    (result) => parentPort.postMessage({ id: m.id, result }),
    (e) => parentPort.postMessage({ id: m.id, result: { kind: 'error', message: String(e && e.message) } }),
  );
});
`;

export class MemberVerifier {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly pending = new Map<number, { resolve: (r: InflatedMember) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(private readonly archive: string) {
    this.worker.on('message', ({ id, result }: { id: number; result: InflatedMember }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.resolve(result);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', () => this.failAll(new Error('the member verifying worker exited')));
  }

  /** Inflates the member (one at a time, in call order) and hashes it with `algorithm`. */
  inflate(entry: ZipEntry, algorithm: RecordHashAlgorithm): Promise<InflatedMember> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({
        id,
        path: this.archive,
        offset: entry.dataOffset,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        deflated: entry.method === METHOD_DEFLATED,
        algorithm,
      });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/**
 * Members from this size (inflated) are verified on the worker while the main thread goes on with
 * the others: in a vLLM wheel, its few shared libraries are nearly all its bytes.
 */
const WORKER_MEMBER = 1024 * 1024;

/** RECORD and its signatures carry no hash of their own: they are never inflated ahead. */
const UNHASHED = /^[^/]+\.dist-info\/RECORD(\.jws|\.p7s)?$/;

/**
 * The large members of one archive, verified on a MemberVerifier. `startAll` starts them all as soon
 * as the archive is open, in file order, hashed with sha256 before RECORD is read (what pypa/wheel,
 * setuptools and every build backend write): the worker then runs beside the whole validation, not
 * only beside the members after the first large one. A member whose RECORD row names another
 * algorithm is inflated again with it.
 */
export class LargeMembers {
  private verifier: MemberVerifier | undefined;
  private readonly started = new Map<ZipEntry, Promise<InflatedMember>>();

  constructor(private readonly archive: string) {}

  static isLarge(entry: ZipEntry): boolean {
    return !entry.isDirectory && entry.uncompressedSize >= WORKER_MEMBER;
  }

  /**
   * Starts the worker before the archive is read, when it is large enough to hold a large member
   * (a worker takes tens of milliseconds to start: meanwhile the central directory is read).
   */
  warmUp(archiveSize: number): void {
    if (archiveSize >= WORKER_MEMBER) this.worker();
  }

  /** Verifies every large member of `entries` from now on (and stops a worker warmUp started for nothing). */
  async startAll(entries: readonly ZipEntry[]): Promise<void> {
    const large = entries.filter((e) => LargeMembers.isLarge(e) && !UNHASHED.test(e.name)).sort((a, b) => a.dataOffset - b.dataOffset);
    if (!large.length) return this.close();
    for (const entry of large) {
      const result = this.worker().inflate(entry, 'sha256');
      result.catch(() => undefined); // awaited by result(), or dropped when RECORD makes it moot
      this.started.set(entry, result);
    }
  }

  /** The member inflated and hashed with `algorithm` (started by startAll, or now). */
  result(entry: ZipEntry, algorithm: RecordHashAlgorithm): Promise<InflatedMember> {
    const started = this.started.get(entry);
    if (started && algorithm === 'sha256') return started;
    return this.worker().inflate(entry, algorithm);
  }

  async close(): Promise<void> {
    const verifier = this.verifier;
    this.verifier = undefined;
    await verifier?.close();
  }

  private worker(): MemberVerifier {
    return (this.verifier ??= new MemberVerifier(this.archive));
  }
}
