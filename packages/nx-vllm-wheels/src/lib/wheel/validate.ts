import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { WheelError } from '../errors';
import { getHeader, type HeaderDocument, parseHeaders } from './metadata';
import { normalizeName, parseWheelFileName, splitMetadataDirName, type WheelFileName } from './names';
import { ProblemList, WheelValidationError } from './problems';
import { createRecordHasher, digestBytes, formatHash, parseRecord, type RecordEntry } from './record';
import type { InflateLimits } from './zip-format';
import { LargeMembers, type MemberVerifierOptions } from './member-verifier';
import { inflatedMemberProblem, type ZipEntry, ZipReader } from './zip-read';

/** METADATA, WHEEL and RECORD are read into memory; this bounds them (a RECORD of 100k files is ~10 MB). */
const MAX_TEXT_MEMBER = 64 * 1024 * 1024;

/** Everything validation learned about a wheel. */
export interface WheelInfo {
  readonly path: string;
  readonly fileName: WheelFileName;
  /** e.g. `vllm-0.9.0+cpu.dist-info` (no trailing slash). */
  readonly distInfoDir: string;
  /** The wheel's `.data` directory when it has one. */
  readonly dataDir?: string;
  readonly metadata: HeaderDocument;
  readonly wheel: HeaderDocument;
  readonly recordPath: string;
  /** RECORD's rows in file order. */
  readonly record: readonly RecordEntry[];
}

/** A validated wheel whose archive is still open: close `zip` when done. */
export interface OpenWheel extends WheelInfo {
  readonly zip: ZipReader;
}

/**
 * Opens a wheel and checks all of it before anything is done with it: the file name, the archive
 * (see ZipReader), one `.dist-info` directory matching the file name, METADATA (Name and Version agreeing
 * with the file name), WHEEL, and RECORD against every member, hashing each member's inflated content.
 * Throws one WheelValidationError listing every problem. See OpenWheelOptions for deferring the hashes.
 */
export async function openWheel(path: string, options: OpenWheelOptions = {}): Promise<OpenWheel> {
  const problems = new ProblemList(path);
  let fileName: WheelFileName | undefined;
  try {
    fileName = parseWheelFileName(basename(path));
  } catch (e) {
    if (!(e instanceof WheelError)) throw e;
    problems.add(e.message);
  }
  const large = new LargeMembers(path, options.verifier);
  if (!options.deferHashes) large.warmUp(await stat(path).then((s) => s.size, () => 0));
  let zip: ZipReader;
  try {
    // The large members start as soon as the central directory is known, before the local headers are read.
    const onCentralDirectory = options.deferHashes ? undefined : (entries: readonly ZipEntry[]) => large.startAll(entries);
    zip = await ZipReader.open(path, { ...(options.limits && { limits: options.limits }), onCentralDirectory });
  } catch (e) {
    await large.close();
    if (!(e instanceof WheelValidationError)) throw e;
    problems.addAll(e.problems);
    problems.throwIfAny();
    throw e;
  }
  try {
    const info = await checkContents(zip, fileName, problems, Boolean(options.deferHashes), large, options.onChecked);
    if (options.deferHashes && problems.size > 0) {
      // The error must be the one a full validation gives (every problem, in member order).
      await zip.close();
      await openWheel(path);
      throw new WheelError(`${path}: validation with deferred hashes found problems a full validation did not (a bug).`);
    }
    problems.throwIfAny();
    if (!info) throw new WheelError(`${path}: validation found no problem but could not describe the wheel (a bug).`);
    return { ...info, zip };
  } catch (e) {
    await zip.close();
    throw e;
  } finally {
    await large.close();
  }
}

export interface OpenWheelOptions {
  /** What the members may inflate to (see ZipReader; DEFAULT_INFLATE_LIMITS when absent). */
  limits?: InflateLimits;
  /**
   * Do not inflate and hash the members a copy keeps unchanged (all but METADATA, WHEEL and
   * entry_points.txt, which are read and rewritten, see `isDeferredHash`): only check that each one's
   * RECORD size is its central directory size. Everything else is checked as without this option.
   * For a caller that reads only the metadata of wheels this plugin wrote and checked itself (the
   * index build): it must not trust or derive anything from the other members' content. renameWheel,
   * which takes wheels from builds and caches, never defers. On any problem the full validation runs,
   * so the error is the same as without this option.
   */
  deferHashes?: boolean;
  /** How large members are verified (for tests: the main thread's fallback). */
  verifier?: MemberVerifierOptions;
  /**
   * Called once everything but the large members' content has been checked, without a problem, while
   * those are still being verified (on the worker): for work that prepares meanwhile (renameWheel plans
   * which members its copy keeps). Nothing may be written or trusted before openWheel resolves.
   */
  onChecked?: (checked: OpenWheel) => void;
}

/** Whether openWheel with `deferHashes` left the member's RECORD hash unchecked. */
export function isDeferredHash(wheel: Pick<WheelInfo, 'distInfoDir' | 'recordPath'>, name: string): boolean {
  return deferredHashTest(wheel.distInfoDir, wheel.recordPath)(name);
}

function deferredHashTest(distInfoDir: string, recordPath: string): (name: string) => boolean {
  const read = new Set([`${distInfoDir}/METADATA`, `${distInfoDir}/WHEEL`, `${distInfoDir}/entry_points.txt`, ...unhashedNames(recordPath)]);
  return (name) => !read.has(name) && !name.endsWith('/');
}

/** Validates a wheel (see openWheel) and closes it. */
export async function validateWheel(path: string, options: Pick<OpenWheelOptions, 'limits' | 'verifier'> = {}): Promise<WheelInfo> {
  const { zip, ...info } = await openWheel(path, options);
  await zip.close();
  return info;
}

/** Fills `problems`; returns the wheel's description when nothing prevented building one. */
async function checkContents(
  zip: ZipReader,
  fileName: WheelFileName | undefined,
  problems: ProblemList,
  deferHashes: boolean,
  large: LargeMembers,
  onChecked: OpenWheelOptions['onChecked'],
): Promise<WheelInfo | undefined> {
  const topDirSet = new Set<string>();
  let last = '';
  for (const { name } of zip.entries) {
    // Members of one directory come together: most names start with the last directory seen.
    if (last && name.length > last.length && name.charCodeAt(last.length) === 0x2f && name.startsWith(last)) continue;
    const slash = name.indexOf('/');
    if (slash >= 0) topDirSet.add((last = name.slice(0, slash)));
  }
  const topDirs = [...topDirSet];
  const distInfos = topDirs.filter((d) => d.endsWith('.dist-info'));
  if (distInfos.length !== 1) {
    problems.add(distInfos.length === 0 ? 'there is no .dist-info directory' : `there are ${distInfos.length} .dist-info directories (${distInfos.join(', ')}); a wheel has exactly one`);
    return undefined;
  }
  const distInfoDir = distInfos[0];
  const parts = splitMetadataDirName(distInfoDir);
  if (!parts) problems.add(`${distInfoDir}/ is not named <name>-<version>.dist-info`);
  else if (fileName && !sameProject(parts, fileName)) {
    problems.add(`${distInfoDir}/ does not match the file name's distribution ${fileName.distribution} and version ${fileName.version}`);
  }
  const dataDirs = topDirs.filter((d) => d.endsWith('.data'));
  const expectedDataDir = `${distInfoDir.slice(0, -'.dist-info'.length)}.data`;
  for (const d of dataDirs) if (d !== expectedDataDir) problems.add(`${d}/ is not this wheel's data directory (${expectedDataDir}/)`);

  const metadata = await readHeaders(zip, `${distInfoDir}/METADATA`, problems);
  if (metadata) checkMetadata(metadata, `${distInfoDir}/METADATA`, fileName, problems);
  const wheel = await readHeaders(zip, `${distInfoDir}/WHEEL`, problems);
  if (wheel) {
    const wheelVersion = getHeader(wheel, 'Wheel-Version');
    if (!wheelVersion) problems.add(`${distInfoDir}/WHEEL has no Wheel-Version`);
    else if (!/^1\.\d+$/.test(wheelVersion)) problems.add(`${distInfoDir}/WHEEL has Wheel-Version ${wheelVersion}; only 1.x is supported`);
  }
  const recordPath = `${distInfoDir}/RECORD`;
  const record = await readRecord(zip, recordPath, problems);
  const defer = deferHashes ? deferredHashTest(distInfoDir, recordPath) : () => false;
  const members = record ? await checkRecord(zip, recordPath, record, problems, defer, large) : undefined;

  const info: WheelInfo | undefined =
    fileName && metadata && wheel && record
      ? { path: zip.path, fileName, distInfoDir, ...(dataDirs.includes(expectedDataDir) && { dataDir: expectedDataDir }), metadata, wheel, recordPath, record }
      : undefined;
  if (info && problems.size === 0 && !members?.found) onChecked?.({ ...info, zip });
  await members?.settle();
  return info;
}

function sameProject(a: { name: string; version: string }, fileName: WheelFileName): boolean {
  return normalizeName(a.name) === normalizeName(fileName.distribution) && a.version.toLowerCase() === fileName.version.toLowerCase();
}

function checkMetadata(metadata: HeaderDocument, member: string, fileName: WheelFileName | undefined, problems: ProblemList): void {
  const name = getHeader(metadata, 'Name');
  const version = getHeader(metadata, 'Version');
  if (!getHeader(metadata, 'Metadata-Version')) problems.add(`${member} has no Metadata-Version`);
  if (!name) problems.add(`${member} has no Name`);
  if (!version) problems.add(`${member} has no Version`);
  if (!fileName) return;
  if (name && normalizeName(name) !== normalizeName(fileName.distribution)) {
    problems.add(`${member} has Name ${name}, but the file name says ${fileName.distribution}`);
  }
  if (version && version.toLowerCase() !== fileName.version.toLowerCase()) {
    problems.add(`${member} has Version ${version}, but the file name says ${fileName.version}`);
  }
}

async function readText(zip: ZipReader, member: string, problems: ProblemList): Promise<string | undefined> {
  const entry = zip.get(member);
  if (!entry) {
    problems.add(`${member} is missing`);
    return undefined;
  }
  let bytes: Buffer;
  try {
    bytes = await zip.readBuffer(entry, MAX_TEXT_MEMBER);
  } catch (e) {
    if (!(e instanceof WheelError)) throw e;
    problems.addAll([e.message]);
    return undefined;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    problems.add(`${member} is not valid UTF-8`);
    return undefined;
  }
}

async function readHeaders(zip: ZipReader, member: string, problems: ProblemList): Promise<HeaderDocument | undefined> {
  const text = await readText(zip, member, problems);
  return text === undefined ? undefined : parseHeaders(text);
}

async function readRecord(zip: ZipReader, recordPath: string, problems: ProblemList): Promise<RecordEntry[] | undefined> {
  const text = await readText(zip, recordPath, problems);
  if (text === undefined) return undefined;
  const { entries, issues } = parseRecord(text);
  for (const issue of issues) problems.add(`${recordPath} line ${issue.line}: ${issue.message}`);
  return issues.length ? undefined : [...entries];
}

/** RECORD's own row and signatures of it are listed without a hash (PEP 376 / PEP 427). */
function unhashedNames(recordPath: string): string[] {
  return [recordPath, `${recordPath}.jws`, `${recordPath}.p7s`];
}

/**
 * pypa/installer's validate_record, with content: every file member has a RECORD row with a hash, its
 * inflated content matches that hash and size; every row names a member. For `defer`red members, only
 * the size is checked, against the central directory. The rows' problems are added at once, the
 * members' (in member order) by the returned settle().
 */
async function checkRecord(zip: ZipReader, recordPath: string, record: readonly RecordEntry[], problems: ProblemList, defer: (name: string) => boolean, large: LargeMembers): Promise<MemberChecks> {
  const rows = new Map<string, RecordEntry>();
  for (const row of record) {
    if (rows.has(row.path)) problems.add(`${row.path} is listed more than once in RECORD`);
    rows.set(row.path, row);
  }
  for (const row of rows.values()) if (!zip.get(row.path)) problems.add(`RECORD lists ${row.path}, which is not in the archive`);
  const unhashed = new Set(unhashedNames(recordPath));
  const inOrder: (readonly string[] | Promise<readonly string[]>)[] = [];
  const at = (text: string) => [`In ${zip.path}, ${text}`];
  for (const entry of zip.entries) {
    if (entry.isDirectory || unhashed.has(entry.name)) continue;
    const row = rows.get(entry.name);
    if (!row) inOrder.push(at(`${entry.name} is not mentioned in RECORD`));
    else if (!row.hash) inOrder.push(at(`hash of ${entry.name} is not included in RECORD`));
    else if (defer(entry.name)) {
      // Reported by the full validation that follows (as a hash / size or a data problem).
      if (row.size !== undefined && row.size !== entry.uncompressedSize) inOrder.push(at(`${entry.name} has ${entry.uncompressedSize} bytes, but RECORD says ${row.size}`));
    } else if (LargeMembers.isLarge(entry)) {
      const checked = large.result(entry, row.hash.algorithm).then((inflated) => {
        if (inflated.kind === 'unsupported') return streamMember(zip, entry, row);
        const problem = inflatedMemberProblem(zip.path, entry, inflated) ?? (inflated.kind === 'read' ? hashProblem(zip.path, entry, row, inflated.digest, inflated.size) : undefined);
        return problem ? [problem] : [];
      });
      checked.catch(() => undefined); // awaited below
      inOrder.push(checked);
    } else {
      const found = checkMember(zip, entry, row);
      inOrder.push(found instanceof Promise ? await found : found);
    }
  }
  return {
    found: inOrder.some((found) => !(found instanceof Promise) && found.length > 0),
    settle: async () => {
      for (const found of inOrder) problems.addAll(await found);
    },
  };
}

/** What checkRecord found: the members' problems are added (in member order) by settle(), which waits for the large members. */
interface MemberChecks {
  /** Whether a member's problem was found before the large members' results. */
  readonly found: boolean;
  settle(): Promise<void>;
}

/** The validator's message when a member's content is not what its RECORD row says, else undefined. */
function hashProblem(archive: string, entry: ZipEntry, row: RecordEntry, digest: string, size: number): string | undefined {
  if (digest === row.hash!.value && (row.size === undefined || row.size === size)) return undefined;
  return `In ${archive}, hash / size of ${entry.name} didn't match RECORD (RECORD: ${formatHash(row.hash!)}, ${row.size ?? 'no size'}; content: ${formatHash({ algorithm: row.hash!.algorithm, value: digest })}, ${size})`;
}

/**
 * A small member's problems, synchronously when its bytes have been read already (see
 * ZipReader.smallDataIfHeld), else streamed.
 */
function checkMember(zip: ZipReader, entry: ZipEntry, row: RecordEntry): readonly string[] | Promise<readonly string[]> {
  let data: Buffer | undefined;
  try {
    data = zip.smallDataIfHeld(entry);
  } catch (e) {
    if (!(e instanceof WheelError)) throw e;
    return [e.message];
  }
  if (!data) return streamMember(zip, entry, row);
  const problem = hashProblem(zip.path, entry, row, digestBytes(data, row.hash!.algorithm), data.length);
  return problem ? [problem] : [];
}

async function streamMember(zip: ZipReader, entry: ZipEntry, row: RecordEntry): Promise<readonly string[]> {
  const hasher = createRecordHasher(row.hash!.algorithm);
  let size = 0;
  try {
    await zip.consumeData(entry, (chunk) => {
      hasher.update(chunk);
      size += chunk.length;
    });
  } catch (e) {
    if (!(e instanceof WheelError)) throw e;
    return [e.message];
  }
  const problem = hashProblem(zip.path, entry, row, hasher.digest().value, size);
  return problem ? [problem] : [];
}
