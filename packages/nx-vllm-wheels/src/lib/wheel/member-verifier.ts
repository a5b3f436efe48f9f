import { Worker } from 'node:worker_threads';
import type { RecordHashAlgorithm } from './record';
import { METHOD_DEFLATED } from './zip-format';
import type { ZipEntry } from './zip-read';

/**
 * What inflating one member gave: its size, CRC-32 and RECORD digest (urlsafe base64, no padding);
 * or that it inflated past its declared size (stopped there); or why it could not be read.
 */
export type InflatedMember = { kind: 'read'; size: number; crc: number; digest: string } | { kind: 'overflow' } | { kind: 'error'; message: string } | { kind: 'unsupported' };

/** What the worker answers: the data offset it read the member's local header for, beside the result. */
type WorkerAnswer = { id: number; dataOffset: number; result: InflatedMember };

/**
 * The chain that verifies one large member, split over two worker threads that share the inflated
 * chunks by reference (SLOTS slots of a SharedArrayBuffer): the producer reads the compressed bytes
 * (4 MiB positional reads), inflates them with zlib's native stream (driven as small-inflate.ts
 * drives it) straight into a free slot, counts and CRCs it and hands it on; the hasher hashes it
 * (sha256 with SHA-NI is the costliest step: alone, it keeps the two threads about even) and frees
 * the slot. They wait for each other with Atomics (a futex), never through an event loop.
 * Synchronous, one member after the other, in call order: no work goes to libuv's pool and nothing
 * is allocated per chunk (handing each chunk to the pool and back, and a fresh output buffer per
 * chunk, cost more than inflating). Never inflates past the declared size (plus one slot).
 *
 * Control words (Int32Array over `control`): produced and consumed slot counts, a hasher failure
 * flag, the last digest's length and bytes; per slot, its length and flags (START: a member's first
 * slot, with its hash algorithm's index in bits 4+; END: its last; a member abandoned by the
 * producer (refused) has no END, the next START starts over).
 */
const SLOTS = 3;
const SLOT_SIZE = 4 * 1024 * 1024;
const CHAIN_SOURCE = String.raw`
const PRODUCED = 0, CONSUMED = 1, FAILED = 2, DIGEST_LENGTH = 3, DIGEST = 4, LENGTH = 20, FLAGS = LENGTH + ${SLOTS};
const START = 1, END = 2;
const ALGORITHMS = ['sha224', 'sha256', 'sha384', 'sha512'];
const SLOTS = ${SLOTS}, SLOT_SIZE = ${SLOT_SIZE};
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.control);
const slots = Array.from({ length: SLOTS }, (_, i) => Buffer.from(workerData.data, i * SLOT_SIZE, SLOT_SIZE));
/** Waits while ctrl[index] is value (a timeout only to notice a failed hasher). */
function waitWhile(index, value) {
  Atomics.wait(ctrl, index, value, 1000);
}
`;

/** Hashes each slot the producer hands on; the digest of a member's END slot goes to the control words. */
const HASHER_SOURCE = `${CHAIN_SOURCE}
const { createHash } = require('node:crypto');
const digest = new Uint8Array(workerData.control, DIGEST * 4, 64);
let hash;
try {
  for (let consumed = 0; ; consumed++) {
    while (Atomics.load(ctrl, PRODUCED) === consumed) waitWhile(PRODUCED, consumed);
    const slot = consumed % SLOTS;
    const flags = ctrl[FLAGS + slot];
    if (flags & START) hash = createHash(ALGORITHMS[flags >> 4]);
    hash.update(slots[slot].subarray(0, ctrl[LENGTH + slot]));
    if (flags & END) {
      const bytes = hash.digest();
      digest.set(bytes);
      ctrl[DIGEST_LENGTH] = bytes.length;
    }
    Atomics.store(ctrl, CONSUMED, consumed + 1);
    Atomics.notify(ctrl, CONSUMED);
  }
} catch (e) {
  Atomics.store(ctrl, FAILED, 1);
  Atomics.notify(ctrl, CONSUMED);
  throw e;
}
`;

/** Reads, inflates, counts and CRCs; answers the main thread with size, CRC-32 and the hasher's digest. */
const PRODUCER_SOURCE = `${CHAIN_SOURCE}
const { parentPort } = require('node:worker_threads');
const { closeSync, openSync, readSync } = require('node:fs');
const { types } = require('node:util');
const { constants, createInflateRaw, crc32 } = require('node:zlib');
const OVERFLOW = new Error('overflow');
const input = Buffer.allocUnsafe(SLOT_SIZE);
let produced = 0;

/** zlib's native stream under an InflateRaw, or undefined where it is not what node's inflateRawSync drives. */
function nativeInflater() {
  if (workerData.nativeInflate === false) return undefined;
  const stream = createInflateRaw();
  const handle = stream._handle;
  if (!handle || typeof handle.writeSync !== 'function' || !types.isUint32Array(stream._writeState)) {
    stream.close();
    return undefined;
  }
  stream.on('error', () => undefined); // seen as destroyed, with the error in stream.errored
  return { stream, handle, state: stream._writeState };
}

function hasherFailed() {
  if (Atomics.load(ctrl, FAILED)) throw new Error('the hashing thread failed');
}

/** A slot the hasher is done with. */
function freeSlot() {
  for (;;) {
    const consumed = Atomics.load(ctrl, CONSUMED);
    if (produced - consumed < SLOTS) return produced % SLOTS;
    hasherFailed();
    waitWhile(CONSUMED, consumed);
  }
}

function publish(length, flags) {
  const slot = produced % SLOTS;
  ctrl[LENGTH + slot] = length;
  ctrl[FLAGS + slot] = flags;
  Atomics.store(ctrl, PRODUCED, ++produced);
  Atomics.notify(ctrl, PRODUCED);
}

/** The digest of the member whose END was just published, once the hasher has it. */
function digestOf() {
  for (;;) {
    const consumed = Atomics.load(ctrl, CONSUMED);
    if (consumed === produced) break;
    hasherFailed();
    waitWhile(CONSUMED, consumed);
  }
  hasherFailed();
  return Buffer.from(workerData.control, DIGEST * 4, ctrl[DIGEST_LENGTH]).toString('base64url');
}

function readFully(fd, buffer, length, position) {
  for (let done = 0; done < length; ) {
    const bytesRead = readSync(fd, buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('the archive ended early (was it changed while being read?)');
    done += bytesRead;
  }
  return buffer.subarray(0, length);
}

let dataOffset = 0;
function inflated(m) {
  dataOffset = 0;
  const z = m.deflated ? nativeInflater() : undefined;
  if (m.deflated && !z) return { kind: 'unsupported' };
  const algorithm = ALGORITHMS.indexOf(m.algorithm) << 4;
  let size = 0;
  let crc = 0;
  let start = START;
  const handOn = (slot, length) => {
    size += length;
    if (size > m.uncompressedSize) throw OVERFLOW;
    crc = crc32(slots[slot].subarray(0, length), crc);
    publish(length, start | algorithm);
    start = 0;
  };
  /** Inflates chunk (all of it: zlib stops for room in the slot only) into free slots. */
  const inflateAll = (chunk, flush) => {
    let offset = 0;
    let length = chunk.length;
    for (;;) {
      const slot = freeSlot();
      z.handle.writeSync(flush, chunk, offset, length, slots[slot], 0, SLOT_SIZE);
      if (z.stream.destroyed) throw z.stream.errored || new Error('zlib failed');
      const availOut = z.state[0];
      const availIn = z.state[1];
      if (availOut < SLOT_SIZE) handOn(slot, SLOT_SIZE - availOut);
      offset += length - availIn;
      length = availIn;
      if (availOut !== 0) return;
    }
  };
  let fd;
  try {
    fd = openSync(m.path, 'r');
    // The data follows the local header (its name and extra field): ZipReader reads the same header.
    const header = readFully(fd, input, 30, m.localHeaderOffset);
    if (header.readUInt32LE(0) !== 0x04034b50) throw new Error('no local header at offset ' + m.localHeaderOffset);
    dataOffset = m.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const end = dataOffset + m.compressedSize;
    for (let pos = dataOffset; pos < end; ) {
      const length = Math.min(SLOT_SIZE, end - pos);
      if (z) inflateAll(readFully(fd, input, length, pos), constants.Z_NO_FLUSH);
      else {
        const slot = freeSlot();
        readFully(fd, slots[slot], length, pos);
        handOn(slot, length);
      }
      pos += length;
    }
    if (z) inflateAll(input.subarray(0, 0), constants.Z_FINISH);
    publish(0, start | END | algorithm);
    return { kind: 'read', size, crc, digest: digestOf() };
  } catch (e) {
    return e === OVERFLOW ? { kind: 'overflow' } : { kind: 'error', message: String(e && e.message) };
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (z && !z.stream.destroyed) z.stream.close();
  }
}

parentPort.on('message', (m) => {
  const result = inflated(m);
  parentPort.postMessage({ id: m.id, dataOffset, result });
});
`;

export interface MemberVerifierOptions {
  /** false: answer every deflated member `unsupported`, as on a Node whose zlib stream differs (for tests). */
  nativeInflate?: boolean;
}

/**
 * Inflates large members on two worker threads (see PRODUCER_SOURCE and HASHER_SOURCE) and returns
 * their size, CRC-32 and hash, so that the shared libraries of a wheel (nearly all its bytes) are
 * verified beside the main thread, which verifies the thousands of small members, and the kernel's
 * copy of the archive. Where zlib's stream is not what the producer expects (another Node), a
 * deflated member is answered `unsupported`, to be verified on the main thread instead.
 * Self-contained sources (no imports of ours), so they run the same from compiled code and under
 * the test runner, like index/file-hasher.ts.
 */
export class MemberVerifier {
  private readonly producer: Worker;
  private readonly hasher: Worker;
  private readonly pending = new Map<number, { resolve: (r: Omit<WorkerAnswer, 'id'>) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(
    private readonly archive: string,
    options: MemberVerifierOptions = {},
  ) {
    const shared = { data: new SharedArrayBuffer(SLOTS * SLOT_SIZE), control: new SharedArrayBuffer(4 * (20 + 2 * SLOTS)) };
    this.producer = new Worker(PRODUCER_SOURCE, { eval: true, workerData: { ...shared, nativeInflate: options.nativeInflate } });
    this.hasher = new Worker(HASHER_SOURCE, { eval: true, workerData: shared });
    this.producer.on('message', ({ id, dataOffset, result }: WorkerAnswer) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.resolve({ dataOffset, result });
    });
    for (const worker of [this.producer, this.hasher]) {
      worker.on('error', (e) => this.failAll(e));
      worker.on('exit', () => this.failAll(new Error('a member verifying worker exited')));
    }
  }

  /**
   * Inflates the member (one at a time, in call order) and hashes it with `algorithm`. It may be called
   * before ZipReader has read the member's local header (see ZipReaderOptions.onCentralDirectory): the
   * worker reads it too, and says where it found the data (see checkedAnswer).
   */
  inflate(entry: ZipEntry, algorithm: RecordHashAlgorithm): Promise<Omit<WorkerAnswer, 'id'>> {
    const id = this.next++;
    return new Promise<Omit<WorkerAnswer, 'id'>>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.producer.postMessage({
        id,
        path: this.archive,
        localHeaderOffset: entry.localHeaderOffset,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        deflated: entry.method === METHOD_DEFLATED,
        algorithm,
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.producer.terminate(), this.hasher.terminate()]);
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** The worker's result, if it read the data where ZipReader (done reading local headers) says it is. */
function checkedAnswer(entry: ZipEntry, answer: Omit<WorkerAnswer, 'id'>): InflatedMember {
  if (answer.result.kind === 'unsupported' || answer.dataOffset === entry.dataOffset) return answer.result;
  return { kind: 'error', message: `its data was read at offset ${answer.dataOffset}, not ${entry.dataOffset} (was the archive changed while being read?)` };
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
  private readonly started = new Map<ZipEntry, Promise<Omit<WorkerAnswer, 'id'>>>();

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
  startAll(entries: readonly ZipEntry[]): void {
    const large = entries.filter((e) => LargeMembers.isLarge(e) && !UNHASHED.test(e.name)).sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
    if (!large.length) {
      this.close().catch(() => undefined);
      return;
    }
    for (const entry of large) {
      const result = this.worker().inflate(entry, 'sha256');
      result.catch(() => undefined); // awaited by result(), or dropped when RECORD makes it moot
      this.started.set(entry, result);
    }
  }

  /** The member inflated and hashed with `algorithm` (started by startAll, or now); once the archive is open. */
  async result(entry: ZipEntry, algorithm: RecordHashAlgorithm): Promise<InflatedMember> {
    const started = this.started.get(entry);
    return checkedAnswer(entry, await (started && algorithm === 'sha256' ? started : this.worker().inflate(entry, algorithm)));
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
