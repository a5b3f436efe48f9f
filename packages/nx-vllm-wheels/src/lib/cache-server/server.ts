import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log';
import { createAuthenticator, type Access, type CacheTokens } from './auth';
import { CacheServerError, CacheStoreBusyError } from './errors';
import { hashFromPath, isValidHash, MESSAGES, STATUS } from './protocol';
import type { CacheStore } from './store';

export interface CacheServerOptions {
  /** 0 picks a free port (see the result's `port`). */
  port: number;
  /** Default 127.0.0.1: put a TLS-terminating proxy in front to serve other machines. */
  host?: string;
  store: CacheStore;
  /** Bearer tokens; at least one (a server nobody may use is a configuration mistake). */
  tokens: CacheTokens;
  /** The largest entry accepted: a bigger Content-Length gets 413 before a byte is stored. */
  maxEntryBytes: number;
  /**
   * A request that makes no progress (no byte received or sent, the store silent) for this long is
   * aborted: 408 if nothing was answered yet, else the connection is closed. Default 60 s.
   */
  requestTimeoutMs?: number;
  /** Hard limit on one request's whole life, however it progresses. Default 1 hour. */
  maxRequestMs?: number;
  /** One line per request (method, hash, status, bytes, ms); never a body, a header or a token. */
  log: Logger;
}

export interface CacheServer {
  /** `http://host:port`, what `NX_SELF_HOSTED_REMOTE_CACHE_SERVER` is set to. */
  url: string;
  port: number;
  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs` (default 10 s),
   * then cuts the rest (their uploads are discarded, never half-stored).
   */
  close(graceMs?: number): Promise<void>;
}

/** Body bytes moved for the log line; `expected`: a GET's entry size (all sent = complete). */
interface Transferred {
  bytes: number;
  expected?: number;
}

/** Past this size an unauthenticated or oversized upload's body is not drained: the connection is closed. */
const DRAIN_LIMIT_BYTES = 1 << 20;

/**
 * Nx's self-hosted remote cache API (see ./protocol.ts) on node:http, entries in `store`.
 * Bodies are streamed in both directions with backpressure; memory does not grow with entry size.
 */
export async function startCacheServer(options: CacheServerOptions): Promise<CacheServer> {
  const { store, log, maxEntryBytes } = options;
  const host = options.host ?? '127.0.0.1';
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const maxRequestMs = options.maxRequestMs ?? 3_600_000;
  if (options.tokens.readWrite.length + options.tokens.readOnly.length === 0) {
    throw new CacheServerError('The cache server needs at least one access token (read-write or read-only).');
  }
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes <= 0) throw new CacheServerError(`maxEntryBytes must be a positive integer, got ${maxEntryBytes}.`);
  const auth = createAuthenticator(options.tokens);
  const inFlight = new Set<Promise<void>>();

  const server = createServer({ requestTimeout: 0, headersTimeout: Math.min(60_000, Math.max(requestTimeoutMs, 1000)) }, (req, res) => {
    const handling = handle(req, res).finally(() => inFlight.delete(handling));
    inFlight.add(handling);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? '?';
    const rawHash = hashFromPath(req.url ?? '');
    const hash = rawHash !== undefined && isValidHash(rawHash) ? rawHash : undefined;
    const controller = new AbortController();
    const transferred: Transferred = { bytes: 0 };
    let note = '';
    let failed = false;

    // Every request has a deadline: no progress for requestTimeoutMs (socket idle, both ways), or
    // maxRequestMs in all. The store's work is aborted through `controller.signal`.
    const timedOut = (why: string) => {
      if (controller.signal.aborted) return;
      failed = true;
      note = note || why;
      controller.abort(new CacheServerError(why));
      if (!res.headersSent) reply(res, STATUS.requestTimeout, 'Request timeout', { close: true });
      else res.destroy();
      req.destroy();
    };
    res.setTimeout(requestTimeoutMs, () => timedOut(`no progress for ${requestTimeoutMs} ms`));
    const deadline = setTimeout(() => timedOut(`longer than ${maxRequestMs} ms`), maxRequestMs);
    res.on('close', () => {
      // A client may close the connection as soon as it has read the whole answer, before node:http
      // has finished the response (or even ended it: the file's EOF comes a tick after its last
      // byte). That is no failure; closing before the whole answer is.
      const complete = res.writableEnded || (transferred.expected !== undefined && transferred.bytes === transferred.expected);
      if (!complete && !controller.signal.aborted) {
        failed = true;
        note = note || 'client went away';
        controller.abort(new CacheServerError('The client closed the connection.'));
      }
    });

    try {
      // Who is asking first: an unauthenticated caller learns nothing, not even which hashes are valid.
      const access = auth.authenticate(req.headers.authorization);
      if (rawHash === undefined) {
        reply(res, STATUS.notFound, 'Not found: the API is GET and PUT /v1/cache/{hash}', { close: hasLargeBody(req, DRAIN_LIMIT_BYTES) });
      } else if (access === undefined) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        reply(res, STATUS.unauthorized, MESSAGES.unauthorized, { close: hasLargeBody(req, DRAIN_LIMIT_BYTES) });
      } else if (method !== 'GET' && method !== 'PUT') {
        res.setHeader('Allow', 'GET, PUT');
        reply(res, STATUS.methodNotAllowed, `Method ${method} not allowed: the API is GET and PUT /v1/cache/{hash}`, { close: hasLargeBody(req, DRAIN_LIMIT_BYTES) });
      } else if (hash === undefined) {
        reply(res, STATUS.badRequest, 'Invalid hash: 1 to 128 characters of [0-9A-Za-z_-]', { close: hasLargeBody(req, DRAIN_LIMIT_BYTES) });
      } else if (method === 'GET') {
        await handleGet(hash, res, controller.signal, transferred);
      } else {
        note = (await handlePut(hash, access, req, res, controller.signal, transferred)) ?? note;
      }
    } catch (e) {
      const busy = e instanceof CacheStoreBusyError;
      failed = true;
      if (!controller.signal.aborted) note = `store error: ${(e as Error).message}`;
      if (!res.headersSent && !res.destroyed) {
        if (busy) res.setHeader('Retry-After', '1');
        reply(res, busy ? STATUS.unavailable : STATUS.internalError, busy ? 'The store is busy with this hash; retry' : 'The cache store failed; see the server log', { close: true });
      } else {
        res.destroy();
      }
    } finally {
      clearTimeout(deadline);
    }
    await finished(res);
    const status = res.headersSent ? res.statusCode : 0;
    const line = `${method} ${hash ?? (rawHash === undefined ? '-' : '<invalid>')} ${status || 'aborted'} ${transferred.bytes}B ${Date.now() - started}ms${note ? ` (${note})` : ''}`;
    if (failed || status === 0 || status >= 500) log.warn(line);
    else log.info(line);
  }

  async function handleGet(hash: string, res: ServerResponse, signal: AbortSignal, transferred: Transferred): Promise<void> {
    const entry = await store.get(hash, signal);
    if (!entry) {
      reply(res, STATUS.notFound, MESSAGES.notFound);
      return;
    }
    transferred.expected = entry.size;
    res.writeHead(STATUS.ok, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(entry.size) });
    try {
      await pipeline(entry.body, byteCounter(transferred), res, { signal });
    } catch (e) {
      // The client went away or stalled: nothing to answer any more.
      if (signal.aborted || res.destroyed) return;
      throw e;
    }
  }

  /** Answers a PUT; returns a note for the log line. */
  async function handlePut(hash: string, access: Access, req: IncomingMessage, res: ServerResponse, signal: AbortSignal, transferred: Transferred): Promise<string | undefined> {
    if (access !== 'read-write') {
      reply(res, STATUS.forbidden, MESSAGES.forbiddenWrite, { close: hasLargeBody(req, maxEntryBytes) });
      return 'read-only token';
    }
    const declared = req.headers['content-length'];
    if (declared === undefined || req.headers['transfer-encoding'] !== undefined) {
      reply(res, STATUS.lengthRequired, 'Content-Length is required (the spec makes it a required header of PUT)', { close: true });
      return 'no Content-Length';
    }
    if (!/^\d+$/.test(declared)) {
      reply(res, STATUS.badRequest, 'Invalid Content-Length', { close: true });
      return 'invalid Content-Length';
    }
    const size = Number(declared);
    if (size > maxEntryBytes) {
      reply(res, STATUS.payloadTooLarge, `The entry is ${size} bytes; this server accepts at most ${maxEntryBytes}`, { close: true });
      return `${size} bytes, larger than ${maxEntryBytes}`;
    }
    if (await store.has(hash, signal)) {
      // Never overwritten; the body is drained by node:http so the client reads this answer.
      reply(res, STATUS.conflict, MESSAGES.conflict);
      return 'exists';
    }
    const body = detachedBody(req, transferred);
    let outcome: 'created' | 'exists';
    try {
      outcome = await store.putIfAbsent(hash, body.stream, size, signal);
    } finally {
      body.detach();
    }
    if (outcome === 'exists') {
      // The store may have stopped reading (S3 answers 412 before the body): drain the rest, at most
      // maxEntryBytes, so the client reads this answer and the connection stays usable.
      if (!req.complete) req.resume();
      reply(res, STATUS.conflict, MESSAGES.conflict);
      return 'exists';
    }
    reply(res, STATUS.ok, 'Stored');
    return undefined;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([Promise.allSettled([...inFlight]), grace]);
        for (const s of sockets) s.destroy();
        await Promise.allSettled([...inFlight]);
        await closed;
      })();
      return closing;
    },
  };
}

/**
 * The request body as a stream the store may destroy without killing the connection. `detach()`
 * (called when the store is done, whatever the outcome) unpipes `req`, so what the store left unread
 * can be drained or the connection closed after the answer. A client that goes away mid-upload fails
 * this stream, so the store keeps nothing.
 */
function detachedBody(req: IncomingMessage, transferred: Transferred): { stream: Transform; detach(): void } {
  const body = byteCounter(transferred);
  const onClose = () => {
    if (!req.complete) body.destroy(new CacheServerError('The client closed the connection mid-upload.'));
  };
  const onError = (e: Error) => body.destroy(e);
  const detach = () => {
    req.unpipe(body);
    req.off('close', onClose);
    // onError stays: node:http emits 'error' ("aborted") on a request whose client went away, and an
    // 'error' without a listener would crash the server.
    if (!body.destroyed) body.destroy();
  };
  req.on('close', onClose);
  req.on('error', onError);
  body.on('close', detach);
  req.pipe(body);
  return { stream: body, detach };
}

function byteCounter(transferred: Transferred): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      transferred.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/** Spec'd error bodies are text/plain, exactly that string: Nx compares the 401's Content-Type with `==`. */
function reply(res: ServerResponse, status: number, message: string, opts: { close?: boolean } = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = `${message}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain',
    'Content-Length': String(Buffer.byteLength(body)),
    ...(opts.close ? { Connection: 'close' } : {}),
  });
  res.end(body);
}

/**
 * A body we refuse and do not want to drain (node:http reads and discards an unread body after the
 * answer, so the client sees it): chunked, or longer than `limit`. The connection is closed instead.
 */
function hasLargeBody(req: IncomingMessage, limit: number): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return !Number.isFinite(length) || length > limit;
}

function finished(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', () => resolve());
    res.once('close', () => resolve());
  });
}
