import { fetch as undiciFetch, ProxyAgent, type RequestInit as UndiciRequestInit } from 'undici';
import { basicAuthorization, splitUrlCredentials, type BasicCredentials } from './credentials';
import { chooseProxy, displayProxy, proxyAuthorization, type ProxyChoice, type ProxyEnv } from './proxy';

/**
 * A `fetch` that honours the proxy variables of an explicit env and takes URLs with credentials
 * (`https://user:password@host/`: sent as Basic auth, as pip and curl do); `close()` when done with it.
 */
export interface ProxiedFetch {
  readonly fetch: typeof fetch;
  /** The proxy a request to `url` goes through (for messages: see `describeProxy`), or undefined. */
  proxyFor(url: string): ProxyChoice | undefined;
  close(): Promise<void>;
}

/**
 * Each request looks up its own proxy (NO_PROXY may exempt one host and not another). Proxied
 * requests go through undici's `fetch` with a `ProxyAgent` (CONNECT, also for http targets); direct
 * ones through Node's global `fetch`. Node 20's bundled undici is older than the npm one, and its
 * fetch cannot take an npm undici dispatcher, so the two are never mixed.
 */
export function proxiedFetch(env: ProxyEnv): ProxiedFetch {
  const agents = new Map<string, ProxyAgent>();
  const agentFor = (proxy: string) => {
    let agent = agents.get(proxy);
    if (!agent) {
      const uri = new URL(proxy);
      const token = proxyAuthorization(proxy);
      // The credentials go in the header we build (undici drops a user without a password).
      uri.username = '';
      uri.password = '';
      agent = new ProxyAgent({ uri: uri.href, ...(token ? { token } : {}) });
      agents.set(proxy, agent);
    }
    return agent;
  };
  const doFetch = ((input: string | URL, requestInit?: RequestInit) => {
    const { url, credentials } = splitUrlCredentials(typeof input === 'string' ? input : input.href);
    const init = credentials ? withAuthorization(requestInit, credentials) : requestInit;
    const proxy = chooseProxy(url, env);
    if (!proxy) return fetch(url, init);
    return undiciFetch(url, { ...(init as UndiciRequestInit), dispatcher: agentFor(proxy.url) });
  }) as typeof fetch;
  return {
    fetch: doFetch,
    proxyFor: (url) => chooseProxy(url, env),
    close: async () => {
      const all = [...agents.values()];
      agents.clear();
      // destroy, not close: an unread redirect body would keep close() waiting.
      await Promise.all(all.map((a) => a.destroy().catch(() => undefined)));
    },
  };
}

/** `init` with `Authorization: Basic` for `credentials`, unless it already has an Authorization header. */
function withAuthorization(init: RequestInit | undefined, credentials: BasicCredentials): RequestInit {
  const headers = Object.fromEntries(new Headers(init?.headers).entries());
  headers.authorization ??= basicAuthorization(credentials);
  return { ...init, headers };
}

/** `the proxy http://user:***@proxy:3128 (from HTTPS_PROXY)`: never the password. */
export function describeProxy(proxy: ProxyChoice): string {
  return `the proxy ${displayProxy(proxy.url)} (from ${proxy.variable})`;
}

/**
 * Why a request through a proxy failed, in words: undici reports a refused CONNECT as
 * `Proxy response (407) !== 200 when HTTP Tunneling`, hpagent as `Bad response: 407`.
 */
export function proxyFailureReason(e: unknown): string | undefined {
  let err = e as { message?: string; code?: string; cause?: unknown } | undefined;
  for (let depth = 0; err && depth < 5; depth++, err = err.cause as typeof err) {
    const status = /Proxy response \((\d{3})\)|^Bad response: (\d{3})/.exec(err.message ?? '');
    if (status) {
      const code = Number(status[1] ?? status[2]);
      if (code === 407) return 'the proxy answered HTTP 407 Proxy Authentication Required: put the user and password in the proxy URL (http://user:password@host:port)';
      return `the proxy refused the tunnel with HTTP ${code}`;
    }
  }
  return undefined;
}
