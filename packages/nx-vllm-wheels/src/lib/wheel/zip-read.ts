import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { WheelError } from '../errors';
import type { InflatedMember } from './member-verifier';
import { ProblemList, WheelValidationError } from './problems';
import { SmallInflater } from './small-inflate';
import {
  CENTRAL_HEADER_SIZE,
  decodeName,
  DEFAULT_INFLATE_LIMITS,
  type DosDateTime,
  EOCD_SEARCH_SIZE,
  EOCD_SIZE,
  FLAG_ENCRYPTED,
  FLAG_UTF8,
  FLAG_MASKED_HEADERS,
  FLAG_PATCHED_DATA,
  FLAG_STRONG_ENCRYPTION,
  type InflateLimits,
  LOCAL_HEADER_SIZE,
  MAX_UINT16,
  MAX_UINT32,
  METHOD_DEFLATED,
  METHOD_STORED,
  SIG_CENTRAL_HEADER,
  SIG_EOCD,
  SIG_LOCAL_HEADER,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
  RATIO_CHECK_MIN_BYTES,
  unsafeModeReason,
  unsafeNameReason,
  ZIP64_EOCD_SIZE,
  ZIP64_EXTRA_ID,
  ZIP64_LOCATOR_SIZE,
  type ZipMethod,
} from './zip-format';

/** One member of an archive, as its central directory and local header describe it. */
export interface ZipEntry {
  readonly name: string;
  /** Directory entries end with "/" and carry no data. */
  readonly isDirectory: boolean;
  readonly method: ZipMethod;
  /** General purpose bit flags of the central directory entry. */
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly modified: DosDateTime;
  /** "Version made by": the high byte is the host system (3 = Unix). */
  readonly versionMadeBy: number;
  readonly externalAttributes: number;
  /** The Unix st_mode from the external attributes (`>>> 16`, as pip reads it); 0 when absent. */
  readonly mode: number;
  readonly localHeaderOffset: number;
  /** Offset of the first compressed byte, just after the local header. */
  readonly dataOffset: number;
}

/** Read size for member data, and the read-ahead window that serves many small members in one read. */
const CHUNK_SIZE = 64 * 1024;
const WINDOW_SIZE = 1024 * 1024;
/** consumeData's read size (one reused buffer), and zlib's output chunk size there. */
const LARGE_READ_SIZE = 2 * 1024 * 1024;
const INFLATE_CHUNK_SIZE = 1024 * 1024;
/**
 * Members up to this size (compressed and inflated) are inflated in one synchronous call instead of
 * through a zlib stream: a stream per member costs ~0.1 ms and native memory the GC frees late, which
 * dominates for wheels of many small files.
 */
const SMALL_MEMBER = 256 * 1024;
/** The central directory is read whole; this bounds that (about a million members). */
const MAX_CENTRAL_DIRECTORY = 128 * 1024 * 1024;

export interface ZipReaderOptions {
  /** What the members may inflate to (DEFAULT_INFLATE_LIMITS when absent). */
  limits?: InflateLimits;
  /**
   * Called with the members once the central directory has been read and passed its checks (names,
   * modes, methods, inflate limits, duplicates), before their local headers are read (`dataOffset` is
   * still 0): for work that may start on them meanwhile. Nothing is trusted before open resolves.
   */
  onCentralDirectory?: (entries: readonly ZipEntry[]) => void;
}

/**
 * A minimal ZIP reader for wheels. `open` reads the end records (ZIP64 included), the central directory
 * and every local header, and rejects the archive (one error listing every problem) when a member is
 * unsafe to extract (its name, or a symbolic link), duplicated, encrypted, compressed with anything but
 * stored/deflate, or when the declared sizes break the inflate limits (a zip bomb). Member data is only
 * ever streamed, and never inflated past its declared size, so memory and disk stay bounded.
 */
export class ZipReader {
  private closed = false;
  private readonly byName: ReadonlyMap<string, ZipEntry>;
  private readonly inflater = new SmallInflater();

  private constructor(
    /** The archive's path, as given (it names the archive in every message). */
    readonly path: string,
    private readonly file: WindowedFile,
    /** Members in central directory order. */
    readonly entries: readonly ZipEntry[],
  ) {
    const byName = new Map<string, ZipEntry>();
    for (const e of entries) byName.set(e.name, e);
    this.byName = byName;
  }

  static async open(path: string, options: ZipReaderOptions = {}): Promise<ZipReader> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (cause) {
      throw new WheelError(`Cannot open ${path}: ${(cause as Error).message}`, { cause });
    }
    try {
      const file = new WindowedFile(path, handle, (await handle.stat()).size);
      const entries = await readEntries(path, file, options.limits ?? DEFAULT_INFLATE_LIMITS, options.onCentralDirectory);
      return new ZipReader(path, file, entries);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The archive's size in bytes when it was opened. */
  get size(): number {
    return this.file.size;
  }

  /** The member's local header as stored (from its offset to its data): a view, valid as long as the reader. */
  localHeader(entry: ZipEntry): Promise<Buffer> {
    this.check(entry);
    return this.file.read(entry.localHeaderOffset, entry.dataOffset - entry.localHeaderOffset);
  }

  /**
   * What localHeader gives, when the read-ahead window already holds it, else undefined: for a caller
   * that walks thousands of headers in file order, most without a read, a promise each would dominate.
   */
  localHeaderIfRead(entry: ZipEntry): Buffer | undefined {
    this.check(entry);
    return this.file.readIfHeld(entry.localHeaderOffset, entry.dataOffset - entry.localHeaderOffset);
  }

  /** The member's bytes as stored in the archive (still compressed), for copying without recompression. */
  openRaw(entry: ZipEntry): Readable {
    return Readable.from(this.rawChunks(entry), { objectMode: false, highWaterMark: CHUNK_SIZE });
  }

  /**
   * What openRaw streams, as an async iterable: for a consumer that loops over thousands of members,
   * it saves the cost of a stream per member.
   */
  rawChunks(entry: ZipEntry): AsyncIterable<Buffer> {
    this.check(entry);
    return this.readRaw(entry);
  }

  /** The member's content, inflated; its size and CRC-32 are verified when the stream ends. */
  openData(entry: ZipEntry): Readable {
    return isSmall(entry) ? Readable.from(this.dataChunks(entry), { objectMode: false }) : this.inflateStream(entry);
  }

  /** What openData streams, as an async iterable (see rawChunks). */
  dataChunks(entry: ZipEntry): AsyncIterable<Buffer> {
    this.check(entry);
    return isSmall(entry) ? this.readSmall(entry) : this.inflateStream(entry);
  }

  private inflateStream(entry: ZipEntry): Readable {
    const raw = this.openRaw(entry);
    const verifier = new DataVerifier(this.path, entry);
    const inflater = entry.method === METHOD_DEFLATED ? createInflateRaw() : undefined;
    const fail = (cause: Error) => verifier.destroy(cause instanceof WheelError ? cause : readError(this.path, entry, cause));
    raw.on('error', fail);
    inflater?.on('error', fail);
    (inflater ? raw.pipe(inflater) : raw).pipe(verifier);
    verifier.on('close', () => {
      raw.destroy();
      inflater?.destroy();
    });
    return verifier;
  }

  /**
   * Passes the member's inflated content to `consume`, chunk by chunk, and verifies its size (as it goes)
   * and CRC-32 (at the end), like dataChunks. `consume` must use each chunk synchronously: for large
   * members the chunks are views of a reused buffer. Faster than dataChunks for large members: the
   * compressed bytes are read with large positional reads and fed to zlib directly, with no stream or
   * promise per chunk.
   *
   * With `raw`, each chunk of the member's compressed bytes is also passed to it (in order, all of them,
   * before the content is fully verified), so that a copy and its verification take one read; `raw` may
   * use the chunk until its promise settles, and its errors propagate unchanged.
   */
  async consumeData(entry: ZipEntry, consume: (chunk: Buffer) => void, raw?: (chunk: Buffer) => Promise<void>): Promise<void> {
    this.check(entry);
    if (isSmall(entry)) {
      const bytes = await this.file.read(entry.dataOffset, entry.compressedSize);
      if (raw) await raw(bytes);
      consume(this.inflateSmall(entry, bytes));
      return;
    }
    let size = 0;
    let crc = 0;
    const take = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > entry.uncompressedSize) throw dataError(this.path, entry, `inflates to more than its declared size of ${entry.uncompressedSize} bytes`);
      crc = crc32(chunk, crc);
      consume(chunk);
    };
    const inflater = entry.method === METHOD_DEFLATED ? createInflateRaw({ chunkSize: INFLATE_CHUNK_SIZE }) : undefined;
    let failure: unknown;
    inflater?.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return;
      try {
        take(chunk);
      } catch (e) {
        failure = e;
        inflater.destroy();
      }
    });
    const ended = inflater ? finished(inflater) : undefined;
    ended?.catch(() => undefined);
    let rawFailure: { error: unknown } | undefined;
    const copy = async (chunk: Buffer): Promise<void> => {
      try {
        await raw?.(chunk);
      } catch (error) {
        rawFailure = { error };
        throw error;
      }
    };
    try {
      // Two buffers: the next chunk is read while the current one is copied and inflated.
      const end = entry.dataOffset + entry.compressedSize;
      const readSize = Math.min(LARGE_READ_SIZE, entry.compressedSize);
      const buffers = [Buffer.allocUnsafe(readSize), Buffer.allocUnsafe(readSize)];
      const readAt = async (pos: number, buffer: Buffer): Promise<Buffer> => {
        const length = Math.min(readSize, end - pos);
        await this.file.readInto(buffer, length, pos);
        return buffer.subarray(0, length);
      };
      let next: Promise<Buffer> | undefined = readAt(entry.dataOffset, buffers[0]);
      next.catch(() => undefined);
      for (let pos = entry.dataOffset, i = 0; next && failure === undefined; i++) {
        const chunk: Buffer = await next;
        pos += chunk.length;
        next = pos < end ? readAt(pos, buffers[(i + 1) % 2]) : undefined;
        next?.catch(() => undefined);
        if (inflater) {
          // Both settle before the buffer is reused or an error leaves (no write in flight).
          const [copied, fed] = await Promise.allSettled([copy(chunk), feed(inflater, chunk)]);
          if (copied.status === 'rejected') throw copied.reason;
          if (fed.status === 'rejected') throw fed.reason;
        } else {
          const copied = copy(chunk);
          try {
            take(chunk);
          } finally {
            await copied;
          }
        }
      }
      if (inflater && failure === undefined) {
        inflater.end();
        await ended;
      }
      if (failure !== undefined) throw failure;
    } catch (cause) {
      inflater?.destroy();
      if (rawFailure) throw rawFailure.error;
      const error = failure ?? cause;
      throw error instanceof WheelError ? error : readError(this.path, entry, error as Error);
    }
    const problem = dataProblem(entry, size, crc);
    if (problem) throw dataError(this.path, entry, problem);
  }

  /**
   * A small member's content, verified as consumeData verifies it (a WheelError when it is not right),
   * when the read-ahead window already holds its compressed bytes; else undefined (use consumeData).
   * Synchronous: for the thousands of small files of a wheel, a promise each costs more than inflating
   * them. Always undefined for a member too large to inflate in one call.
   */
  smallDataIfHeld(entry: ZipEntry): Buffer | undefined {
    this.check(entry);
    if (!isSmall(entry)) return undefined;
    const raw = this.file.readIfHeld(entry.dataOffset, entry.compressedSize);
    return raw && this.inflateSmall(entry, raw);
  }

  /** The whole (inflated) content of a small member such as METADATA or RECORD. */
  async readBuffer(entry: ZipEntry, maxBytes: number): Promise<Buffer> {
    if (entry.uncompressedSize > maxBytes) {
      throw new WheelError(`In ${this.path}, ${entry.name} is too large to read into memory (${entry.uncompressedSize} bytes, at most ${maxBytes}).`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of this.dataChunks(entry)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inflater.close();
    await this.file.handle.close();
  }

  private check(entry: ZipEntry): void {
    if (this.closed) throw new WheelError(`${this.path} is closed; cannot read ${entry.name}.`);
    if (this.byName.get(entry.name) !== entry) throw new WheelError(`${entry.name} is not an entry of ${this.path}.`);
  }

  private async *readSmall(entry: ZipEntry): AsyncGenerator<Buffer> {
    yield this.inflateSmall(entry, await this.file.read(entry.dataOffset, entry.compressedSize));
  }

  /** A small member's content from its compressed bytes, verified. */
  private inflateSmall(entry: ZipEntry, raw: Buffer): Buffer {
    let data = raw;
    if (entry.method === METHOD_DEFLATED) {
      try {
        // One byte more than declared, so that a member inflating to more is caught below.
        data = this.inflater.inflate(raw, entry.uncompressedSize + 1);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw readError(this.path, entry, cause as Error);
        throw dataError(this.path, entry, `inflates to more than its declared size of ${entry.uncompressedSize} bytes`);
      }
    }
    const problem = dataProblem(entry, data.length, crc32(data));
    if (problem) throw dataError(this.path, entry, problem);
    return data;
  }

  private async *readRaw(entry: ZipEntry): AsyncGenerator<Buffer> {
    const end = entry.dataOffset + entry.compressedSize;
    for (let pos = entry.dataOffset; pos < end; ) {
      const chunk = await this.file.read(pos, Math.min(CHUNK_SIZE, end - pos));
      pos += chunk.length;
      yield chunk;
    }
  }
}

/** Writes `chunk` to `inflater`; resolves once zlib has consumed it (so the caller may reuse its buffer). */
function feed(inflater: Transform, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    // zlib does not call back a write it failed on (invalid data): the stream's close settles it then.
    const onClose = () => reject(inflater.errored ?? new Error('the inflate stream closed'));
    inflater.once('close', onClose);
    inflater.write(chunk, (error) => {
      inflater.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}

function isSmall(entry: ZipEntry): boolean {
  return entry.compressedSize <= SMALL_MEMBER && entry.uncompressedSize <= SMALL_MEMBER;
}

/** Counts and CRCs inflated data; fails as soon as it exceeds the declared size (zip bombs) and at the end on a mismatch. */
class DataVerifier extends Transform {
  private size = 0;
  private crc = 0;
  constructor(
    private readonly archive: string,
    private readonly entry: ZipEntry,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.entry.uncompressedSize) {
      return callback(dataError(this.archive, this.entry, `inflates to more than its declared size of ${this.entry.uncompressedSize} bytes`));
    }
    this.crc = crc32(chunk, this.crc);
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    const problem = dataProblem(this.entry, this.size, this.crc);
    callback(problem ? dataError(this.archive, this.entry, problem) : undefined);
  }
}

/**
 * The error reading the member gives (consumeData's message) for what inflating it elsewhere gave
 * (MemberVerifier), or undefined when its size and CRC-32 are right.
 */
export function inflatedMemberProblem(archive: string, entry: ZipEntry, inflated: Exclude<InflatedMember, { kind: 'unsupported' }>): string | undefined {
  if (inflated.kind === 'error') return readError(archive, entry, new Error(inflated.message)).message;
  if (inflated.kind === 'overflow') return dataError(archive, entry, `inflates to more than its declared size of ${entry.uncompressedSize} bytes`).message;
  const problem = dataProblem(entry, inflated.size, inflated.crc);
  return problem && dataError(archive, entry, problem).message;
}

function dataProblem(entry: ZipEntry, size: number, crc: number): string | undefined {
  if (size !== entry.uncompressedSize) return `has ${size} bytes but its header says ${entry.uncompressedSize}`;
  if (crc !== entry.crc32) return 'fails its CRC-32 check (the archive is corrupt)';
  return undefined;
}

function dataError(archive: string, entry: ZipEntry, text: string): WheelError {
  return new WheelError(`In ${archive}, ${entry.name} ${text}.`);
}

/** A read or inflate failure (zlib's "invalid block type", an I/O error) named after the member. */
function readError(archive: string, entry: ZipEntry, cause: Error): WheelError {
  return new WheelError(`In ${archive}, ${entry.name} cannot be read: ${cause.message}`, { cause });
}

/** Positional reads through a read-ahead window, so that thousands of small members cost few system calls. */
class WindowedFile {
  private window = Buffer.alloc(0);
  private start = 0;
  constructor(
    readonly path: string,
    readonly handle: FileHandle,
    readonly size: number,
  ) {}

  /** Reads exactly `length` bytes at `position` into the start of `buffer`, bypassing the window. */
  async readInto(buffer: Buffer, length: number, position: number): Promise<void> {
    if (position < 0 || position + length > this.size) throw truncated(this.path, `reading ${length} bytes at offset ${position} goes past its end (${this.size} bytes)`);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw truncated(this.path, `it ended while reading at offset ${position + done} (was it changed while being read?)`);
      done += bytesRead;
    }
  }

  /** Exactly `length` bytes at `position` (a view that stays valid: windows are never reused). */
  async read(position: number, length: number): Promise<Buffer> {
    const window = this.holds(position, length) ? this.window : await this.load(position, length);
    const offset = position - this.windowStart;
    return window.subarray(offset, offset + length);
  }

  /** What read gives, when the window holds it already. */
  readIfHeld(position: number, length: number): Buffer | undefined {
    if (!this.holds(position, length)) return undefined;
    const offset = position - this.start;
    return this.window.subarray(offset, offset + length);
  }

  /** The current window, which starts at file offset `windowStart`. */
  get current(): Buffer {
    return this.window;
  }

  get windowStart(): number {
    return this.start;
  }

  /** Whether the current window holds `length` bytes at `position` (then no read, and no promise, is needed). */
  holds(position: number, length: number): boolean {
    const offset = position - this.start;
    return offset >= 0 && offset + length <= this.window.length;
  }

  /** Makes a new window that holds `length` bytes at `position`, and returns it. */
  async load(position: number, length: number): Promise<Buffer> {
    const size = Math.min(Math.max(length, WINDOW_SIZE), this.size - position);
    if (size < length || position < 0) throw truncated(this.path, `reading ${length} bytes at offset ${position} goes past its end (${this.size} bytes)`);
    const buffer = Buffer.allocUnsafe(size);
    for (let done = 0; done < size; ) {
      const { bytesRead } = await this.handle.read(buffer, done, size - done, position + done);
      if (bytesRead === 0) throw truncated(this.path, `it ended while reading at offset ${position + done} (was it changed while being read?)`);
      done += bytesRead;
    }
    this.window = buffer;
    this.start = position;
    return buffer;
  }
}

function truncated(path: string, text: string): WheelValidationError {
  return new WheelValidationError(path, [`In ${path}, the archive is truncated or corrupt: ${text}`]);
}

interface EndRecord {
  entryCount: number;
  cdOffset: number;
  cdSize: number;
  /** Where the end records start: the central directory must end before. */
  endStart: number;
}

async function readEndRecord(path: string, file: WindowedFile): Promise<EndRecord> {
  const tailSize = Math.min(file.size, EOCD_SEARCH_SIZE);
  const tail = Buffer.from(await file.read(file.size - tailSize, tailSize));
  // Search backwards: the comment (at most 64 KiB) may itself contain the signature bytes.
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    throw new WheelValidationError(path, [`In ${path}, there is no end of central directory record: it is not a zip file, or it is truncated`]);
  }
  const eocdStart = file.size - tailSize + at;
  const eocd = tail.subarray(at);
  const end: EndRecord = {
    entryCount: eocd.readUInt16LE(10),
    cdSize: eocd.readUInt32LE(12),
    cdOffset: eocd.readUInt32LE(16),
    endStart: eocdStart,
  };
  if (eocd.readUInt16LE(4) !== 0 && eocd.readUInt16LE(4) !== MAX_UINT16) {
    throw new WheelValidationError(path, [`In ${path}, the archive spans several disks, which is not supported`]);
  }
  const locatorStart = eocdStart - ZIP64_LOCATOR_SIZE;
  if (locatorStart >= 0 && (await file.read(locatorStart, 4)).readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
    const locator = await file.read(locatorStart, ZIP64_LOCATOR_SIZE);
    const recordStart = u64(path, locator, 8);
    if (locator.readUInt32LE(16) > 1) throw new WheelValidationError(path, [`In ${path}, the archive spans several disks, which is not supported`]);
    if (recordStart + ZIP64_EOCD_SIZE > locatorStart) throw truncated(path, `the ZIP64 end record offset ${recordStart} is out of range`);
    const record = await file.read(recordStart, ZIP64_EOCD_SIZE);
    if (record.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw truncated(path, `no ZIP64 end of central directory record at offset ${recordStart}`);
    end.entryCount = u64(path, record, 32);
    end.cdSize = u64(path, record, 40);
    end.cdOffset = u64(path, record, 48);
    end.endStart = recordStart;
  }
  if (end.cdOffset + end.cdSize > end.endStart) {
    throw truncated(path, `its central directory (offset ${end.cdOffset}, ${end.cdSize} bytes) does not end before its end record (offset ${end.endStart})`);
  }
  if (end.cdSize > MAX_CENTRAL_DIRECTORY) {
    throw new WheelValidationError(path, [`In ${path}, the central directory is ${end.cdSize} bytes, more than the ${MAX_CENTRAL_DIRECTORY} supported`]);
  }
  return end;
}

function u64(path: string, buffer: Buffer, offset: number): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw truncated(path, `a 64-bit size or offset (${value}) is out of range`);
  return Number(value);
}

/** A ZipEntry while the archive is read: `dataOffset` is set once its local header has been checked. */
type EntryInProgress = { -readonly [K in keyof ZipEntry]: ZipEntry[K] };

/**
 * Builds one object per member, of one shape, and no other per-member garbage (views, copies, promises
 * for bytes already read): for wheels of tens of thousands of files, allocation and GC are what
 * opening costs.
 */
async function readEntries(path: string, file: WindowedFile, limits: InflateLimits, onCentralDirectory: ZipReaderOptions['onCentralDirectory']): Promise<ZipEntry[]> {
  const end = await readEndRecord(path, file);
  // Copied: a later read would replace the window the central directory was read through.
  const cd = Buffer.from(await file.read(end.cdOffset, end.cdSize));
  const problems = new ProblemList(path);
  /** Where each entry's name is in `cd`. */
  const nameAt: number[] = [];
  const entries = parseCentralDirectory(path, cd, end.entryCount, problems, nameAt);
  checkInflateLimits(entries, limits, problems);

  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) problems.add(`${e.name} appears more than once in the archive`);
    seen.add(e.name);
  }
  if (problems.size === 0) onCentralDirectory?.(entries);

  // Local headers in file order, so that the read-ahead window serves many of them at once; members
  // must not overlap one another nor the central directory (overlapping members are how zip bombs work).
  let order = entries.map((_, i) => i);
  if (!entries.every((e, i) => i === 0 || entries[i - 1].localHeaderOffset <= e.localHeaderOffset)) {
    order = order.sort((a, b) => entries[a].localHeaderOffset - entries[b].localHeaderOffset);
  }
  let previousEnd = 0;
  let previousName = '';
  for (const i of order) {
    const e = entries[i];
    if (e.localHeaderOffset < previousEnd) {
      problems.add(`${e.name} overlaps ${previousName} (corrupt or malicious archive)`);
      continue;
    }
    if (e.localHeaderOffset + LOCAL_HEADER_SIZE > end.cdOffset) {
      problems.add(`the local header of ${e.name} (offset ${e.localHeaderOffset}) is past the end of the member data: the archive is truncated or corrupt`);
      continue;
    }
    let window = file.holds(e.localHeaderOffset, LOCAL_HEADER_SIZE) ? file.current : await file.load(e.localHeaderOffset, LOCAL_HEADER_SIZE);
    let at = e.localHeaderOffset - file.windowStart;
    if (u32(window, at) !== SIG_LOCAL_HEADER) {
      problems.add(`${e.name} has no local header at offset ${e.localHeaderOffset}: the archive is corrupt`);
      continue;
    }
    const nameLength = u16(window, at + 26);
    const dataOffset = e.localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + u16(window, at + 28);
    if (dataOffset + e.compressedSize > end.cdOffset) {
      problems.add(`the data of ${e.name} runs past the end of the member data: the archive is truncated or corrupt`);
      continue;
    }
    if (!file.holds(e.localHeaderOffset, LOCAL_HEADER_SIZE + nameLength)) {
      window = await file.load(e.localHeaderOffset, LOCAL_HEADER_SIZE + nameLength);
      at = e.localHeaderOffset - file.windowStart;
    }
    if (u16(cd, nameAt[i] - CENTRAL_HEADER_SIZE + 28) !== nameLength || !sameBytes(cd, nameAt[i], window, at + LOCAL_HEADER_SIZE, nameLength)) {
      problems.add(`the local header of ${e.name} names ${JSON.stringify(window.toString('latin1', at + LOCAL_HEADER_SIZE, at + LOCAL_HEADER_SIZE + nameLength))}: the archive is corrupt`);
      continue;
    }
    e.dataOffset = dataOffset;
    previousEnd = dataOffset + e.compressedSize;
    previousName = e.name;
  }
  problems.throwIfAny();
  return entries;
}

/** The entries of the central directory (`nameAt[i]`: where entry i's name starts in `cd`). */
function parseCentralDirectory(path: string, cd: Buffer, entryCount: number, problems: ProblemList, nameAt: number[]): EntryInProgress[] {
  const entries: EntryInProgress[] = [];
  let p = 0;
  for (let i = 0; i < entryCount; i++) {
    if (p + CENTRAL_HEADER_SIZE > cd.length || u32(cd, p) !== SIG_CENTRAL_HEADER) {
      throw truncated(path, `central directory entry ${i + 1} of ${entryCount} is missing or corrupt`);
    }
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const nameLength = u16(cd, p + 28);
    const extraLength = u16(cd, p + 30);
    const commentLength = u16(cd, p + 32);
    const next = p + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (next > cd.length) throw truncated(path, `central directory entry ${i + 1} of ${entryCount} runs past the directory's end`);
    const nameStart = p + CENTRAL_HEADER_SIZE;
    const nameEnd = nameStart + nameLength;
    let name = flags & FLAG_UTF8 ? undefined : cd.toString('latin1', nameStart, nameEnd);
    if (name === undefined || HIGH_BYTE.test(name)) {
      try {
        name = decodeName(cd.subarray(nameStart, nameEnd), flags);
      } catch {
        problems.add(`member ${JSON.stringify(cd.toString('latin1', nameStart, nameEnd))} has a name that is not valid UTF-8`);
        p = next;
        continue;
      }
    }
    let uncompressedSize = u32(cd, p + 24);
    let compressedSize = u32(cd, p + 20);
    let localHeaderOffset = u32(cd, p + 42);
    let diskStart = u16(cd, p + 34);
    let zip64Broken = false;
    if (uncompressedSize === MAX_UINT32 || compressedSize === MAX_UINT32 || localHeaderOffset === MAX_UINT32 || diskStart === MAX_UINT16) {
      ({ uncompressedSize, compressedSize, localHeaderOffset, diskStart, zip64Broken } = widenFromZip64(cd.subarray(nameEnd, nameEnd + extraLength), {
        uncompressedSize,
        compressedSize,
        localHeaderOffset,
        diskStart,
        zip64Broken,
      }));
    }

    const unsafe = unsafeNameReason(name);
    if (unsafe) problems.add(`member ${JSON.stringify(name)} ${unsafe}; refusing to read it (zip-slip)`);
    if (zip64Broken) problems.add(`${name} has a missing or short ZIP64 extra field`);
    if (diskStart !== 0) problems.add(`${name} starts on another disk; multi-disk archives are not supported`);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS)) problems.add(`${name} is encrypted, which wheels cannot be`);
    else if (flags & FLAG_PATCHED_DATA) problems.add(`${name} is compressed patched data, which is not supported`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATED) {
      problems.add(`${name} uses compression method ${method}; only stored (0) and deflated (8) are supported`);
    }
    const externalAttributes = u32(cd, p + 38);
    const unsafeMode = unsafeModeReason(externalAttributes >>> 16);
    if (unsafeMode) problems.add(`member ${JSON.stringify(name)} ${unsafeMode}; refusing to read it`);
    entries.push({
      name,
      method: method as ZipMethod,
      flags,
      crc32: u32(cd, p + 16),
      compressedSize,
      uncompressedSize,
      modified: ((u16(cd, p + 14) << 16) | u16(cd, p + 12)) >>> 0,
      versionMadeBy: u16(cd, p + 4),
      externalAttributes,
      mode: externalAttributes >>> 16,
      localHeaderOffset,
      isDirectory: name.endsWith('/'),
      dataOffset: 0,
    });
    nameAt.push(nameStart);
    p = next;
  }
  return entries;
}

const HIGH_BYTE = /[\x80-\xff]/;

/** The zip-bomb bounds, from the declared sizes (the reader never inflates a member past its own). */
function checkInflateLimits(entries: readonly ZipEntry[], limits: InflateLimits, problems: ProblemList): void {
  const raise = limits.raiseWith ? `; if the archive is genuine, raise it with ${limits.raiseWith}` : '';
  let total = 0;
  for (const e of entries) {
    total += e.uncompressedSize;
    if (e.uncompressedSize <= RATIO_CHECK_MIN_BYTES) continue;
    const ratio = e.uncompressedSize / Math.max(e.compressedSize, 1);
    if (ratio > limits.maxRatio) {
      problems.add(
        `${e.name} declares ${e.uncompressedSize} bytes inflated from ${e.compressedSize} compressed, a ratio of ${Math.floor(ratio)}:1, over the limit of ${limits.maxRatio}:1 (a zip bomb?)${raise}`,
      );
    }
  }
  if (total > limits.maxTotalBytes) {
    problems.add(`its members declare ${total} bytes inflated in all, over the limit of ${limits.maxTotalBytes} bytes (${formatGiB(limits.maxTotalBytes)}; a zip bomb?)${raise}`);
  }
}

function formatGiB(bytes: number): string {
  return `${+(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Little-endian reads without Buffer's argument checks (the callers check the bounds), for per-member loops. */
function u16(b: Buffer, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function u32(b: Buffer, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
}

function sameBytes(a: Buffer, aStart: number, b: Buffer, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/**
 * ZIP64 extra: 64-bit values, in this order, for exactly the fields that hold their 32-bit maximum
 * (the disk number, 16-bit, widens to 32 bits). Sets `zip64Broken` when a value is missing or too large.
 */
function widenFromZip64<T extends { uncompressedSize: number; compressedSize: number; localHeaderOffset: number; diskStart: number; zip64Broken: boolean }>(extra: Buffer, v: T): T {
  const zip64 = findExtra(extra, ZIP64_EXTRA_ID);
  let q = 0;
  const widen = (value: number, max: number, bytes: 4 | 8): number => {
    if (value !== max) return value;
    if (!zip64 || q + bytes > zip64.length) return ((v.zip64Broken = true), value);
    const wide = bytes === 8 ? zip64.readBigUInt64LE(q) : BigInt(zip64.readUInt32LE(q));
    q += bytes;
    if (wide > BigInt(Number.MAX_SAFE_INTEGER)) return ((v.zip64Broken = true), value);
    return Number(wide);
  };
  v.uncompressedSize = widen(v.uncompressedSize, MAX_UINT32, 8);
  v.compressedSize = widen(v.compressedSize, MAX_UINT32, 8);
  v.localHeaderOffset = widen(v.localHeaderOffset, MAX_UINT32, 8);
  v.diskStart = widen(v.diskStart, MAX_UINT16, 4);
  return v;
}

/** The data of the first extra field with this id, or undefined. */
function findExtra(extra: Buffer, id: number): Buffer | undefined {
  for (let p = 0; p + 4 <= extra.length; ) {
    const size = extra.readUInt16LE(p + 2);
    if (extra.readUInt16LE(p) === id) return extra.subarray(p + 4, Math.min(p + 4 + size, extra.length));
    p += 4 + size;
  }
  return undefined;
}
