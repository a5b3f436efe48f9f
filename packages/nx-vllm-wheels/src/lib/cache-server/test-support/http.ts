import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request with node:http (a fresh connection each time, no agent): the status, headers and whole body. */
export function request(
  baseUrl: string,
  options: { method?: string; path: string; token?: string; headers?: Record<string, string>; body?: Buffer | Readable; contentLength?: number },
): Promise<Response> {
  // The path is sent as written (no URL normalization: tests send `..` on purpose).
  const base = new URL(baseUrl);
  const url = `${baseUrl}${options.path}`;
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (Buffer.isBuffer(options.body)) headers['Content-Length'] = String(options.body.length);
  else if (options.contentLength !== undefined) headers['Content-Length'] = String(options.contentLength);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, path: options.path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`request to ${url} timed out`)));
    if (options.body === undefined) req.end();
    else if (Buffer.isBuffer(options.body)) req.end(options.body);
    else options.body.pipe(req);
  });
}

/** A port nobody listens on right now (bound and released: a small race, fine on a test machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 25 ms until it returns true or `timeoutMs` passes (then throws `what`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
