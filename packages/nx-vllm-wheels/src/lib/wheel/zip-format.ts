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
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  const parts = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (parts.includes('..')) return "has a '..' component (escapes the archive root)";
  if (parts.some((p) => p === '' || p === '.')) return "has an empty or '.' path component";
  return undefined;
}
