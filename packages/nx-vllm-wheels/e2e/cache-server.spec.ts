/**
 * The remote cache server as users run it: `nx-vllm-wheels cache-server` as its own process (the
 * compiled bin), real sockets on 127.0.0.1, real Nx 24 as the client, moto_server as S3.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, waitFor } from '../src/lib/cache-server/test-support/http';
import { startMoto, type MotoServer } from '../src/lib/cache-server/test-support/moto';
import { tempDir } from '../src/test-support/temp';
import { isGone, processesMatching, waitUntil } from '../src/test-support/processes';
import { runCli, startCliServer, type CliLauncher, type CliServer } from './support/cache-server';
import { assertPluginBuilt, REPO_ROOT } from './support/paths';
import { cleanEnv, runNx, NX_TEST_ENV } from './support/workspace';

const RW = 'e2e-read-write-token-0123456789';
const RO = 'e2e-read-only-token-0123456789a';
const WRONG = 'e2e-wrong-token-never-echoed-xyz';


const serverEnv = (extra: Record<string, string> = {}): Record<string, string | undefined> => ({
  ...cleanEnv(),
  VLLM_WHEELS_CACHE_READ_WRITE_TOKENS: RW,
  VLLM_WHEELS_CACHE_READ_ONLY_TOKENS: RO,
  ...extra,
});

const servers: CliServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

async function serve(args: string[], env = serverEnv(), launcher?: CliLauncher): Promise<CliServer> {
  const server = await startCliServer(args, env, launcher);
  servers.push(server);
  return server;
}

/** The error code of a TCP connect to 127.0.0.1:`port` ('' when something accepts it). */
function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Lines the server logged for requests (its stdout, timestamps removed). */
function requestLines(server: CliServer): string[] {
  return server
    .stdout()
    .split('\n')
    .map((l) => l.replace(/^\S+Z /, ''))
    .filter((l) => /^(GET|PUT) /.test(l));
}

beforeAll(() => {
  assertPluginBuilt();
});

// One moto_server for the file, started by the first test that needs it.
let motoStarted: Promise<MotoServer> | undefined;
function moto(): Promise<MotoServer> {
  motoStarted ??= startMoto().then(async (m) => {
    await m.createBucket('nx-remote-cache');
    return m;
  });
  return motoStarted;
}
afterAll(async () => {
  await (await motoStarted)?.stop();
});

/** The server's arguments and environment for an S3 store at `prefix` of moto's bucket. */
async function s3Server(prefix: string): Promise<{ args: string[]; env: Record<string, string | undefined>; endpoint: string }> {
  const m = await moto();
  return {
    args: ['--store', `s3://nx-remote-cache/${prefix}`, '--s3-endpoint', m.endpoint, '--s3-force-path-style'],
    env: serverEnv({ ...m.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }),
    endpoint: m.endpoint,
  };
}

describe('nx-vllm-wheels cache-server (the CLI)', () => {
  it('starts from `npx nx-vllm-wheels`, serves, never logs a token, and stops on SIGTERM', async () => {
    const dir = join(tempDir('cli-server'), 'store');
    const server = await serve(['--port', '0', '--store', dir]);
    expect(server.stdout()).toContain(`(store: directory ${dir}; max entry 2 GiB; 1 read-write and 1 read-only token(s))`);
    const body = Buffer.from('an nx cache entry');
    expect((await request(server.url, { method: 'PUT', path: '/v1/cache/42', token: RW, body })).status).toBe(200);
    expect((await request(server.url, { path: '/v1/cache/42', token: RO })).body).toEqual(body);
    expect((await request(server.url, { method: 'PUT', path: '/v1/cache/43', token: RO, body })).status).toBe(403);
    const wrong = await request(server.url, { path: '/v1/cache/42', token: WRONG });
    expect(wrong.status).toBe(401);
    expect(wrong.body.toString()).not.toContain(WRONG);
    expect(readdirSync(join(dir, 'entries'))).toEqual(['42']);

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.stdout()).toMatch(/Received SIGTERM: finishing requests in flight/);
    expect(server.stdout()).toMatch(/Stopped\.\n$/);
    // A request is logged when its response has finished on the server, which can be after the
    // client already has the body and has sent the next request: compare without order.
    const lines = requestLines(server);
    expect(lines).toHaveLength(4);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^PUT 42 200 17B \d+ms$/),
      expect.stringMatching(/^GET 42 200 17B \d+ms$/),
      expect.stringMatching(/^PUT 43 403 0B \d+ms \(read-only token\)$/),
      expect.stringMatching(/^GET 42 401 0B \d+ms$/),
    ]));
    expect(server.stderr()).toBe('');
    for (const secret of [RW, RO, WRONG]) expect(server.stdout() + server.stderr()).not.toContain(secret);
  });

  it.each([
    ['the package bin', { command: join(REPO_ROOT, 'node_modules/.bin/nx-vllm-wheels'), args: [] }],
    // npm passes a SIGTERM to the shell it runs the command in, and only to it.
    ['npx', { command: 'npx', args: ['--no-install', 'nx-vllm-wheels'], cwd: REPO_ROOT }],
  ])('started through %s, stops on SIGTERM to that process: the server exits and its port closes', async (_how, launcher) => {
    const dir = join(tempDir('cli-sigterm'), 'store');
    const server = await serve(['--port', '0', '--store', dir], serverEnv(), launcher);
    const [pid, ...others] = processesMatching(`.bin/nx-vllm-wheels cache-server --port 0 --store ${dir}`);
    expect(others).toEqual([]);
    try {
      await server.stop('SIGTERM');
      expect(await waitUntil(() => isGone(pid), 15_000)).toBe(true);
      expect(await connectError(server.port)).toBe('ECONNREFUSED');
      expect(server.stdout()).toMatch(/: finishing requests in flight \(up to 10 s\), then stopping\.\n.*Stopped\.\n$/);
    } finally {
      if (!isGone(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('is on the PATH of the workspace as `npx nx-vllm-wheels` (the package bin)', async () => {
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('npx', ['--no-install', 'nx-vllm-wheels', 'cache-server', '--help'], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    expect(run).toEqual({ code: 0, out: expect.stringContaining('Usage: nx-vllm-wheels cache-server --port N --store DIR|s3://bucket/prefix') });
  });

  it('refuses a token in argv and a start without any token, without echoing tokens', async () => {
    const dir = join(tempDir('cli-refuse'), 'store');
    const inArgv = await runCli(['cache-server', '--port', '0', '--store', dir, '--token', RW], serverEnv());
    expect(inArgv.code).toBe(2);
    expect(inArgv.stderr).toContain('--token: tokens are never taken from the command line');
    expect(inArgv.stderr + inArgv.stdout).not.toContain(RW);

    const none = await runCli(['cache-server', '--port', '0', '--store', dir], cleanEnv());
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No access token: set VLLM_WHEELS_CACHE_READ_WRITE_TOKENS/);
  });

  describe('with an S3 store (moto_server)', () => {
    it('serves s3://bucket/prefix through --s3-endpoint/--s3-force-path-style, AWS credentials from the env, and stops on SIGINT', async () => {
      const s3 = await s3Server('team/nx');
      const server = await serve(['--port', '0', ...s3.args], s3.env);
      expect(server.stdout()).toContain(`store: s3://nx-remote-cache/team/nx/ at ${s3.endpoint}`);
      const body = Buffer.alloc(3 << 20, 7);
      expect((await request(server.url, { method: 'PUT', path: '/v1/cache/s3e2e', token: RW, body })).status).toBe(200);
      expect((await request(server.url, { method: 'PUT', path: '/v1/cache/s3e2e', token: RW, body })).status).toBe(409);
      expect((await request(server.url, { path: '/v1/cache/s3e2e', token: RO })).body.equals(body)).toBe(true);
      expect((await moto()).output()).toContain('PUT /nx-remote-cache/team/nx/s3e2e');
      expect(await server.stop('SIGINT')).toBe(0);
    });

    it('streams a 200 MB entry through S3 both ways without holding it (server RSS bounded)', async () => {
      const s3 = await s3Server('big');
      const server = await serve(['--port', '0', ...s3.args], s3.env);
      const size = 200 * 2 ** 20;
      const sent = createHash('sha256');
      const started = Date.now();
      expect(await streamPut(`${server.url}/v1/cache/bigs3`, generated(99, size, sent), size)).toBe(200);
      const received = await streamGet(`${server.url}/v1/cache/bigs3`);
      expect(received).toEqual({ status: 200, bytes: size, sha256: sent.digest('hex') });
      const peak = server.peakRss();
      process.stdout.write(`cache-server S3 (moto): 200 MiB PUT+GET in ${((Date.now() - started) / 1000).toFixed(1)} s; server peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB\n`);
      // Less than the one body: it was never held whole.
      expect(peak).toBeLessThan(200 * 2 ** 20);
      expect(await server.stop('SIGTERM')).toBe(0);
    });

    it('refuses to start when the bucket cannot be used, naming it', async () => {
      const m = await moto();
      const run = await runCli(
        ['cache-server', '--port', '0', '--store', 's3://missing-bucket', '--s3-endpoint', m.endpoint, '--s3-force-path-style'],
        serverEnv({ ...m.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }),
      );
      expect(run.code).toBe(7);
      expect(run.stderr).toContain(`Cannot use the bucket missing-bucket at ${m.endpoint} (HeadBucket)`);
    });
  });

  it('8 parallel clients each PUT and GET a 200 MB streamed body: byte-identical, server RSS stays bounded', async () => {
    const dir = join(tempDir('cli-load'), 'store');
    const server = await serve(['--port', '0', '--store', dir, '--max-entry-size', '256MiB']);
    const size = 200 * 2 ** 20;
    const clients = 8;
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const sent = createHash('sha256');
        const put = await streamPut(`${server.url}/v1/cache/load${i}`, generated(i, size, sent), size);
        const received = await streamGet(`${server.url}/v1/cache/load${i}`);
        return { put, get: received.status, bytes: received.bytes, same: received.sha256 === sent.digest('hex') };
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(results).toEqual(Array.from({ length: clients }, () => ({ put: 200, get: 200, bytes: size, same: true })));
    const peak = server.peakRss();
    // Reported for the record (the suite's output), asserted only as a bound: less than one body,
    // with 1.6 GB in flight through the process.
    process.stdout.write(`cache-server load: ${clients} x ${size / 2 ** 20} MiB PUT+GET in ${seconds.toFixed(1)} s; server peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB\n`);
    expect(peak).toBeLessThan(200 * 2 ** 20);
    expect(readdirSync(join(dir, 'entries')).sort()).toEqual(Array.from({ length: clients }, (_, i) => `load${i}`).sort());
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(await server.stop('SIGTERM')).toBe(0);
    // Logged once each answer is sent (stopping flushed them all); no warnings.
    expect(requestLines(server)).toHaveLength(2 * clients);
    expect(server.stderr()).not.toContain('WARNING');
  });
});

describe.each(['directory', 's3 (moto)'] as const)('real Nx 24 with NX_SELF_HOSTED_REMOTE_CACHE_SERVER, %s store', (kind) => {
  it('a second clone with an empty local cache gets [remote cache] and the same bytes; a read-only token reads but never writes', async () => {
    const tmp = tempDir('nx-remote');
    const storeDir = join(tmp, 'store');
    const prefix = `nx-e2e-${Date.now()}`;
    const s3 = kind === 'directory' ? undefined : await s3Server(prefix);
    const server = s3 ? await serve(['--port', '0', ...s3.args], s3.env) : await serve(['--port', '0', '--store', storeDir]);
    const stored = async (): Promise<string[]> => {
      if (!s3) return readdirSync(join(storeDir, 'entries'));
      const listed = await (await moto()).client.send(new ListObjectsV2Command({ Bucket: 'nx-remote-cache', Prefix: `${prefix}/` }));
      return (listed.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1));
    };
    const a = join(tmp, 'clone-a');
    writeWorkspace(a);
    const b = join(tmp, 'clone-b');
    cpSync(a, b, { recursive: true, verbatimSymlinks: true, filter: (src) => !/[/\\](\.nx|dist)$/.test(src) });

    // Clone A builds and pushes.
    const first = await nx(a, server.url, RW);
    expect(first.code).toBe(0);
    expect(first.output).not.toMatch(/\[(local|remote) cache\]/);
    expect(first.output).not.toMatch(/Misconfigured|Unauthorized|Unexpected response status/);
    const built = readFileSync(join(a, 'dist/out.txt'));
    const [hash] = await stored();
    expect(hash).toMatch(/^\d+$/);
    // Exactly one upload: answered 200, Nx does not retry it (with 202 it would, see protocol.ts).
    await waitFor('the server to log both requests', () => requestLines(server).length >= 2);
    expect(requestLines(server)).toEqual([expect.stringMatching(new RegExp(`^GET ${hash} 404 `)), expect.stringMatching(new RegExp(`^PUT ${hash} 200 \\d+B`))]);

    // Clone B, empty local cache, read-only token (a pull request's CI): a remote hit, same bytes.
    const second = await nx(b, server.url, RO);
    expect(second.code).toBe(0);
    expect(second.output).toMatch(/nx run p:make\s+\[remote cache\]/);
    expect(readFileSync(join(b, 'dist/out.txt'))).toEqual(built);

    // A change in clone B with the read-only token: the task runs, the PUT is refused (403, which
    // Nx accepts silently), the run succeeds and the store is unchanged.
    writeFileSync(join(b, 'p/input.txt'), 'changed\n');
    const logged = requestLines(server).length;
    const third = await nx(b, server.url, RO);
    expect(third.code).toBe(0);
    expect(third.output).not.toMatch(/\[(local|remote) cache\]/);
    await waitFor('the server to log the refused upload', () => requestLines(server).length >= logged + 2);
    expect(requestLines(server).at(-1)).toMatch(/^PUT \d+ 403 /);
    expect(await stored()).toEqual([hash]);

    // A wrong token: Nx reports the server's 401 message (text/plain) and never sees the token echoed.
    writeFileSync(join(b, 'p/input.txt'), 'changed again\n');
    const wrong = await nx(b, server.url, WRONG);
    // Nx 24 stops the run on a 401 ("Unauthorized: <the server's text/plain message>").
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain('Unauthorized: Missing or invalid authentication token.');
    expect(wrong.output).not.toContain(WRONG);
    expect(server.stdout()).not.toContain(WRONG);
  });
});

/** A deterministic pseudo-random body of `size` bytes (AES-CTR keystream), produced 1 MiB at a time and hashed as sent. */
function generated(seed: number, size: number, hash: Hash): Readable {
  const key = createHash('sha256').update(`seed-${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1 << 20);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const chunk = cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

function streamPut(url: string, body: Readable, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'PUT', agent: false, headers: { Authorization: `Bearer ${RW}`, 'Content-Length': String(size) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    pipeline(body, req).catch(reject);
  });
}

function streamGet(url: string): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { Authorization: `Bearer ${RO}` } }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A one-project Nx workspace whose cached target writes dist/out.txt with the time (so a cache hit is
 * visible: a rerun would write different bytes). The target is `make`: `nx run p:t` would mean
 * `p:test`, since Nx's run-one expands the one-letter aliases b/e/l/s/t.
 */
function writeWorkspace(root: string): void {
  mkdirSync(join(root, 'p'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'remote-cache-ws', private: true }, null, 2));
  writeFileSync(join(root, 'nx.json'), JSON.stringify({ $schema: './node_modules/nx/schemas/nx-schema.json' }, null, 2));
  writeFileSync(
    join(root, 'p/project.json'),
    JSON.stringify(
      {
        name: 'p',
        targets: {
          make: {
            command: `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/out.txt', String(Date.now()))"`,
            options: { cwd: '{workspaceRoot}' },
            outputs: ['{workspaceRoot}/dist'],
            cache: true,
          },
        },
      },
      null,
      2,
    ),
  );
  writeFileSync(join(root, 'p/input.txt'), 'original\n');
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
}

function nx(root: string, serverUrl: string, token: string): Promise<{ code: number; output: string }> {
  const env = {
    ...cleanEnv(),
    ...NX_TEST_ENV,
    NX_CACHE_DIRECTORY: join(root, '.nx', 'cache'),
    NX_WORKSPACE_DATA_DIRECTORY: join(root, '.nx', 'workspace-data'),
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: serverUrl,
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
  };
  return runNx(root, ['run', 'p:make', '--outputStyle=static'], env);
}
