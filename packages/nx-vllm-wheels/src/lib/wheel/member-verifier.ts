import { Worker } from 'node:worker_threads';
import type { RecordHashAlgorithm } from './record';
import { METHOD_DEFLATED } from './zip-format';
import type { ZipEntry } from './zip-read';

/**
 * What inflating one member gave: its size, CRC-32 and RECORD digest (urlsafe base64, no padding);
 * or that it inflated past its declared size (stopped there); or why it could not be read.
 */
export type InflatedMember = { kind: 'read'; size: number; crc: number; digest: string } | { kind: 'overflow' } | { kind: 'error'; message: string } | { kind: 'unsupported' };

/**
 * Inflates large members on a worker thread and returns their size, CRC-32 and hash, so that the
 * shared libraries of a wheel (nearly all its bytes) are verified on a second core while the main
 * thread verifies the thousands of small members, and the kernel copies the archive meanwhile.
 * Members are verified one after the other, in call order, synchronously: 4 MiB positional reads
 * into one buffer, inflated by zlib's native stream (driven as small-inflate.ts drives it) into one
 * 4 MiB output buffer, CRC'd and hashed. No work goes to libuv's pool and nothing is allocated per
 * chunk: handing each chunk to the pool and back (a thread wake-up each way) and a fresh output
 * buffer per chunk (page faults, garbage) cost more than inflating. Never inflates past the declared
 * size (plus one output buffer). Where zlib's stream is not what this expects (another Node), a
 * deflated member is answered `unsupported`, and verified on the main thread instead.
 * Self-contained source (no imports of ours), so it runs the same from compiled code and under the
 * test runner, like index/file-hasher.ts.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
const { types } = require('node:util');
const { constants, createInflateRaw, crc32 } = require('node:zlib');
const READ_SIZE = 4 * 1024 * 1024;
const OUTPUT_SIZE = 4 * 1024 * 1024;
const OVERFLOW = new Error('overflow');
const input = Buffer.allocUnsafe(READ_SIZE);
const output = Buffer.allocUnsafe(OUTPUT_SIZE);

/** zlib's native stream under an InflateRaw, or undefined where it is not what node's inflateRawSync drives. */
function nativeInflater() {
  if (workerData && workerData.nativeInflate === false) return undefined;
  const stream = createInflateRaw();
  const handle = stream._handle;
  if (!handle || typeof handle.writeSync !== 'function' || !types.isUint32Array(stream._writeState)) {
    stream.close();
    return undefined;
  }
  stream.on('error', () => undefined); // seen as destroyed, with the error in stream.errored
  return { stream, handle, state: stream._writeState };
}

/** Inflates chunk (all of it: zlib stops for output room only) into output, passing what comes out to take. */
function inflateInto(z, chunk, flush, take) {
  let offset = 0;
  let length = chunk.length;
  for (;;) {
    z.handle.writeSync(flush, chunk, offset, length, output, 0, OUTPUT_SIZE);
    if (z.stream.destroyed) throw z.stream.errored || new Error('zlib failed');
    const availOut = z.state[0];
    const availIn = z.state[1];
    if (availOut < OUTPUT_SIZE) take(output.subarray(0, OUTPUT_SIZE - availOut));
    offset += length - availIn;
    length = availIn;
    if (availOut !== 0) return;
  }
}

function readFully(fd, length, position) {
  for (let done = 0; done < length; ) {
    const bytesRead = readSync(fd, input, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('the archive ended early (was it changed while being read?)');
    done += bytesRead;
  }
  return input.subarray(0, length);
}

function inflated(m) {
  const z = m.deflated ? nativeInflater() : undefined;
  if (m.deflated && !z) return { kind: 'unsupported' };
  const hash = createHash(m.algorithm);
  let size = 0;
  let crc = 0;
  const take = (chunk) => {
    size += chunk.length;
    if (size > m.uncompressedSize) throw OVERFLOW;
    crc = crc32(chunk, crc);
    hash.update(chunk);
  };
  let fd;
  try {
    fd = openSync(m.path, 'r');
    const end = m.offset + m.compressedSize;
    for (let pos = m.offset; pos < end; ) {
      const chunk = readFully(fd, Math.min(READ_SIZE, end - pos), pos);
      pos += chunk.length;
      if (z) inflateInto(z, chunk, constants.Z_NO_FLUSH, take);
      else take(chunk);
    }
    if (z) inflateInto(z, input.subarray(0, 0), constants.Z_FINISH, take);
    return { kind: 'read', size, crc, digest: hash.digest('base64url') };
  } catch (e) {
    return e === OVERFLOW ? { kind: 'overflow' } : { kind: 'error', message: String(e && e.message) };
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (z && !z.stream.destroyed) z.stream.close();
  }
}

parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, result: inflated(m) }));
`;

export interface MemberVerifierOptions {
  /** false: answer every deflated member `unsupported`, as on a Node whose zlib stream differs (for tests). */
  nativeInflate?: boolean;
}

export class MemberVerifier {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: InflatedMember) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(
    private readonly archive: string,
    options: MemberVerifierOptions = {},
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { nativeInflate: options.nativeInflate } });
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

  constructor(
    private readonly archive: string,
    private readonly options: MemberVerifierOptions = {},
  ) {}

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
    return (this.verifier ??= new MemberVerifier(this.archive, this.options));
  }
}
