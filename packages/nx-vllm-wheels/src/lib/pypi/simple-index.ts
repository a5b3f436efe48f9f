import { createHash } from 'node:crypto';
import { basicAuthorization, describeProxy, proxiedFetch, proxyFailureReason, splitUrlCredentials, type BasicCredentials, type ProxyChoice } from '../net';
import { normalizeName } from '../wheel';
import { PublishError } from './errors';

/** One file listed on a project page of a simple index. */
export interface ListedFile {
  readonly filename: string;
  /** Absolute URL of the file (the page's href resolved, fragment dropped). */
  readonly url: string;
  /** Hex sha256 when the index gives one (PEP 691 `hashes`, or a PEP 503 `#sha256=` fragment). */
  readonly sha256?: string;
}

export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json';
/** PEP 691 content negotiation: JSON first, then the HTML forms. */
export const SIMPLE_ACCEPT = `${SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01`;

const HEX64 = /^[0-9a-f]{64}$/;

/** The files of a project page, PEP 691 JSON or PEP 503 HTML by its Content-Type. */
export function parseProjectPage(body: string, contentType: string, pageUrl: string): ListedFile[] {
  return contentType.toLowerCase().includes('json') ? parseJsonPage(body, pageUrl) : parseHtmlPage(body, pageUrl);
}

function parseJsonPage(body: string, pageUrl: string): ListedFile[] {
  let page: { files?: unknown };
  try {
    page = JSON.parse(body) as { files?: unknown };
  } catch (e) {
    throw new PublishError(`${pageUrl}: not valid JSON (${(e as Error).message}).`, { cause: e });
  }
  if (!Array.isArray(page.files)) throw new PublishError(`${pageUrl}: a PEP 691 project page needs a "files" list.`);
  return page.files.flatMap((f: { filename?: unknown; url?: unknown; hashes?: { sha256?: unknown } }) => {
    if (typeof f?.filename !== 'string' || typeof f.url !== 'string') return [];
    const sha = typeof f.hashes?.sha256 === 'string' ? f.hashes.sha256.toLowerCase() : undefined;
    return [{ filename: f.filename, url: resolveHref(f.url, pageUrl), ...(sha && HEX64.test(sha) ? { sha256: sha } : {}) }];
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };
const decodeEntities = (s: string) => s.replace(/&(amp|lt|gt|quot|apos|#39|#x[0-9a-f]+|#\d+);/gi, (m, e: string) => {
  if (e.toLowerCase() in ENTITIES) return ENTITIES[e.toLowerCase()];
  const code = e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
  return Number.isFinite(code) ? String.fromCodePoint(code) : m;
});

function parseHtmlPage(body: string, pageUrl: string): ListedFile[] {
  const files: ListedFile[] = [];
  for (const m of body.matchAll(/<a\s([^>]*)>([\s\S]*?)<\/a\s*>/gi)) {
    const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(m[1]);
    if (!href) continue;
    const raw = decodeEntities(href[1] ?? href[2] ?? href[3]);
    const hash = /#sha256=([0-9a-fA-F]{64})$/.exec(raw);
    const url = resolveHref(raw, pageUrl);
    // PEP 503: the link text is the file name; fall back to the URL's last segment.
    const text = decodeEntities(m[2].replace(/<[^>]*>/g, '')).trim();
    const filename = text || decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    files.push({ filename, url, ...(hash ? { sha256: hash[1].toLowerCase() } : {}) });
  }
  return files;
}

function resolveHref(href: string, pageUrl: string): string {
  const u = new URL(href, pageUrl);
  u.hash = '';
  return u.href;
}

export type PublishedState =
  | { readonly state: 'absent'; readonly note?: string }
  | { readonly state: 'present'; readonly sha256: string; readonly url: string };

export interface LookupOptions {
  /** The simple index root, with a trailing "/"; `user:password@` in it is taken as `credentials`. */
  readonly indexUrl: string;
  readonly project: string;
  readonly filename: string;
  /** The index's own: sent with every request to the index's origin (never to another one). */
  readonly credentials?: BasicCredentials;
  /** Sent only to `origin`, and only when it answers 401 (a private server that wants the upload token). */
  readonly auth?: BasicCredentials & { readonly origin: string };
  readonly timeoutMs?: number;
  /** Where the proxy variables come from (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Instead of the proxy-aware fetch (tests): then `env` is not read. */
  readonly fetch?: typeof fetch;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Is `filename` on the index, and with which sha256? Absent when the project page is 404 or does not
 * list it. A redirect to another origin (pypiserver's fallback to PyPI) counts as absent: the file is
 * not on this server. A listing without a sha256 is completed by downloading and hashing the file.
 */
export async function lookupPublished(options: LookupOptions): Promise<PublishedState> {
  if (options.fetch) return lookupWith(options.fetch, () => undefined, options);
  const net = proxiedFetch(options.env ?? process.env);
  try {
    return await lookupWith(net.fetch, net.proxyFor, options);
  } finally {
    await net.close();
  }
}

async function lookupWith(doFetch: typeof fetch, proxyFor: (url: string) => ProxyChoice | undefined, options: LookupOptions): Promise<PublishedState> {
  // Every URL below (and so every message) is without credentials; they travel in a header.
  const index = splitUrlCredentials(options.indexUrl);
  const credentials = options.credentials ?? index.credentials;
  const pageUrl = new URL(`${normalizeName(options.project)}/`, index.url).href;
  const origin = new URL(pageUrl).origin;
  const timeoutMs = options.timeoutMs ?? 60_000;

  const get = async (url: string, accept: string): Promise<Response> => {
    let current = url;
    for (let hop = 0; hop <= 5; hop++) {
      const own = credentials && new URL(current).origin === origin ? credentials : undefined;
      let response = await request(doFetch, proxyFor, current, accept, own, timeoutMs);
      if (response.status === 401 && options.auth && new URL(current).origin === options.auth.origin) {
        response = await request(doFetch, proxyFor, current, accept, options.auth, timeoutMs);
      }
      if (!REDIRECTS.has(response.status)) return response;
      const location = response.headers.get('location');
      if (!location) return response;
      const next = new URL(location, current);
      if (next.origin !== origin) return new Response(null, { status: 404, headers: { 'x-redirected-to': next.origin } });
      current = next.href;
    }
    throw new PublishError(`${url}: too many redirects.`);
  };

  const page = await get(pageUrl, SIMPLE_ACCEPT);
  if (page.status === 404) {
    const elsewhere = page.headers.get('x-redirected-to');
    return { state: 'absent', ...(elsewhere ? { note: `${pageUrl} redirects to ${elsewhere} (a fallback index): the file is not on this server` } : {}) };
  }
  if (!page.ok) throw new PublishError(`Cannot check what is published: ${pageUrl} answered HTTP ${page.status} ${page.statusText}.`.trim());
  const listed = parseProjectPage(await page.text(), page.headers.get('content-type') ?? 'text/html', page.url || pageUrl).find((f) => f.filename === options.filename);
  if (!listed) return { state: 'absent' };
  if (listed.sha256) return { state: 'present', sha256: listed.sha256, url: listed.url };
  const file = await get(listed.url, '*/*');
  if (!file.ok || !file.body) throw new PublishError(`${options.filename} is listed on ${pageUrl} without a sha256, and ${listed.url} answered HTTP ${file.status}.`);
  const hash = createHash('sha256');
  for await (const chunk of file.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return { state: 'present', sha256: hash.digest('hex'), url: listed.url };
}

async function request(
  doFetch: typeof fetch,
  proxyFor: (url: string) => ProxyChoice | undefined,
  url: string,
  accept: string,
  auth: BasicCredentials | undefined,
  timeoutMs: number,
): Promise<Response> {
  const headers: Record<string, string> = { accept, 'user-agent': 'nx-vllm-wheels' };
  if (auth) headers.authorization = basicAuthorization(auth);
  try {
    return await doFetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    const proxy = proxyFor(url);
    if (proxy) {
      throw new PublishError(`Cannot check what is published: ${url} is unreachable through ${describeProxy(proxy)}: ${proxyFailureReason(e) ?? why}.`, { cause: e });
    }
    throw new PublishError(`Cannot check what is published: ${url} is unreachable (${why}).`, { cause: e });
  }
}
