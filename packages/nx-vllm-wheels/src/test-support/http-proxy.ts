import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface TestProxy {
  /** `http://127.0.0.1:<port>`, or `http://user:password@127.0.0.1:<port>` with `credentials`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`: no credentials. */
  readonly bareUrl: string;
  /** Each target the proxy was asked for and let through (`host:port`), in order. */
  targets(): string[];
  /** Requests refused with 407 (no or wrong Proxy-Authorization). */
  refused(): number;
  close(): Promise<void>;
}

/**
 * A small forward proxy on 127.0.0.1: `CONNECT host:port` tunnels (what undici's ProxyAgent and
 * hpagent send, for http and https targets) and absolute-form requests (`GET http://host/path`). With
 * `credentials`, a request without the matching `Proxy-Authorization: Basic` gets 407.
 */
export async function startTestProxy(options: { credentials?: { username: string; password: string } } = {}): Promise<TestProxy> {
  const targets: string[] = [];
  let refused = 0;
  const sockets = new Set<Socket>();
  const expected = options.credentials && `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
  const allowed = (req: IncomingMessage) => expected === undefined || req.headers['proxy-authorization'] === expected;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!allowed(req)) {
      refused += 1;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form URL expected');
      return;
    }
    targets.push(`${target.hostname}:${target.port || 80}`);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request({ host: target.hostname, port: target.port || 80, path: `${target.pathname}${target.search}`, method: req.method, headers, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    track(client);
    if (!allowed(req)) {
      refused += 1;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const m = /^(.+):(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const host = m[1].replace(/^\[(.*)\]$/, '$1');
    targets.push(`${m[1]}:${m[2]}`);
    const upstream = connect(Number(m[2]), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const bareUrl = `http://127.0.0.1:${port}`;
  const c = options.credentials;
  return {
    url: c ? `http://${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}@127.0.0.1:${port}` : bareUrl,
    bareUrl,
    targets: () => [...targets],
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
