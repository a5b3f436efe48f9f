import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WheelError } from '../errors';
import { removeStaleTempSiblings, tempSibling, writeFileAtomic } from '../fs';
import { getHeader, normalizeName, openWheel, parseHeaders } from '../wheel';
import { IndexError } from './errors';
import { FileHasher } from './file-hasher';
import { renderIndexPages } from './pages';
import { fileUrl, type InstallHints } from './render';
import { type IndexedFile, type IndexState, mergeState } from './state';

const MAX_METADATA = 64 * 1024 * 1024;

export interface BuildIndexOptions {
  /** Wheel paths; each is validated (file name, METADATA, RECORD) before anything is written. */
  readonly wheels: readonly string[];
  readonly outDir: string;
  /** What is already published (a previous `index-state.json`): kept, and never allowed to change. */
  readonly existing?: IndexState;
  /** Where the index root is served (`https://bucket.example/vllm`), for the landing page's commands. */
  readonly baseUrl?: string;
  readonly title?: string;
  readonly installHints?: InstallHints;
  /** Called as each wheel has been copied and hashed (progress for large wheels). */
  readonly onFile?: (file: { readonly filename: string; readonly sha256: string; readonly size: number }) => void;
  /**
   * Wheels that may be hard-linked into the index instead of copied (same file system): only files
   * that are never rewritten in place, i.e. replaced by rename (the `wheel` target's output, which Nx
   * also restores by remove + copy). A user's file (`extraWheels`) may be rewritten in place (`curl -o`)
   * and is always copied, so a later edit can never change a file the index has published.
   */
  readonly hardLink?: (wheel: string) => boolean;
  /** The local version a wheel was built as before it was stripped (recorded in the state, see IndexedFile). */
  readonly localVersion?: (wheel: string) => string | undefined;
}

interface Input {
  readonly path: string;
  readonly project: string;
  readonly filename: string;
  readonly metadata: Buffer;
  readonly requiresPython?: string;
}

/**
 * Writes a static PEP 503 / 691 / 658 simple repository into `outDir`:
 * `files/<project>/<wheel>` and `<wheel>.metadata`, `simple/index.{html,json}`,
 * `simple/<project>/index.{html,json}`, a landing page `index.html` and `index-state.json`.
 * Same inputs give the same bytes. Every wheel is validated (a bad one: nothing is written in
 * `outDir`) while, at the same time, it is copied into a staging directory beside `outDir` and hashed;
 * the copies are moved in only when all are valid and the merge with `existing` succeeded; pages are
 * written atomically after the files they link to.
 */
export async function buildIndex(options: BuildIndexOptions): Promise<IndexState> {
  const outDir = options.outDir;
  mkdirSync(dirname(outDir), { recursive: true });
  removeStaleTempSiblings(outDir);
  const staging = tempSibling(outDir);
  mkdirSync(staging);
  const hasher = new FileHasher();
  let state: IndexState;
  try {
    // Two lanes: this thread validates each wheel's structure (names, METADATA, WHEEL, RECORD listing
    // every member) while each file is copied in the kernel (copyFile: copy_file_range, or a reflink) and
    // hashed on a worker thread. Member contents are not re-hashed against RECORD here: the `wheel` target
    // wrote those rows, installers check each member's CRC-32 as they extract it, and the whole-file
    // sha256 the index publishes is what pip and uv verify (see decisions.md, 19).
    const [validated, copied] = await Promise.allSettled([readInputs(options.wheels), copyAndHash(options.wheels, staging, hasher, options)]);
    if (validated.status === 'rejected') throw validated.reason;
    if (copied.status === 'rejected') throw copied.reason;
    const inputs = validated.value;
    const added = inputs.map((input, i): IndexedFile => ({
      project: input.project,
      filename: input.filename,
      sha256: copied.value[i].sha256,
      size: copied.value[i].size,
      ...(input.requiresPython !== undefined && { requiresPython: input.requiresPython }),
      metadataSha256: createHash('sha256').update(input.metadata).digest('hex'),
      ...localVersionOf(options, input.path),
      url: fileUrl(input.project, input.filename),
    }));
    state = mergeState(options.existing, added);
    inputs.forEach((input, i) => {
      const target = join(outDir, 'files', input.project, input.filename);
      writeFileAtomic(`${target}.metadata`, input.metadata);
      renameSync(copied.value[i].copy, target);
    });
  } finally {
    await hasher.close();
    rmSync(staging, { recursive: true, force: true });
  }
  writePages(outDir, state, options);
  return state;
}

function localVersionOf(options: BuildIndexOptions, wheel: string): { localVersion?: string } {
  const localVersion = options.localVersion?.(wheel);
  return localVersion === undefined ? {} : { localVersion };
}

/**
 * Copies each wheel into `staging` and hashes it, in order. The copy and the hash read the same file at
 * the same time; a file replaced or changed meanwhile (its inode, size or mtime moved) is an error,
 * so the recorded sha256 is the copy's.
 */
async function copyAndHash(paths: readonly string[], staging: string, hasher: FileHasher, options: Pick<BuildIndexOptions, 'onFile' | 'hardLink'>) {
  const out: { copy: string; sha256: string; size: number }[] = [];
  for (const [i, path] of paths.entries()) {
    const copy = join(staging, `${i}.whl`);
    const before = statSync(path);
    const [, hashed] = await Promise.all([options.hardLink?.(path) ? linkOrCopy(path, copy) : copyFile(path, copy), hasher.hash(path)]);
    const after = statSync(path);
    if (before.ino !== after.ino || before.mtimeMs !== after.mtimeMs || before.size !== hashed.size || after.size !== hashed.size || statSync(copy).size !== hashed.size) {
      throw new IndexError(`${path} changed while it was being indexed (it must not be written meanwhile); nothing was written. Run again.`);
    }
    out.push({ copy, ...hashed });
    options.onFile?.({ filename: basename(path), ...hashed });
  }
  return out;
}

/** A hard link (no bytes written: the index costs its hashing only), or a copy across file systems. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (e) {
    if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    await copyFile(from, to);
  }
}

/** Validates every wheel, collecting every problem, and reads its METADATA bytes. */
async function readInputs(paths: readonly string[]): Promise<Input[]> {
  const problems: string[] = [];
  const inputs: Input[] = [];
  for (const path of paths) {
    try {
      const wheel = await openWheel(path, { deferHashes: true });
      let metadata: Buffer;
      try {
        metadata = await wheel.zip.readBuffer(wheel.zip.get(`${wheel.distInfoDir}/METADATA`)!, MAX_METADATA);
      } finally {
        await wheel.zip.close();
      }
      const requiresPython = getHeader(parseHeaders(metadata.toString('utf8')), 'Requires-Python');
      inputs.push({
        path,
        project: normalizeName(wheel.fileName.distribution),
        filename: basename(path),
        metadata,
        ...(requiresPython !== undefined && { requiresPython }),
      });
    } catch (e) {
      if (e instanceof WheelError) problems.push(e.message.includes(path) ? e.message : `${path}: ${e.message}`);
      else if ((e as NodeJS.ErrnoException).code) problems.push(`${path}: ${(e as Error).message}`);
      else throw e;
    }
  }
  if (problems.length) throw new IndexError(`Cannot index ${problems.length === 1 ? 'a wheel' : `${problems.length} wheels`}; nothing was written:\n${problems.join('\n')}`);
  return inputs;
}

/** Project pages first, then the roots, then the state: a reader never sees a link to a missing page. */
function writePages(outDir: string, state: IndexState, options: BuildIndexOptions): void {
  for (const page of renderIndexPages(state, options)) writeFileAtomic(join(outDir, page.path), page.content);
}
