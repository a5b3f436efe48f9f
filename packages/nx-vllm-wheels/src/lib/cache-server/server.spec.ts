import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { processTag } from '../fs';
import { recordingLogger } from '../log';
import { tempDir } from '../../test-support/temp';
import { createDirectoryStore } from './directory-store';
import { startCacheServer, type CacheServer } from './server';
import type { CacheStore } from './store';
import { request, waitFor } from './test-support/http';

const RW = 'rw-token-0123456789abcdef';
const RO = 'ro-token-0123456789abcdef';
const WRONG = 'wrong-token-SHOULD-NEVER-BE-ECHOED-42';

interface Harness {
  server: CacheServer;
  store: CacheStore;
  dir: string;
  log: ReturnType<typeof recordingLogger>;
}

const running: CacheServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close(1000)));
});

async function harness(options: { maxEntryBytes?: number; requestTimeoutMs?: number } = {}): Promise<Harness> {
  const dir = tempDir('cache-server');
  const store = createDirectoryStore({ dir });
  await store.check();
  const log = recordingLogger();
  const server = await startCacheServer({
    port: 0,
    store,
    tokens: { readWrite: [RW], readOnly: [RO] },
    maxEntryBytes: options.maxEntryBytes ?? 64 << 20,
    requestTimeoutMs: options.requestTimeoutMs,
    log,
  });
  running.push(server);
  return { server, store, dir, log };
}

const entries = (dir: string) => readdirSync(join(dir, 'entries'));
const temps = (dir: string) => readdirSync(join(dir, 'tmp'));

describe('cache server: the Nx self-hosted remote cache API', () => {
  it('PUT then GET returns the same bytes (200 / 200, octet-stream, Content-Length)', async () => {
    const { server, dir, log } = await harness();
    const body = randomBytes(3 << 20);
    const put = await request(server.url, { method: 'PUT', path: '/v1/cache/12229295498466313809', token: RW, body, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(put.status).toBe(200);
    const get = await request(server.url, { path: '/v1/cache/12229295498466313809', token: RW });
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('application/octet-stream');
    expect(get.headers['content-length']).toBe(String(body.length));
    expect(get.body.equals(body)).toBe(true);
    expect(readFileSync(join(dir, 'entries', '12229295498466313809')).equals(body)).toBe(true);
    expect(temps(dir)).toEqual([]);
    // One line per request: method, hash, status, bytes, ms (written once the answer is sent).
    await waitFor('both requests to be logged', () => log.lines.length === 2);
    expect(log.lines).toEqual([
      expect.stringMatching(new RegExp(`^PUT 12229295498466313809 200 ${body.length}B \\d+ms$`)),
      expect.stringMatching(new RegExp(`^GET 12229295498466313809 200 ${body.length}B \\d+ms$`)),
    ]);
  });

  it('GET of an unknown hash is 404 "The record was not found"', async () => {
    const { server } = await harness();
    const res = await request(server.url, { path: '/v1/cache/abc123', token: RO });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.body.toString()).toContain('The record was not found');
  });

  it('a second PUT of a hash is 409 "Cannot override an existing record" and the stored bytes stay', async () => {
    const { server, dir } = await harness();
    const first = Buffer.from('first body');
    expect((await request(server.url, { method: 'PUT', path: '/v1/cache/h1', token: RW, body: first })).status).toBe(200);
    const second = await request(server.url, { method: 'PUT', path: '/v1/cache/h1', token: RW, body: Buffer.from('a different, longer body') });
    expect(second.status).toBe(409);
    expect(second.body.toString()).toContain('Cannot override an existing record');
    expect((await request(server.url, { path: '/v1/cache/h1', token: RW })).body.equals(first)).toBe(true);
    expect(temps(dir)).toEqual([]);
  });

  it('concurrent PUTs of one hash: exactly one is stored, the others get 409', async () => {
    const { server, dir } = await harness();
    const bodies = [0, 1, 2, 3].map(() => randomBytes(1 << 20));
    const results = await Promise.all(bodies.map((body) => request(server.url, { method: 'PUT', path: '/v1/cache/race', token: RW, body })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409]);
    const winner = bodies[results.findIndex((r) => r.status === 200)];
    expect((await request(server.url, { path: '/v1/cache/race', token: RO })).body.equals(winner)).toBe(true);
    expect(temps(dir)).toEqual([]);
  });

  it('a read-only token may GET (200) but not PUT (403 "Access forbidden"), and nothing is stored', async () => {
    const { server, dir } = await harness();
    await request(server.url, { method: 'PUT', path: '/v1/cache/shared', token: RW, body: Buffer.from('x') });
    expect((await request(server.url, { path: '/v1/cache/shared', token: RO })).status).toBe(200);
    const put = await request(server.url, { method: 'PUT', path: '/v1/cache/other', token: RO, body: Buffer.from('y') });
    expect(put.status).toBe(403);
    expect(put.headers['content-type']).toBe('text/plain');
    expect(put.body.toString()).toContain('Access forbidden');
    expect(entries(dir)).toEqual(['shared']);
  });

  it('no token, a wrong token or another scheme is 401 text/plain, and the wrong token is never echoed or logged', async () => {
    const { server, dir, log } = await harness();
    const cases: { method: string; headers: Record<string, string> }[] = [
      { method: 'GET', headers: {} },
      { method: 'PUT', headers: {} },
      { method: 'GET', headers: { Authorization: `Bearer ${WRONG}` } },
      { method: 'PUT', headers: { Authorization: `Bearer ${WRONG}` } },
      { method: 'GET', headers: { Authorization: `Basic ${Buffer.from(`u:${RW}`).toString('base64')}` } },
      { method: 'GET', headers: { Authorization: `Bearer ${RW}x` } },
      { method: 'GET', headers: { Authorization: `Bearer ${RW.slice(0, -1)}` } },
    ];
    for (const c of cases) {
      const res = await request(server.url, { method: c.method, path: '/v1/cache/abc', headers: c.headers, body: c.method === 'PUT' ? Buffer.from('data') : undefined });
      expect({ case: c, status: res.status }).toEqual({ case: c, status: 401 });
      // Nx's client requires exactly text/plain on a 401, else it reports a misconfigured server.
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body.toString()).toContain('Missing or invalid authentication token.');
      const everything = JSON.stringify(res.headers) + res.body.toString();
      expect(everything).not.toContain(WRONG);
      expect(everything).not.toContain(RW);
    }
    expect(entries(dir)).toEqual([]);
    expect(log.lines).toHaveLength(cases.length);
    for (const line of log.lines) {
      expect(line).toMatch(/^(GET|PUT) abc 401 0B \d+ms$/);
      for (const secret of [WRONG, RW, RO]) expect(line).not.toContain(secret);
    }
  });

  it('an entry larger than the limit is 413 and nothing is stored', async () => {
    const { server, dir } = await harness({ maxEntryBytes: 1000 });
    const res = await request(server.url, { method: 'PUT', path: '/v1/cache/big', token: RW, body: Buffer.alloc(1001) });
    expect(res.status).toBe(413);
    expect(entries(dir)).toEqual([]);
    expect(temps(dir)).toEqual([]);
    expect((await request(server.url, { method: 'PUT', path: '/v1/cache/fits', token: RW, body: Buffer.alloc(1000) })).status).toBe(200);
  });

  it('a PUT without Content-Length (chunked) is 411: the spec requires the header', async () => {
    const { server, dir } = await harness();
    const res = await request(server.url, { method: 'PUT', path: '/v1/cache/chunked', token: RW, body: Readable.from([Buffer.from('a'), Buffer.from('b')]) });
    expect(res.status).toBe(411);
    expect(entries(dir)).toEqual([]);
  });

  it.each([
    ['a path separator', '/v1/cache/a%2Fb'],
    ['dots', '/v1/cache/..'],
    ['a traversal', '/v1/cache/../../etc/passwd'],
    ['an empty hash', '/v1/cache/'],
    ['a 129-character hash', `/v1/cache/${'a'.repeat(129)}`],
    ['a dot', '/v1/cache/abc.tmp'],
  ])('an invalid hash (%s) is 400 for GET and PUT', async (_what, path) => {
    const { server, dir } = await harness();
    expect((await request(server.url, { path, token: RW })).status).toBe(400);
    expect((await request(server.url, { method: 'PUT', path, token: RW, body: Buffer.from('x') })).status).toBe(400);
    expect(entries(dir)).toEqual([]);
  });

  it('another path is 404 and another method 405', async () => {
    const { server } = await harness();
    expect((await request(server.url, { path: '/v2/cache/abc', token: RW })).status).toBe(404);
    expect((await request(server.url, { path: '/', token: RW })).status).toBe(404);
    const del = await request(server.url, { method: 'DELETE', path: '/v1/cache/abc', token: RW });
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, PUT');
  });

  it('an upload aborted midway (client socket destroyed) leaves no entry and no temp file', async () => {
    const { server, dir, log } = await harness();
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PUT /v1/cache/aborted HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${RW}\r\nContent-Length: ${10 << 20}\r\n\r\n`);
    socket.write(randomBytes(256 << 10));
    await waitFor('the upload to reach the store', () => temps(dir).length === 1);
    socket.destroy();
    await waitFor('the request to be logged', () => log.lines.length === 1);
    expect(log.lines[0]).toMatch(/^WARNING: PUT aborted aborted [1-9]\d*B \d+ms \(client went away\)$/);
    expect(entries(dir)).toEqual([]);
    expect(temps(dir)).toEqual([]);
    // The hash is still free: a complete upload afterwards is stored.
    expect((await request(server.url, { method: 'PUT', path: '/v1/cache/aborted', token: RW, body: Buffer.from('ok') })).status).toBe(200);
  });

  it('a server starting on the directory removes the temp files of killed servers, never an upload in progress of a live one', async () => {
    const { server, dir } = await harness();
    const size = 4 << 20;
    const body = randomBytes(size);
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const response = new Promise<string>((resolve) => socket.on('data', (c: Buffer) => resolve(c.toString())));
    socket.write(`PUT /v1/cache/live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${RW}\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`);
    socket.write(body.subarray(0, 256 << 10));
    await waitFor('the upload to reach the store', () => temps(dir).length === 1);
    const [live] = temps(dir);
    expect(live).toMatch(new RegExp(`^live\\.${processTag()}\\.[0-9a-f-]{36}\\.part$`));

    // What a SIGKILLed server on this machine left (a real pid that has exited), and what servers
    // elsewhere (another host or container: same pid number, another machine id) are writing or left.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const tmp = join(dir, 'tmp');
    const killed = `killed.${processTag(dead)}.${randomUUID()}.part`;
    const killedProbe = `probe.${processTag(dead)}.${randomUUID()}`;
    const elsewhere = `elsewhere.p${dead}-0123456789ab.${randomUUID()}.part`;
    const elsewhereOld = `elsewhere-old.p${dead}-0123456789ab.${randomUUID()}.part`;
    for (const name of [killed, killedProbe, elsewhere, elsewhereOld]) writeFileSync(join(tmp, name), 'partial');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3_600_000);
    utimesSync(join(tmp, elsewhereOld), twoDaysAgo, twoDaysAgo);

    await createDirectoryStore({ dir }).check();
    expect(temps(dir).sort()).toEqual([elsewhere, live].sort());

    // The live upload was not disturbed: it completes and is stored whole.
    socket.write(body.subarray(256 << 10));
    expect(await response).toMatch(/^HTTP\/1\.1 200 /);
    expect(readFileSync(join(dir, 'entries', 'live')).equals(body)).toBe(true);
    socket.destroy();
  });

  it('a download the client abandons midway is logged as such and the entry stays intact', async () => {
    const { server, log } = await harness();
    const body = randomBytes(32 << 20);
    expect((await request(server.url, { method: 'PUT', path: '/v1/cache/big', token: RW, body })).status).toBe(200);
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = 0;
    socket.on('data', (c: Buffer) => {
      received += c.length;
      if (received > 1 << 20) socket.destroy();
    });
    socket.write(`GET /v1/cache/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${RO}\r\n\r\n`);
    await waitFor('the abandoned download to be logged', () => log.lines.length === 2);
    expect(log.lines[1]).toMatch(/^WARNING: GET big 200 \d+B \d+ms \(client went away\)$/);
    expect((await request(server.url, { path: '/v1/cache/big', token: RO })).body.equals(body)).toBe(true);
  });

  it('a stalled upload times out (408 / connection closed): no entry, no temp file', async () => {
    const { server, dir, log } = await harness({ requestTimeoutMs: 300 });
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c) => (answer += c));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PUT /v1/cache/stalled HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${RW}\r\nContent-Length: 1000\r\n\r\n0123456789`);
    await waitFor('the server to close the connection', () => socket.destroyed || socket.readableEnded, 5000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    await waitFor('the request to be logged', () => log.lines.length === 1);
    expect(log.lines[0]).toMatch(/^WARNING: PUT stalled 408 10B \d+ms \(no progress for 300 ms\)$/);
    expect(entries(dir)).toEqual([]);
    expect(temps(dir)).toEqual([]);
    socket.destroy();
  });

  it('close() while an upload is in flight discards it and stops listening', async () => {
    const { server, dir } = await harness();
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PUT /v1/cache/inflight HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${RW}\r\nContent-Length: 1000000\r\n\r\nabc`);
    await waitFor('the upload to reach the store', () => temps(dir).length === 1);
    await server.close(100);
    expect(entries(dir)).toEqual([]);
    expect(temps(dir)).toEqual([]);
    await expect(request(server.url, { path: '/v1/cache/x', token: RW })).rejects.toThrow(/ECONNREFUSED/);
    socket.destroy();
  });

  it('a store that answers "exists" without reading the body (S3\'s early 412): 409, and the connection still works', async () => {
    const log = recordingLogger();
    const lazy: CacheStore = {
      description: 'lazy',
      check: async () => undefined,
      has: async () => false,
      get: async () => undefined,
      putIfAbsent: async () => 'exists',
    };
    const server = await startCacheServer({ port: 0, store: lazy, tokens: { readWrite: [RW], readOnly: [] }, maxEntryBytes: 64 << 20, log });
    running.push(server);
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = (path: string, body: Buffer) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method: 'PUT', agent, headers: { Authorization: `Bearer ${RW}`, 'Content-Length': String(body.length) } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(body);
        });
      expect(await send('/v1/cache/one', randomBytes(8 << 20))).toBe(409);
      expect(await send('/v1/cache/two', randomBytes(1 << 20))).toBe(409);
    } finally {
      agent.destroy();
    }
  });

  it('refuses to start without a token', async () => {
    const dir = tempDir('cache-server');
    await expect(
      startCacheServer({ port: 0, store: createDirectoryStore({ dir }), tokens: { readWrite: [], readOnly: [] }, maxEntryBytes: 1, log: recordingLogger() }),
    ).rejects.toThrow(/at least one access token/);
    expect(existsSync(join(dir, 'entries'))).toBe(false);
  });
});
