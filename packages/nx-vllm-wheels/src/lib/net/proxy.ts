import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors';
import { basicAuthorization, splitUrlCredentials } from './credentials';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** A proxy chosen for a URL: its URL (credentials included: never print it) and the variable it came from. */
export interface ProxyChoice {
  readonly url: string;
  readonly variable: string;
}

/**
 * The proxy to use for `url` (http: or https:) under `env`, or undefined to connect directly.
 *
 * - https URLs use `https_proxy`, else `HTTPS_PROXY`; http URLs `http_proxy`, else `HTTP_PROXY`
 *   (lowercase first, like Python's urllib and wget; an empty value counts as unset). `ALL_PROXY`
 *   is not read (it is usually a SOCKS proxy, which neither fetch nor the S3 client here can use).
 * - A value without a scheme (`proxy:3128`) means `http://proxy:3128`; only http:// and https://
 *   proxies are accepted.
 * - `no_proxy` (else `NO_PROXY`) skips the proxy: see `bypassesProxy`.
 */
export function proxyFor(url: string | URL, env: ProxyEnv): string | undefined {
  return chooseProxy(url, env)?.url;
}

/** `proxyFor` with the variable the proxy came from (for messages). */
export function chooseProxy(url: string | URL, env: ProxyEnv): ProxyChoice | undefined {
  const target = typeof url === 'string' ? new URL(url) : url;
  const scheme = target.protocol === 'https:' ? 'https' : target.protocol === 'http:' ? 'http' : undefined;
  if (!scheme) return undefined;
  const found = variable(env, `${scheme}_proxy`);
  if (!found) return undefined;
  const noProxy = variable(env, 'no_proxy');
  if (noProxy && bypassesProxy(target, noProxy.value)) return undefined;
  return { url: parseProxyUrl(found.value, found.name), variable: found.name };
}

/**
 * Whether `no_proxy` (comma- or space-separated, case-insensitive) exempts `url`:
 * - `*` exempts everything;
 * - `example.com`, `.example.com` and `*.example.com` all match example.com and every subdomain
 *   (like curl and Python; the leading dot is optional);
 * - `host:port` matches that host on that port only (the URL's port, or 80/443 by its scheme);
 * - IP literals (`127.0.0.1`, `::1`, `[::1]:8080`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`) match
 *   URLs whose host is an IP address; names are not resolved, so `localhost` and `127.0.0.1` are
 *   different entries.
 */
export function bypassesProxy(url: string | URL, noProxy: string): boolean {
  const target = typeof url === 'string' ? new URL(url) : url;
  const host = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const hostIp = isIP(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const { name, entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (hostIp) {
      if (matchesIp(host, hostIp, name)) return true;
    } else if (!isIP(name) && !name.includes('/')) {
      const domain = name.replace(/^\*?\.+/, '').replace(/\.$/, '');
      if (domain !== '' && (host === domain || host.endsWith(`.${domain}`))) return true;
    }
  }
  return false;
}

/** A proxy URL for messages: scheme, host and port, with a password (or a lone user token) as `***`. */
export function displayProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    const user = u.password ? `${u.username}:***@` : u.username ? '***@' : '';
    return `${u.protocol}//${user}${u.host}`;
  } catch {
    return '(an invalid proxy URL)';
  }
}

/** The `Proxy-Authorization` value for a proxy URL's `user:password` (percent-decoded), if it has any. */
export function proxyAuthorization(proxy: string): string | undefined {
  const { credentials } = splitUrlCredentials(proxy);
  return credentials && basicAuthorization(credentials);
}

function variable(env: ProxyEnv, lower: string): { name: string; value: string } | undefined {
  for (const name of [lower, lower.toUpperCase()]) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function parseProxyUrl(value: string, name: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    // The value is not echoed: it may hold a password.
    throw new ConfigError(`${name} is not a valid proxy URL: write http://host:port or http://user:password@host:port (percent-encode special characters in the password).`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`${name} is a ${u.protocol.replace(/:$/, '')}:// proxy (${displayProxy(u.href)}): only http:// and https:// proxies are supported.`);
  }
  if (u.hostname === '') throw new ConfigError(`${name}=${displayProxy(u.href)} has no host: write http://host:port.`);
  return u.href;
}

function splitPort(entry: string): { name: string; entryPort?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1], ...(bracketed[2] ? { entryPort: Number(bracketed[2]) } : {}) };
  // More than one colon without brackets: an IPv6 literal (or range), not host:port.
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  return withPort ? { name: withPort[1], entryPort: Number(withPort[2]) } : { name: entry };
}

function matchesIp(host: string, family: number, entry: string): boolean {
  const [address, bits] = entry.split('/');
  const entryFamily = isIP(address);
  if (entryFamily === 0) return false;
  const type = entryFamily === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  if (bits === undefined) {
    list.addAddress(address, type);
  } else {
    if (!/^\d+$/.test(bits) || Number(bits) > (entryFamily === 6 ? 128 : 32)) return false;
    list.addSubnet(address, Number(bits), type);
  }
  return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
}
