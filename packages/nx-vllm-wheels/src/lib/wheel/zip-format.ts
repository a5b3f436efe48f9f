/**
 * ZIP format constants and pure helpers shared by the reader and the writer (APPNOTE.TXT 6.3.x).
 * Only what wheels need: stored and deflated members, ZIP64, no encryption, no multi-disk archives.
 */

export const SIG_LOCAL_HEADER = 0x04034b50;
export const SIG_CENTRAL_HEADER = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;

export const LOCAL_HEADER_SIZE = 30;
export const CENTRAL_HEADER_SIZE = 46;
export const EOCD_SIZE = 22;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;
/** The EOCD is followed by a comment of at most 65535 bytes, so it starts within this many bytes of the end. */
export const EOCD_SEARCH_SIZE = EOCD_SIZE + 0xffff;

export const ZIP64_EXTRA_ID = 0x0001;
/** A 32-bit size or offset field holding this value means "see the ZIP64 extra field". */
export const MAX_UINT32 = 0xffffffff;
export const MAX_UINT16 = 0xffff;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;
export type ZipMethod = typeof METHOD_STORED | typeof METHOD_DEFLATED;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_PATCHED_DATA = 0x0020;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;
export const FLAG_MASKED_HEADERS = 0x2000;

/** "Version made by" host byte for Unix: external attributes hold `st_mode << 16`. */
export const HOST_UNIX = 3;
export const VERSION_DEFAULT = 20; // 2.0: deflate, directories
export const VERSION_ZIP64 = 45; // 4.5: ZIP64 extensions

/** Regular file rw-r--r-- and directory rwxr-xr-x, as Python's zipfile and pypa/wheel write them. */
export const DEFAULT_FILE_MODE = 0o100644;
export const DEFAULT_DIR_MODE = 0o40755;
/** MS-DOS directory attribute, set beside the Unix mode for directory entries. */
export const DOS_DIRECTORY_ATTR = 0x10;

/**
 * A DOS date and time packed as `(date << 16) | time`, the two 16-bit fields of a zip header. Packed this
 * way the numbers order like the instants they stand for, so timestamps can be clamped with Math.min.
 */
export type DosDateTime = number;

/** 1980-01-01 00:00:00, the earliest DOS time (what pypa/wheel clamps to). */
export const DOS_EPOCH: DosDateTime = ((0 << 9) | (1 << 5) | 1) << 16;

/** The DOS time (UTC, 2-second resolution) of a Unix timestamp in seconds, clamped to 1980..2107. */
export function dosDateTimeFromEpoch(seconds: number): DosDateTime {
  const d = new Date(Math.floor(seconds) * 1000);
  const year = d.getUTCFullYear();
  if (!(year >= 1980)) return DOS_EPOCH; // also NaN
  if (year > 2107) return packDos(2107, 12, 31, 23, 59, 58);
  return packDos(year, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}

function packDos(year: number, month: number, day: number, hour: number, minute: number, second: number): DosDateTime {
  const date = ((year - 1980) << 9) | (month << 5) | day;
  const time = (hour << 11) | (minute << 5) | (second >> 1);
  return ((date << 16) | time) >>> 0;
}

/** The Unix timestamp (UTC) of a DOS date and time. */
export function epochFromDosDateTime(value: DosDateTime): number {
  const date = value >>> 16;
  const time = value & 0xffff;
  return (
    Date.UTC(1980 + (date >>> 9), ((date >>> 5) & 0xf) - 1, date & 0x1f, time >>> 11, (time >>> 5) & 0x3f, (time & 0x1f) * 2) / 1000
  );
}

/** Code page 437, bytes 0x80..0xFF: names without the UTF-8 flag are decoded with it, as Python's zipfile does. */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/** Decodes a member name: UTF-8 when the flag says so, else CP437. Throws on invalid UTF-8. */
export function decodeName(bytes: Buffer, flags: number): string {
  if (flags & FLAG_UTF8) return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  const latin1 = bytes.toString('latin1');
  if (!/[\x80-\xff]/.test(latin1)) return latin1; // plain ASCII, the common case
  let out = '';
  for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return out;
}

/** Encodes a member name as UTF-8; the UTF-8 flag is needed when it is not plain ASCII. */
export function encodeName(name: string): { bytes: Buffer; flags: number } {
  const bytes = Buffer.from(name, 'utf8');
  return { bytes, flags: /^[\x00-\x7f]*$/.test(name) ? 0 : FLAG_UTF8 };
}

/** Components of word characters, ".", "+" and "-" that do not start with "." (so never "." or ".."). */
const PLAIN_NAME = /^(?:[\w+-][\w.+-]*\/)*[\w+-][\w.+-]*\/?$/;

/**
 * Why a member name is unsafe to extract (zip-slip and friends), or undefined when it is a normalized
 * relative path. Directory entries end with "/".
 */
export function unsafeNameReason(name: string): string | undefined {
  if (PLAIN_NAME.test(name)) return undefined; // the common case, decided by one regex
  if (name === '') return 'has an empty name';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.includes('\0')) return 'contains a NUL character';
  const control = /[\x01-\x1f\x7f-\x9f]/.exec(name);
  if (control) return `contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  const parts = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (parts.includes('..')) return "has a '..' component (escapes the archive root)";
  if (parts.some((p) => p === '' || p === '.')) return "has an empty or '.' path component";
  return undefined;
}

/** st_mode's file type bits, and the two types a wheel member may have (PEP 427 archives hold files and directories). */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/**
 * Why a member's Unix mode (external attributes `>>> 16`) makes it unsafe to extract, or undefined: a
 * symbolic link (an extractor that honours it writes or reads through it, outside the target directory)
 * or any other special file. No type (mode 0, archives made on other hosts) is a regular file.
 */
export function unsafeModeReason(mode: number): string | undefined {
  const type = mode & S_IFMT;
  if (type === 0 || type === S_IFREG || type === S_IFDIR) return undefined;
  if (type === S_IFLNK) return 'is a symbolic link';
  return `is a special file (st_mode type 0o${type.toString(8)})`;
}

/**
 * Bounds on what an archive may inflate to, checked from the central directory before anything is
 * inflated. They also hold while inflating: no member is ever inflated past its declared size (the
 * reader fails it there), so declared sizes that lie cannot get past them.
 */
export interface InflateLimits {
  /** The sum of the members' uncompressed sizes, in bytes. */
  readonly maxTotalBytes: number;
  /** A member's uncompressed size over its compressed size, for members above RATIO_CHECK_MIN_BYTES. */
  readonly maxRatio: number;
  /** Where a caller can raise them, for the message (e.g. `packages/x/wheel.json "inflateLimits"`). */
  readonly raiseWith?: string;
}

/**
 * Real vLLM CPU wheels are ~50-100 MB compressed, ~300 MB inflated, and their largest members (shared
 * libraries) compress 3-5:1: 4 GiB and 200:1 leave ten times that room, while a zip bomb (deflate reaches
 * ~1000:1; a 2 MB wheel declaring 2 GiB) is refused before a byte is inflated.
 */
export const DEFAULT_INFLATE_LIMITS: InflateLimits = { maxTotalBytes: 4 * 1024 ** 3, maxRatio: 200 };

/** Smaller members may compress better (a file of zeros) and cannot make a bomb: the ratio is not checked. */
export const RATIO_CHECK_MIN_BYTES = 1024 * 1024;
