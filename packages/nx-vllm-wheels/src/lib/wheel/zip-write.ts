import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';
import { WheelError } from '../errors';
import {
  DEFAULT_DIR_MODE,
  DEFAULT_FILE_MODE,
  DOS_DIRECTORY_ATTR,
  type DosDateTime,
  encodeName,
  EOCD_SIZE,
  HOST_UNIX,
  LOCAL_HEADER_SIZE,
  CENTRAL_HEADER_SIZE,
  MAX_UINT16,
  MAX_UINT32,
  METHOD_DEFLATED,
  METHOD_STORED,
  SIG_CENTRAL_HEADER,
  SIG_EOCD,
  SIG_LOCAL_HEADER,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
  unsafeNameReason,
  VERSION_DEFAULT,
  VERSION_ZIP64,
  ZIP64_EOCD_SIZE,
  ZIP64_EXTRA_ID,
  ZIP64_LOCATOR_SIZE,
  type ZipMethod,
} from './zip-format';
import type { ZipEntry } from './zip-read';

/** Member content for `addData`: small content in memory, anything large as a stream. */
export type ZipData = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface ZipWriterOptions {
  /** Write ZIP64 fields for every member and the ZIP64 end records even when nothing needs them. */
  forceZip64?: boolean;
}

export interface AddDataOptions {
  modified: DosDateTime;
  /** Unix st_mode; defaults to a regular file rw-r--r-- (a directory rwxr-xr-x for names ending in "/"). */
  mode?: number;
  /** Defaults to deflated (stored for directories). */
  method?: ZipMethod;
  /** zlib level, 0..9; defaults to zlib's 6, like Python's zipfile. */
  level?: number;
  /**
   * Reserve ZIP64 sizes in the local header, for streamed content that may exceed 4 GiB (its size is only
   * known at the end; without this, such content is refused, as Python's zipfile does without force_zip64).
   */
  zip64?: boolean;
}

/** What a raw copy needs to know about the member it copies: a `ZipEntry` fits. */
export type RawSource = Pick<
  ZipEntry,
  'method' | 'flags' | 'crc32' | 'compressedSize' | 'uncompressedSize' | 'modified' | 'versionMadeBy' | 'externalAttributes'
>;

export interface WrittenEntry {
  readonly name: string;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
}

interface CentralRecord extends WrittenEntry {
  nameBytes: Buffer;
  flags: number;
  method: ZipMethod;
  modified: DosDateTime;
  /** Only the host byte (high byte) is kept; the spec version is derived when the header is written. */
  versionMadeBy: number;
  externalAttributes: number;
  localHeaderOffset: number;
}

/** Deflate option bits (1-2) carry over in raw copies; every other flag is recomputed. */
const FLAG_DEFLATE_OPTIONS = 0x0006;

/**
 * A minimal, streaming ZIP writer. Members are appended either as raw copies of another archive's
 * compressed bytes (no recompression; CRC and sizes taken from the source) or as new content, deflated
 * with the CRC computed while streaming. Local headers always carry the real CRC and sizes (new content
 * is patched in place after it is written), so no data descriptors are used. ZIP64 structures are
 * written when a size, an offset or the member count needs them.
 */
export class ZipWriter {
  private readonly records: CentralRecord[] = [];
  private readonly names = new Set<string>();
  private state: 'open' | 'failed' | 'closed' = 'open';

  private constructor(
    readonly path: string,
    private readonly out: BufferedFile,
    private readonly options: ZipWriterOptions,
  ) {}

  /** Creates (or truncates) the file at `path`. */
  static async create(path: string, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'w');
    } catch (cause) {
      throw new WheelError(`Cannot create ${path}: ${(cause as Error).message}`, { cause });
    }
    return new ZipWriter(path, new BufferedFile(handle), options);
  }

  get entries(): readonly WrittenEntry[] {
    return this.records;
  }

  /** Appends a member by copying `raw`, the still-compressed bytes of `source`, under `name`. */
  addRaw(name: string, source: RawSource, raw: AsyncIterable<Uint8Array>): Promise<WrittenEntry> {
    return this.addRawFrom(name, source, async (write) => {
      for await (const chunk of raw) await write(chunk);
    });
  }

  /**
   * Like addRaw, with the caller pushing the compressed bytes: `pump` calls `write` for each chunk, in
   * order (the chunk may be reused once the promise settles); a failure of `pump` fails the member.
   */
  addRawFrom(name: string, source: RawSource, pump: (write: (chunk: Uint8Array) => Promise<void>) => Promise<void>): Promise<WrittenEntry> {
    return this.guard(name, async () => {
      const zip64 = this.options.forceZip64 || source.compressedSize >= MAX_UINT32 || source.uncompressedSize >= MAX_UINT32;
      const record = this.newRecord(name, {
        flags: source.flags & FLAG_DEFLATE_OPTIONS,
        method: source.method,
        modified: source.modified,
        versionMadeBy: source.versionMadeBy, // keeps the host system the attributes belong to
        externalAttributes: source.externalAttributes,
        crc32: source.crc32,
        compressedSize: source.compressedSize,
        uncompressedSize: source.uncompressedSize,
      });
      await this.out.write(localHeader(record, zip64));
      let copied = 0;
      const tooMany = () => new WheelError(`Raw copy of ${name} into ${this.path}: expected ${source.compressedSize} compressed bytes, got more.`);
      await pump(async (chunk) => {
        copied += chunk.length;
        if (copied > source.compressedSize) throw tooMany();
        await this.out.write(chunk);
      });
      if (copied !== source.compressedSize) {
        throw new WheelError(`Raw copy of ${name} into ${this.path}: expected ${source.compressedSize} compressed bytes, got ${copied}.`);
      }
      return this.commit(record);
    });
  }

  /** Appends a member with new content (directories: a name ending in "/" and empty content). */
  addData(name: string, data: ZipData, options: AddDataOptions): Promise<WrittenEntry> {
    return this.guard(name, async () => {
      const isDirectory = name.endsWith('/');
      const method = isDirectory ? METHOD_STORED : (options.method ?? METHOD_DEFLATED);
      const mode = options.mode ?? (isDirectory ? DEFAULT_DIR_MODE : DEFAULT_FILE_MODE);
      const zip64 = Boolean(this.options.forceZip64 || options.zip64);
      const record = this.newRecord(name, {
        flags: 0,
        method,
        modified: options.modified,
        versionMadeBy: HOST_UNIX << 8,
        externalAttributes: (((mode & 0xffff) << 16) | (isDirectory ? DOS_DIRECTORY_ATTR : 0)) >>> 0,
        crc32: 0,
        compressedSize: 0,
        uncompressedSize: 0,
      });
      if (isDirectory && (typeof data === 'string' || data instanceof Uint8Array) && data.length > 0) {
        throw new WheelError(`Cannot write ${name} into ${this.path}: a directory entry has no content.`);
      }
      await this.out.write(localHeader(record, zip64));
      const counted = typeof data === 'string' || data instanceof Uint8Array ? await this.writeBuffer(Buffer.from(data), method, options.level) : await this.writeStream(data, method, options.level);
      Object.assign(record, counted);
      if (isDirectory && record.uncompressedSize > 0) throw new WheelError(`Cannot write ${name} into ${this.path}: a directory entry has no content.`);
      if (!zip64 && (record.compressedSize >= MAX_UINT32 || record.uncompressedSize >= MAX_UINT32)) {
        throw new WheelError(`Cannot write ${name} into ${this.path}: it is larger than 4 GiB; pass { zip64: true } for such content.`);
      }
      // Patch CRC and sizes into the local header written before the data.
      await this.out.patch(record.localHeaderOffset + 14, localSizes(record, zip64));
      if (zip64) await this.out.patch(record.localHeaderOffset + LOCAL_HEADER_SIZE + record.nameBytes.length + 4, zip64Sizes(record));
      return this.commit(record);
    });
  }

  /** Writes the central directory and end records, flushes to disk and closes the file. */
  async finish(): Promise<void> {
    this.assertOpen('finish');
    try {
      const cdOffset = this.out.position;
      for (const r of this.records) await this.out.write(centralHeader(r, Boolean(this.options.forceZip64)));
      const cdSize = this.out.position - cdOffset;
      const count = this.records.length;
      const zip64 = this.options.forceZip64 || count >= MAX_UINT16 || cdOffset >= MAX_UINT32 || cdSize >= MAX_UINT32;
      if (zip64) {
        const recordOffset = this.out.position;
        await this.out.write(zip64EndRecord(count, cdOffset, cdSize));
        await this.out.write(zip64Locator(recordOffset));
      }
      await this.out.write(endRecord(zip64 ? MAX_UINT16 : count, zip64 ? MAX_UINT32 : cdSize, zip64 ? MAX_UINT32 : cdOffset));
      await this.out.flush();
      await this.out.handle.sync();
    } catch (e) {
      await this.abort();
      throw e;
    }
    this.state = 'closed';
    await this.out.handle.close();
  }

  /** Closes the file without finishing it (the caller removes it). Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.out.handle.close().catch(() => undefined);
  }

  private async guard(name: string, write: () => Promise<WrittenEntry>): Promise<WrittenEntry> {
    this.assertOpen(`add ${name}`);
    const unsafe = unsafeNameReason(name);
    if (unsafe) throw new WheelError(`Cannot write member ${JSON.stringify(name)} into ${this.path}: it ${unsafe}.`);
    if (this.names.has(name)) throw new WheelError(`Cannot write ${name} into ${this.path}: it is already in the archive.`);
    try {
      return await write();
    } catch (e) {
      this.state = 'failed'; // a member is half written; only abort() remains
      throw e;
    }
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') throw new WheelError(`Cannot ${what}: ${this.path} is ${this.state === 'failed' ? 'broken by an earlier error' : 'closed'}.`);
  }

  private newRecord(name: string, fields: Omit<CentralRecord, 'name' | 'nameBytes' | 'localHeaderOffset'>): CentralRecord {
    const { bytes, flags } = encodeName(name);
    if (bytes.length > MAX_UINT16) throw new WheelError(`Cannot write ${name.slice(0, 80)}… into ${this.path}: the name is longer than 65535 bytes.`);
    return { ...fields, name, nameBytes: bytes, flags: fields.flags | flags, localHeaderOffset: this.out.position };
  }

  private commit(record: CentralRecord): WrittenEntry {
    this.records.push(record);
    this.names.add(record.name);
    return record;
  }

  private async writeBuffer(data: Buffer, method: ZipMethod, level?: number): Promise<Counted> {
    const stored = method === METHOD_DEFLATED ? deflateRawSync(data, { level }) : data;
    await this.out.write(stored);
    return { crc32: crc32(data), uncompressedSize: data.length, compressedSize: stored.length };
  }

  private async writeStream(data: AsyncIterable<Uint8Array>, method: ZipMethod, level?: number): Promise<Counted> {
    const counter = new CrcCounter();
    let compressedSize = 0;
    const sink = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        compressedSize += chunk.length;
        await this.out.write(chunk);
      }
    };
    if (method === METHOD_DEFLATED) await pipeline(Readable.from(data, { objectMode: false }), counter, createDeflateRaw({ level }), sink);
    else await pipeline(Readable.from(data, { objectMode: false }), counter, sink);
    return { crc32: counter.crc, uncompressedSize: counter.size, compressedSize };
  }
}

type Counted = Pick<WrittenEntry, 'crc32' | 'compressedSize' | 'uncompressedSize'>;

class CrcCounter extends Transform {
  crc = 0;
  size = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    callback(null, chunk);
  }
}

function localHeader(r: CentralRecord, zip64: boolean): Buffer {
  const extraLength = zip64 ? 20 : 0;
  const b = Buffer.alloc(LOCAL_HEADER_SIZE + r.nameBytes.length + extraLength);
  b.writeUInt32LE(SIG_LOCAL_HEADER, 0);
  b.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
  b.writeUInt16LE(r.flags, 6);
  b.writeUInt16LE(r.method, 8);
  b.writeUInt16LE(r.modified & 0xffff, 10);
  b.writeUInt16LE(r.modified >>> 16, 12);
  localSizes(r, zip64).copy(b, 14);
  b.writeUInt16LE(r.nameBytes.length, 26);
  b.writeUInt16LE(extraLength, 28);
  r.nameBytes.copy(b, LOCAL_HEADER_SIZE);
  if (zip64) {
    const extra = LOCAL_HEADER_SIZE + r.nameBytes.length;
    b.writeUInt16LE(ZIP64_EXTRA_ID, extra);
    b.writeUInt16LE(16, extra + 2);
    zip64Sizes(r).copy(b, extra + 4);
  }
  return b;
}

/** CRC-32, compressed and uncompressed size: bytes 14..25 of a local header. */
function localSizes(r: WrittenEntry, zip64: boolean): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(r.crc32, 0);
  b.writeUInt32LE(zip64 ? MAX_UINT32 : r.compressedSize, 4);
  b.writeUInt32LE(zip64 ? MAX_UINT32 : r.uncompressedSize, 8);
  return b;
}

/** A local header's ZIP64 extra data: both sizes, uncompressed first. */
function zip64Sizes(r: WrittenEntry): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(r.uncompressedSize), 0);
  b.writeBigUInt64LE(BigInt(r.compressedSize), 8);
  return b;
}

function centralHeader(r: CentralRecord, force: boolean): Buffer {
  // In the central directory, the ZIP64 extra holds exactly the fields that overflow (in this order).
  const wide = [r.uncompressedSize, r.compressedSize, r.localHeaderOffset].map((v) => force || v >= MAX_UINT32);
  const extraValues = [r.uncompressedSize, r.compressedSize, r.localHeaderOffset].filter((_, i) => wide[i]);
  const extraLength = extraValues.length ? 4 + 8 * extraValues.length : 0;
  const needed = extraValues.length ? VERSION_ZIP64 : VERSION_DEFAULT;
  const b = Buffer.alloc(CENTRAL_HEADER_SIZE + r.nameBytes.length + extraLength);
  b.writeUInt32LE(SIG_CENTRAL_HEADER, 0);
  b.writeUInt16LE((r.versionMadeBy & 0xff00) | needed, 4);
  b.writeUInt16LE(needed, 6);
  b.writeUInt16LE(r.flags, 8);
  b.writeUInt16LE(r.method, 10);
  b.writeUInt16LE(r.modified & 0xffff, 12);
  b.writeUInt16LE(r.modified >>> 16, 14);
  b.writeUInt32LE(r.crc32, 16);
  b.writeUInt32LE(wide[1] ? MAX_UINT32 : r.compressedSize, 20);
  b.writeUInt32LE(wide[0] ? MAX_UINT32 : r.uncompressedSize, 24);
  b.writeUInt16LE(r.nameBytes.length, 28);
  b.writeUInt16LE(extraLength, 30);
  // comment length, disk number start, internal attributes: 0
  b.writeUInt32LE(r.externalAttributes, 38);
  b.writeUInt32LE(wide[2] ? MAX_UINT32 : r.localHeaderOffset, 42);
  r.nameBytes.copy(b, CENTRAL_HEADER_SIZE);
  if (extraLength) {
    const p = CENTRAL_HEADER_SIZE + r.nameBytes.length;
    b.writeUInt16LE(ZIP64_EXTRA_ID, p);
    b.writeUInt16LE(extraLength - 4, p + 2);
    extraValues.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), p + 4 + 8 * i));
  }
  return b;
}

function zip64EndRecord(count: number, cdOffset: number, cdSize: number): Buffer {
  const b = Buffer.alloc(ZIP64_EOCD_SIZE);
  b.writeUInt32LE(SIG_ZIP64_EOCD, 0);
  b.writeBigUInt64LE(BigInt(ZIP64_EOCD_SIZE - 12), 4); // size of the rest of the record
  b.writeUInt16LE((HOST_UNIX << 8) | VERSION_ZIP64, 12);
  b.writeUInt16LE(VERSION_ZIP64, 14);
  // this disk, disk with the central directory: 0
  b.writeBigUInt64LE(BigInt(count), 24);
  b.writeBigUInt64LE(BigInt(count), 32);
  b.writeBigUInt64LE(BigInt(cdSize), 40);
  b.writeBigUInt64LE(BigInt(cdOffset), 48);
  return b;
}

function zip64Locator(recordOffset: number): Buffer {
  const b = Buffer.alloc(ZIP64_LOCATOR_SIZE);
  b.writeUInt32LE(SIG_ZIP64_LOCATOR, 0);
  b.writeBigUInt64LE(BigInt(recordOffset), 8);
  b.writeUInt32LE(1, 16); // total number of disks
  return b;
}

function endRecord(count: number, cdSize: number, cdOffset: number): Buffer {
  const b = Buffer.alloc(EOCD_SIZE);
  b.writeUInt32LE(SIG_EOCD, 0);
  b.writeUInt16LE(count, 8);
  b.writeUInt16LE(count, 10);
  b.writeUInt32LE(cdSize, 12);
  b.writeUInt32LE(cdOffset, 16);
  return b;
}

const BUFFER_SIZE = 1024 * 1024;

/** Sequential writes through a 1 MiB buffer, plus in-place patches of what was already written. */
class BufferedFile {
  private readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  /** File offset of the buffer's first byte. */
  private flushed = 0;

  constructor(readonly handle: FileHandle) {}

  get position(): number {
    return this.flushed + this.used;
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.used + data.length > BUFFER_SIZE) await this.flush();
    if (data.length >= BUFFER_SIZE) {
      await this.writeAt(data, this.flushed);
      this.flushed += data.length;
    } else {
      this.buffer.set(data, this.used);
      this.used += data.length;
    }
  }

  /** Overwrites bytes already written at `position`. */
  async patch(position: number, data: Uint8Array): Promise<void> {
    if (position + data.length > this.position) throw new RangeError('patch beyond the written data');
    if (position < this.flushed && position + data.length > this.flushed) await this.flush();
    if (position >= this.flushed) this.buffer.set(data, position - this.flushed);
    else await this.writeAt(data, position);
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.writeAt(this.buffer.subarray(0, this.used), this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }

  private async writeAt(data: Uint8Array, position: number): Promise<void> {
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }
}
