import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { recordingLogger } from '../log';
import { tempDir } from '../../test-support/temp';
import { createDirectoryStore } from './directory-store';
import { CacheServerError } from './errors';
import { createS3Store, parseS3Url } from './s3-store';
import { startCacheServer } from './server';
import type { CacheStore } from './store';
import { request, waitFor } from './test-support/http';
import { startMoto, type MotoServer } from './test-support/moto';

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream that sends `head`, then fails as a dropped client connection does. */
function failingAfter(head: Buffer): Readable {
  const s = new PassThrough();
  // A store that answers "exists" never reads the body: its later failure is nobody's business.
  s.on('error', () => undefined);
  s.write(head);
  setTimeout(() => s.destroy(new Error('client connection reset')), 20);
  return s;
}

let moto: MotoServer;
let bucketCount = 0;
beforeAll(async () => {
  moto = await startMoto();
}, 10 * 60_000);
afterAll(async () => {
  await moto?.stop();
});

async function newBucket(): Promise<string> {
  const name = `cache-test-${++bucketCount}`;
  await moto.createBucket(name);
  return name;
}

const stores: [string, () => Promise<{ store: CacheStore; temps: () => string[] }>][] = [
  [
    'directory',
    async () => {
      const dir = tempDir('cache-store');
      const store = createDirectoryStore({ dir });
      await store.check();
      return { store, temps: () => readdirSync(join(dir, 'tmp')) };
    },
  ],
  [
    's3 (moto)',
    async () => {
      const store = createS3Store({ bucket: await newBucket(), prefix: 'nx/cache', client: moto.client });
      await store.check();
      return { store, temps: () => [] };
    },
  ],
  [
    's3 (moto) without conditional put',
    async () => {
      const store = createS3Store({ bucket: await newBucket(), client: moto.client, conditionalPut: false });
      await store.check();
      return { store, temps: () => [] };
    },
  ],
];

describe.each(stores)('%s store', (_name, make) => {
  it('stores an entry once: put, has, get give back the same bytes', async () => {
    const { store, temps } = await make();
    const bytes = randomBytes(5 << 20);
    expect(await store.has('e1')).toBe(false);
    expect(await store.get('e1')).toBeUndefined();
    expect(await store.putIfAbsent('e1', Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), bytes.length)).toBe('created');
    expect(await store.has('e1')).toBe(true);
    const entry = await store.get('e1');
    expect(entry?.size).toBe(bytes.length);
    expect((await readAll(entry!.body)).equals(bytes)).toBe(true);
    expect(temps()).toEqual([]);
  });

  it('never overwrites: a second put is "exists" and the first bytes stay', async () => {
    const { store } = await make();
    const first = Buffer.from('the first entry');
    await store.putIfAbsent('e2', Readable.from([first]), first.length);
    const other = Buffer.from('another body for the same hash');
    expect(await store.putIfAbsent('e2', Readable.from([other]), other.length)).toBe('exists');
    expect(await readAll((await store.get('e2'))!.body)).toEqual(first);
  });

  it('a failed upload of an existing hash never loses the entry', async () => {
    const { store } = await make();
    const first = Buffer.from('precious');
    await store.putIfAbsent('e3', Readable.from([first]), first.length);
    await store.putIfAbsent('e3', failingAfter(Buffer.alloc(100)), 1000).catch(() => 'failed');
    expect(await readAll((await store.get('e3'))!.body)).toEqual(first);
  });

  it('a body that fails midway or is shorter or longer than declared stores nothing', async () => {
    const { store, temps } = await make();
    await expect(store.putIfAbsent('e4', failingAfter(Buffer.alloc(64 << 10)), 1 << 20)).rejects.toThrow();
    await expect(store.putIfAbsent('e5', Readable.from([Buffer.alloc(10)]), 11)).rejects.toThrow(CacheServerError);
    await expect(store.putIfAbsent('e6', Readable.from([Buffer.alloc(12)]), 11)).rejects.toThrow(CacheServerError);
    for (const hash of ['e4', 'e5', 'e6']) expect(await store.has(hash)).toBe(false);
    expect(temps()).toEqual([]);
  });

  it('an aborted signal stops the upload and stores nothing', async () => {
    const { store, temps } = await make();
    const body = new PassThrough();
    body.write(Buffer.alloc(1024));
    const controller = new AbortController();
    const put = store.putIfAbsent('e7', body, 1 << 20, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(put).rejects.toThrow();
    expect(await store.has('e7')).toBe(false);
    expect(temps()).toEqual([]);
  });

  it('refuses invalid hashes (no path traversal, no key injection)', async () => {
    const { store } = await make();
    for (const hash of ['../x', 'a/b', '', '.', 'x'.repeat(129)]) {
      await expect(store.has(hash)).rejects.toThrow(/Invalid cache hash/);
      await expect(store.putIfAbsent(hash, Readable.from([Buffer.from('x')]), 1)).rejects.toThrow(/Invalid cache hash/);
    }
  });
});

describe('s3 store specifics', () => {
  it('puts keys under the prefix', async () => {
    const bucket = await newBucket();
    const store = createS3Store({ bucket, prefix: '/team/nx', client: moto.client });
    await store.putIfAbsent('abc', Readable.from([Buffer.from('x')]), 1);
    const listed = await moto.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['team/nx/abc']);
  });

  it('immutability is S3\'s own If-None-Match: an upload that started first but finishes second is "exists"', async () => {
    const store = createS3Store({ bucket: await newBucket(), client: moto.client });
    const slow = new PassThrough();
    slow.write(Buffer.alloc(1000, 1));
    const first = store.putIfAbsent('race', slow, 2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(await store.putIfAbsent('race', Readable.from([Buffer.alloc(2000, 2)]), 2000)).toBe('created');
    slow.end(Buffer.alloc(1000, 1));
    expect(await first).toBe('exists');
    expect((await readAll((await store.get('race'))!.body)).every((b) => b === 2)).toBe(true);
  });

  it('check() names the bucket that cannot be used', async () => {
    const store = createS3Store({ bucket: 'no-such-bucket', client: moto.client, endpoint: moto.endpoint });
    await expect(store.check()).rejects.toThrow(/Cannot use the bucket no-such-bucket at http:\/\/127\.0\.0\.1:\d+ \(HeadBucket\)/);
  });

  it('parses s3:// locations', () => {
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Url('s3://my-bucket/nx/cache')).toEqual({ bucket: 'my-bucket', prefix: 'nx/cache/' });
    expect(() => parseS3Url('s3://')).toThrow(/s3:\/\/bucket/);
    expect(() => parseS3Url('s3://Bad_Bucket/x')).toThrow(/Invalid S3 bucket name "Bad_Bucket"/);
  });

  it('serves the HTTP API from S3: round trip, 409, and an aborted upload leaves no object', async () => {
    const bucket = await newBucket();
    const store = createS3Store({ bucket, prefix: 'nx', client: moto.client });
    const log = recordingLogger();
    const token = 'rw-token-for-the-s3-test-0001';
    const server = await startCacheServer({ port: 0, store, tokens: { readWrite: [token], readOnly: [] }, maxEntryBytes: 64 << 20, log });
    try {
      const body = randomBytes(20 << 20);
      expect((await request(server.url, { method: 'PUT', path: '/v1/cache/s3hash', token, body })).status).toBe(200);
      const got = await request(server.url, { path: '/v1/cache/s3hash', token });
      expect(got.status).toBe(200);
      expect(createHash('sha256').update(got.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
      expect((await request(server.url, { method: 'PUT', path: '/v1/cache/s3hash', token, body: Buffer.from('x') })).status).toBe(409);
      expect((await request(server.url, { path: '/v1/cache/missing', token })).status).toBe(404);

      const { connect } = await import('node:net');
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(`PUT /v1/cache/s3aborted HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${8 << 20}\r\n\r\n`);
      socket.write(randomBytes(1 << 20));
      await new Promise((r) => setTimeout(r, 200));
      socket.destroy();
      await waitFor('the aborted upload to be logged', () => log.lines.some((l) => l.includes('s3aborted')));
      expect(await store.has('s3aborted')).toBe(false);
      for (const line of log.lines) expect(line).not.toContain(token);
    } finally {
      await server.close(1000);
    }
  });
});
