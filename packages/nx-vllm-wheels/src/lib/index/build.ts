import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WheelError } from '../errors';
import { tempSibling, writeFileAtomic } from '../fs';
import { getHeader, normalizeName, openWheel, parseHeaders } from '../wheel';
import { IndexError } from './errors';
import { fileUrl, groupByProject, type InstallHints, renderLandingPage, renderProjectHtml, renderProjectJson, renderRootHtml, renderRootJson } from './render';
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
 * Same inputs give the same bytes. Wheels are validated first (a bad one: nothing is written); wheels
 * are copied into a staging directory beside `outDir`, hashed in the same pass, and moved in only when
 * the merge with `existing` succeeded; pages are written atomically after the files they link to.
 */
export async function buildIndex(options: BuildIndexOptions): Promise<IndexState> {
  const inputs = await readInputs(options.wheels);
  const outDir = options.outDir;
  mkdirSync(dirname(outDir), { recursive: true });
  const staging = tempSibling(outDir);
  let state: IndexState;
  try {
    const added: IndexedFile[] = [];
    for (const input of inputs) {
      const rel = join('files', input.project, input.filename);
      const target = join(staging, rel);
      mkdirSync(dirname(target), { recursive: true });
      const { sha256, size } = await copyWithHash(input.path, target);
      writeFileAtomic(`${target}.metadata`, input.metadata);
      added.push({
        project: input.project,
        filename: input.filename,
        sha256,
        size,
        ...(input.requiresPython !== undefined && { requiresPython: input.requiresPython }),
        metadataSha256: createHash('sha256').update(input.metadata).digest('hex'),
        url: fileUrl(input.project, input.filename),
      });
    }
    state = mergeState(options.existing, added);
    for (const input of inputs) {
      const rel = join('files', input.project, input.filename);
      mkdirSync(dirname(join(outDir, rel)), { recursive: true });
      renameSync(join(staging, `${rel}.metadata`), join(outDir, `${rel}.metadata`));
      renameSync(join(staging, rel), join(outDir, rel));
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  writePages(outDir, state, options);
  return state;
}

/** Validates every wheel, collecting every problem, and reads its METADATA bytes. */
async function readInputs(paths: readonly string[]): Promise<Input[]> {
  const problems: string[] = [];
  const inputs: Input[] = [];
  for (const path of paths) {
    try {
      const wheel = await openWheel(path);
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

/** Copies `from` to `to`, streaming, returning the hex sha256 and size computed in the same pass. */
async function copyWithHash(from: string, to: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(createReadStream(from, { highWaterMark: 1024 * 1024 }), tap, createWriteStream(to));
  return { sha256: hash.digest('hex'), size };
}

/** Project pages first, then the roots, then the state: a reader never sees a link to a missing page. */
function writePages(outDir: string, state: IndexState, options: BuildIndexOptions): void {
  const projects = groupByProject(state);
  for (const [project, files] of projects) {
    writeFileAtomic(join(outDir, 'simple', project, 'index.html'), renderProjectHtml(project, files));
    writeFileAtomic(join(outDir, 'simple', project, 'index.json'), renderProjectJson(project, files));
  }
  const names = projects.map(([p]) => p);
  writeFileAtomic(join(outDir, 'simple', 'index.html'), renderRootHtml(names));
  writeFileAtomic(join(outDir, 'simple', 'index.json'), renderRootJson(names));
  writeFileAtomic(join(outDir, 'index.html'), renderLandingPage(state, options));
  writeFileAtomic(join(outDir, 'index-state.json'), `${JSON.stringify(state, null, 2)}\n`);
}
