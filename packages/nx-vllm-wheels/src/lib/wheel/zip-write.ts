import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { crc32, createDeflateRaw, deflateRaw, deflateRawSync } from 'node:zlib';
import { WheelError } from '../errors';
import {
  FLAG_UTF8,
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

/** Content compressed by ZipWriter.prepare. */
export class PreparedData {
  constructor(
    readonly method: ZipMethod,
    /** The bytes as stored in the archive. */
    readonly stored: Buffer,
    readonly crc32: number,
    readonly uncompressedSize: number,
  ) {}
}

/** Member content for `addData`: small content in memory (or prepared), anything large as a stream. */
export type ZipData = string | Uint8Array | PreparedData | AsyncIterable<Uint8Array>;

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

/** A member already in the file ZipWriter.extend continues, as it was (or would have been) written by addRaw. */
export interface KeptMember extends RawSource {
  readonly name: string;
  readonly localHeaderOffset: number;
}

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
    /** Members ZipWriter.extend found in place, before `records` (as they are: no object per member). */
    private readonly kept: readonly KeptMember[] = [],
    /** Their central directory headers, rendered ahead by planKeep. */
    private readonly keptCentral: readonly Buffer[] = [],
    /** Where the file that extend continues ends: finish() cuts what is left of it beyond the archive. */
    private readonly staleEnd = 0,
  ) {
    for (const m of kept) this.names.add(m.name);
  }

  /** Creates (or truncates) the file at `path`. */
  static async create(path: string, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'w');
    } catch (cause) {
      throw new WheelError(`Cannot create ${path}: ${(cause as Error).message}`, { cause });
    }
    return new ZipWriter(path, new BufferedFile(handle, 0), options);
  }

  /**
   * Continues the archive whose beginning is already in the file at `path`, typically a kernel copy of
   * the archive the plan was made from (see planKeep): the plan's members stay where they are, their
   * local headers' times are rewritten in place where the plan says so, and what is added next is
   * written right after them (finish() cuts the file where the archive ends). The result is byte for
   * byte what writing the plan's members with addRaw, in order, would have given.
   */
  static async extend(path: string, plan: KeepPlan, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (cause) {
      throw new WheelError(`Cannot open ${path}: ${(cause as Error).message}`, { cause });
    }
    try {
      const { size } = await handle.stat();
      if (size < plan.end) throw new WheelError(`Cannot continue ${path}: it has ${size} bytes, fewer than the ${plan.end} its kept members take.`);
      await patchTimes(handle, plan.timePatches);
      // Not cut here but by finish(), and only when the archive ends up shorter than the copy.
      return new ZipWriter(path, new BufferedFile(handle, plan.end), options, plan.members.slice(0, plan.kept), plan.central, size);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Compresses content ahead of addData (deflate runs in zlib's thread pool, so other work goes on
   * meanwhile); addData then writes exactly what it would have written for `data` itself.
   */
  static async prepare(data: string | Uint8Array, options: Pick<AddDataOptions, 'method' | 'level'> = {}): Promise<PreparedData> {
    const bytes = Buffer.from(data);
    const method = options.method ?? METHOD_DEFLATED;
    const stored = method === METHOD_DEFLATED ? await deflateRawAsync(bytes, { level: options.level }) : bytes;
    return new PreparedData(method, stored, crc32(bytes), bytes.length);
  }

  get entries(): readonly WrittenEntry[] {
    return this.kept.length ? [...this.kept, ...this.records] : this.records;
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
      const zip64 = rawCopyZip64(source, this.options);
      const { bytes, flags } = this.checkedName(name);
      const record = rawRecord(name, source, bytes, flags, this.out.position);
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
      const knownSize = data instanceof PreparedData ? data.uncompressedSize : typeof data === 'string' || data instanceof Uint8Array ? data.length : 0;
      if (isDirectory && knownSize > 0) {
        throw new WheelError(`Cannot write ${name} into ${this.path}: a directory entry has no content.`);
      }
      await this.out.write(localHeader(record, zip64));
      let counted: Counted;
      if (data instanceof PreparedData) {
        if (data.method !== method) throw new WheelError(`Cannot write ${name} into ${this.path}: its content was prepared for method ${data.method}, not ${method}.`);
        await this.out.write(data.stored);
        counted = { crc32: data.crc32, uncompressedSize: data.uncompressedSize, compressedSize: data.stored.length };
      } else if (typeof data === 'string' || data instanceof Uint8Array) {
        counted = await this.writeBuffer(Buffer.from(data), method, options.level);
      } else {
        counted = await this.writeStream(data, method, options.level);
      }
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
      const force = Boolean(this.options.forceZip64);
      for (const chunk of this.keptCentral) await this.out.write(chunk);
      // Written straight into the output buffer: no Buffer per member.
      for (const r of this.records) {
        const length = centralHeaderLength(r, r.nameBytes.length, force);
        if (!this.out.fits(length)) await this.out.flush();
        writeCentralHeader(this.out.buffer, this.out.reserve(length), r, r.flags, r.nameBytes, r.nameBytes.length, force);
      }
      const cdSize = this.out.position - cdOffset;
      const count = this.kept.length + this.records.length;
      const zip64 = this.options.forceZip64 || count >= MAX_UINT16 || cdOffset >= MAX_UINT32 || cdSize >= MAX_UINT32;
      if (zip64) {
        const recordOffset = this.out.position;
        await this.out.write(zip64EndRecord(count, cdOffset, cdSize));
        await this.out.write(zip64Locator(recordOffset));
      }
      await this.out.write(endRecord(zip64 ? MAX_UINT16 : count, zip64 ? MAX_UINT32 : cdSize, zip64 ? MAX_UINT32 : cdOffset));
      await this.out.flush();
      if (this.staleEnd > this.out.position) await this.out.handle.truncate(this.out.position);
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
    const { bytes, flags } = this.checkedName(name);
    return { ...fields, name, nameBytes: bytes, flags: fields.flags | flags, localHeaderOffset: this.out.position };
  }

  private checkedName(name: string): { bytes: Buffer; flags: number } {
    const encoded = encodeName(name);
    if (encoded.bytes.length > MAX_UINT16) throw new WheelError(`Cannot write ${name.slice(0, 80)}… into ${this.path}: the name is longer than 65535 bytes.`);
    return encoded;
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

const deflateRawAsync = promisify(deflateRaw);

/** Which members a copy of their archive keeps where they are: made by planKeep, for ZipWriter.extend. */
export interface KeepPlan {
  /** How many members are kept: the first ones of `members`. */
  readonly kept: number;
  readonly members: readonly KeptMember[];
  /** Where the last kept member ends: what is added next is written there. */
  readonly end: number;
  /** Local headers (by offset) whose time field must be rewritten. */
  readonly timePatches: readonly { readonly position: number; readonly modified: DosDateTime }[];
  /** The kept members' central directory headers, rendered ahead (in chunks of at most 1 MiB). */
  readonly central: readonly Buffer[];
}

/**
 * The longest run of `members` (in order, the first at offset 0, each right after the previous one)
 * whose local headers, as `localHeaderOf(i)` gives them from the archive they come from, are exactly
 * what addRaw(member.name, member) writes at that offset, except for the time (rewritten in place
 * when it differs from `member.modified`). A copy of that archive then holds those members as this
 * writer would write them, and ZipWriter.extend can continue it.
 */
export async function planKeep(members: readonly KeptMember[], localHeaderOf: (index: number) => Buffer | Promise<Buffer>, options: ZipWriterOptions = {}): Promise<KeepPlan> {
  const timePatches: { position: number; modified: DosDateTime }[] = [];
  const names = new Set<string>();
  const want = Buffer.allocUnsafe(LOCAL_HEADER_SIZE + MAX_UINT16 + 20);
  const central = new CentralChunks(Boolean(options.forceZip64));
  let position = 0;
  let kept = 0;
  for (const member of members) {
    const name = member.name;
    const nameLength = Buffer.byteLength(name);
    if (member.localHeaderOffset !== position || nameLength > MAX_UINT16 || names.has(name) || unsafeNameReason(name)) break;
    const length = writeLocalHeader(want, member, rawCopyFlags(member, name, nameLength), name, nameLength, rawCopyZip64(member, options));
    const header = localHeaderOf(kept);
    const have = header instanceof Promise ? await header : header; // most are read ahead: no promise to wait for
    // All but the time (bytes 10..13) must be what addRaw writes.
    if (have.length !== length || !sameBytes(want, have, 0, 10) || !sameBytes(want, have, 14, length)) break;
    if (have.readUInt32LE(10) !== want.readUInt32LE(10)) timePatches.push({ position: position + 10, modified: member.modified });
    central.add(member, rawCopyFlags(member, name, nameLength), name, nameLength);
    names.add(name);
    kept++;
    position += length + member.compressedSize;
  }
  return { kept, members, end: position, timePatches, central: central.done() };
}

/** Central directory headers rendered into 1 MiB chunks. */
class CentralChunks {
  private readonly chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  constructor(private readonly force: boolean) {}

  add(r: HeaderFields, flags: number, name: string, nameLength: number): void {
    const length = centralHeaderLength(r, nameLength, this.force);
    if (this.used + length > this.chunk.length) {
      this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(BUFFER_SIZE);
      this.used = 0;
    }
    writeCentralHeader(this.chunk, this.used, r, flags, name, nameLength, this.force);
    this.used += length;
  }

  done(): Buffer[] {
    if (this.used) this.chunks.push(this.chunk.subarray(0, this.used));
    return this.chunks;
  }
}

/** Whether a and b hold the same bytes from `start` to `end` (headers: too short for Buffer.compare's overhead). */
function sameBytes(a: Buffer, b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Rewrites local header times in place, reading and writing back up to 1 MiB of headers at a time. */
async function patchTimes(handle: FileHandle, patches: KeepPlan['timePatches']): Promise<void> {
  const buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  for (let i = 0; i < patches.length; ) {
    const start = patches[i].position;
    let j = i;
    while (j < patches.length && patches[j].position + 4 - start <= BUFFER_SIZE) j++;
    const length = patches[j - 1].position + 4 - start;
    for (let done = 0; done < length; ) {
      const { bytesRead } = await handle.read(buffer, done, length - done, start + done);
      if (bytesRead === 0) throw new WheelError(`Cannot patch a local header at offset ${start + done}: the file ends there.`);
      done += bytesRead;
    }
    for (; i < j; i++) {
      const { position, modified } = patches[i];
      buffer.writeUInt16LE(modified & 0xffff, position - start);
      buffer.writeUInt16LE(modified >>> 16, position - start + 2);
    }
    for (let done = 0; done < length; ) {
      const { bytesWritten } = await handle.write(buffer, done, length - done, start + done);
      done += bytesWritten;
    }
  }
}

function rawCopyZip64(source: RawSource, options: ZipWriterOptions): boolean {
  return Boolean(options.forceZip64 || source.compressedSize >= MAX_UINT32 || source.uncompressedSize >= MAX_UINT32);
}

/** The flags of a raw copy of `source` named `name`: its deflate options, and UTF-8 for a name that is not ASCII. */
function rawCopyFlags(source: RawSource, name: string, nameLength = Buffer.byteLength(name)): number {
  return (source.flags & FLAG_DEFLATE_OPTIONS) | (nameLength === name.length ? 0 : FLAG_UTF8);
}

/** The record of a raw copy of `source` named `name` (encoded as `nameBytes`, `nameFlags`) at `localHeaderOffset`. */
function rawRecord(name: string, source: RawSource, nameBytes: Buffer, nameFlags: number, localHeaderOffset: number): CentralRecord {
  return {
    name,
    nameBytes,
    flags: (source.flags & FLAG_DEFLATE_OPTIONS) | nameFlags,
    method: source.method,
    modified: source.modified,
    versionMadeBy: source.versionMadeBy, // keeps the host system the attributes belong to
    externalAttributes: source.externalAttributes,
    crc32: source.crc32,
    compressedSize: source.compressedSize,
    uncompressedSize: source.uncompressedSize,
    localHeaderOffset,
  };
}

class CrcCounter extends Transform {
  crc = 0;
  size = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    callback(null, chunk);
  }
}

/** What a member's headers say besides its name and flags. */
type HeaderFields = Pick<CentralRecord, 'method' | 'modified' | 'versionMadeBy' | 'externalAttributes' | 'crc32' | 'compressedSize' | 'uncompressedSize' | 'localHeaderOffset'>;

function localHeader(r: CentralRecord, zip64: boolean): Buffer {
  const b = Buffer.alloc(LOCAL_HEADER_SIZE + r.nameBytes.length + (zip64 ? 20 : 0));
  writeLocalHeader(b, r, r.flags, r.nameBytes, r.nameBytes.length, zip64);
  return b;
}

/** Writes the local header into the start of `b`; returns its length. `name` is `nameLength` bytes in UTF-8. */
function writeLocalHeader(b: Buffer, r: Omit<HeaderFields, 'localHeaderOffset'>, flags: number, name: Buffer | string, nameLength: number, zip64: boolean): number {
  const extraLength = zip64 ? 20 : 0;
  w32(b, 0, SIG_LOCAL_HEADER);
  w16(b, 4, zip64 ? VERSION_ZIP64 : VERSION_DEFAULT);
  w16(b, 6, flags);
  w16(b, 8, r.method);
  w32(b, 10, r.modified);
  w32(b, 14, r.crc32);
  w32(b, 18, zip64 ? MAX_UINT32 : r.compressedSize);
  w32(b, 22, zip64 ? MAX_UINT32 : r.uncompressedSize);
  w16(b, 26, nameLength);
  w16(b, 28, extraLength);
  writeName(b, LOCAL_HEADER_SIZE, name, nameLength);
  if (zip64) {
    const extra = LOCAL_HEADER_SIZE + nameLength;
    b.writeUInt16LE(ZIP64_EXTRA_ID, extra);
    b.writeUInt16LE(16, extra + 2);
    b.writeBigUInt64LE(BigInt(r.uncompressedSize), extra + 4);
    b.writeBigUInt64LE(BigInt(r.compressedSize), extra + 12);
  }
  return LOCAL_HEADER_SIZE + nameLength + extraLength;
}

/** Little-endian stores without Buffer's argument checks, for the per-member header loops (values fit). */
function w16(b: Buffer, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
}

function w32(b: Buffer, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

/** Writes a name (as UTF-8, `nameLength` bytes) at `b[at]`; ASCII names without a call into C++. */
function writeName(b: Buffer, at: number, name: Buffer | string, nameLength: number): void {
  if (typeof name !== 'string') name.copy(b, at);
  else if (nameLength === name.length) for (let i = 0; i < nameLength; i++) b[at + i] = name.charCodeAt(i);
  else b.write(name, at, 'utf8');
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

/** In the central directory, the ZIP64 extra holds exactly the fields that overflow, in this order. */
function wideFields(r: HeaderFields, force: boolean): [uncompressed: boolean, compressed: boolean, offset: boolean] {
  return [force || r.uncompressedSize >= MAX_UINT32, force || r.compressedSize >= MAX_UINT32, force || r.localHeaderOffset >= MAX_UINT32];
}

function needsWideFields(r: HeaderFields, force: boolean): boolean {
  return force || r.uncompressedSize >= MAX_UINT32 || r.compressedSize >= MAX_UINT32 || r.localHeaderOffset >= MAX_UINT32;
}

function centralHeaderLength(r: HeaderFields, nameLength: number, force: boolean): number {
  return CENTRAL_HEADER_SIZE + nameLength + (needsWideFields(r, force) ? 4 + 8 * wideFields(r, force).filter(Boolean).length : 0);
}

const NOT_WIDE: [boolean, boolean, boolean] = [false, false, false];

/** Writes the central directory header at `b[at]` (centralHeaderLength bytes). `name` is `nameLength` bytes in UTF-8. */
function writeCentralHeader(b: Buffer, at: number, r: HeaderFields, flags: number, name: Buffer | string, nameLength: number, force: boolean): void {
  const wide = needsWideFields(r, force) ? wideFields(r, force) : NOT_WIDE;
  const extraValues = wide === NOT_WIDE ? [] : [r.uncompressedSize, r.compressedSize, r.localHeaderOffset].filter((_, i) => wide[i]);
  const extraLength = extraValues.length ? 4 + 8 * extraValues.length : 0;
  const needed = extraValues.length ? VERSION_ZIP64 : VERSION_DEFAULT;
  w32(b, at, SIG_CENTRAL_HEADER);
  w16(b, at + 4, (r.versionMadeBy & 0xff00) | needed);
  w16(b, at + 6, needed);
  w16(b, at + 8, flags);
  w16(b, at + 10, r.method);
  w32(b, at + 12, r.modified);
  w32(b, at + 16, r.crc32);
  w32(b, at + 20, wide[1] ? MAX_UINT32 : r.compressedSize);
  w32(b, at + 24, wide[0] ? MAX_UINT32 : r.uncompressedSize);
  w16(b, at + 28, nameLength);
  w16(b, at + 30, extraLength);
  w32(b, at + 32, 0); // comment length, disk number start,
  w16(b, at + 36, 0); // internal attributes
  w32(b, at + 38, r.externalAttributes);
  w32(b, at + 42, wide[2] ? MAX_UINT32 : r.localHeaderOffset);
  writeName(b, at + CENTRAL_HEADER_SIZE, name, nameLength);
  if (extraLength) {
    const p = at + CENTRAL_HEADER_SIZE + nameLength;
    b.writeUInt16LE(ZIP64_EXTRA_ID, p);
    b.writeUInt16LE(extraLength - 4, p + 2);
    extraValues.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), p + 4 + 8 * i));
  }
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
  readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;

  constructor(
    readonly handle: FileHandle,
    /** File offset of the buffer's first byte: where writing starts. */
    private flushed: number,
  ) {}

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

  /** Whether `length` more bytes fit in the buffer without a flush. */
  fits(length: number): boolean {
    return this.used + length <= BUFFER_SIZE;
  }

  /** Appends `length` bytes, which must fit (see `fits`): the caller puts them at `buffer[<the result>]`. */
  reserve(length: number): number {
    if (!this.fits(length)) throw new RangeError('reserve beyond the buffer');
    const at = this.used;
    this.used += length;
    return at;
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
