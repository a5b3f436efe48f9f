import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/errors';
import { closestMatch } from '../lib/suggest';
import type { Logger } from '../lib/log';
import {
  createDirectoryStore,
  createS3Store,
  formatByteSize,
  parseByteSize,
  parseDuration,
  parseS3Url,
  S3_MAX_SINGLE_PUT_BYTES,
  startCacheServer,
  type CacheServer,
  type CacheStore,
  type CacheTokens,
} from '../lib/cache-server';

/** Environment variables the tokens are read from (comma-separated). */
export const TOKEN_ENV = { readWrite: 'VLLM_WHEELS_CACHE_READ_WRITE_TOKENS', readOnly: 'VLLM_WHEELS_CACHE_READ_ONLY_TOKENS' } as const;

export const CACHE_SERVER_USAGE = `Usage: nx-vllm-wheels cache-server --port N --store DIR|s3://bucket/prefix [options]

Serves Nx's self-hosted remote cache API. Point a workspace at it with
  NX_SELF_HOSTED_REMOTE_CACHE_SERVER=http://host:N  NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<token>

Options:
  --port N                    port to listen on (0: any free port, printed at startup)
  --store DIR|s3://B/PREFIX   a directory (created if missing) or an S3 bucket and key prefix
  --host ADDR                 address to listen on (default 127.0.0.1; serve other machines through a TLS proxy)
  --max-entry-size SIZE       largest entry accepted, e.g. 2GiB, 500MB (default 2GiB; S3: at most 5GiB)
  --request-timeout DURATION  abort a request that makes no progress this long, e.g. 60s, 5m (default 60s)
  --read-write-tokens-file F  read-write tokens, one per line ('#' comments)
  --read-only-tokens-file F   read-only tokens, one per line
  --s3-endpoint URL           S3-compatible endpoint (MinIO, R2, ...); default AWS
  --s3-region R               region (default: AWS_REGION / AWS config; us-east-1 with --s3-endpoint)
  --s3-force-path-style       http://endpoint/bucket/key addressing (MinIO)
  --s3-no-conditional-put     for stores without If-None-Match: HEAD then PUT (racy)

Tokens are never taken from the command line (other users see it in ps). Set
  ${TOKEN_ENV.readWrite}=t1,t2   may GET and PUT
  ${TOKEN_ENV.readOnly}=t3       may only GET (e.g. pull-request CI)
or use the --*-tokens-file options. Each token is 16 to 1024 printable ASCII characters, no commas.
S3 credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, ~/.aws, SSO, instance roles).
S3 requests go through HTTPS_PROXY / HTTP_PROXY (http://user:password@host:port) unless NO_PROXY names the endpoint.
`;

const OPTIONS = {
  port: { type: 'string' },
  store: { type: 'string' },
  host: { type: 'string' },
  'max-entry-size': { type: 'string' },
  'request-timeout': { type: 'string' },
  'read-write-tokens-file': { type: 'string' },
  'read-only-tokens-file': { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-force-path-style': { type: 'boolean' },
  's3-no-conditional-put': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags someone might try to pass a secret with; refused without echoing their value. */
const SECRET_FLAG = /^--?(?:[a-z-]*token[s]?|access-key|secret[a-z-]*|password)(?:=|$)/i;

export type StoreConfig =
  | { kind: 'directory'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region?: string; forcePathStyle: boolean; conditionalPut: boolean };

/** Everything `cache-server` needs, validated: the result of the command line and the environment. */
export interface CacheServerConfig {
  port: number;
  host: string;
  store: StoreConfig;
  maxEntryBytes: number;
  requestTimeoutMs: number;
  tokens: CacheTokens;
  /** Messages about the configuration worth printing (e.g. a token file readable by others). */
  warnings: string[];
}

/** `--help` was asked for. */
export class HelpRequested extends Error {}

export interface ConfigSources {
  env: Record<string, string | undefined>;
  cwd: string;
  readFile?: (path: string) => string;
}

/**
 * Parses `cache-server` arguments and the token environment into a config. Every error is a
 * ConfigError that names the flag or variable and what is allowed, and never contains a token.
 */
export function parseCacheServerArgs(args: readonly string[], sources: ConfigSources): CacheServerConfig {
  const secretFlag = args.find((a) => SECRET_FLAG.test(a) && !/^--(read-write|read-only)-tokens-file(=|$)/.test(a));
  if (secretFlag) {
    throw new ConfigError(
      `${secretFlag.split('=')[0]}: tokens are never taken from the command line (any user on the machine can read it in ps). ` +
        `Set ${TOKEN_ENV.readWrite} / ${TOKEN_ENV.readOnly} (comma-separated) or name a file with --read-write-tokens-file / --read-only-tokens-file.`,
    );
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (e) {
    throw new ConfigError(explainParseError(e as Error & { code?: string }));
  }
  if (values.help) throw new HelpRequested();
  // Not echoed: a stray argument may be a secret pasted in the wrong place.
  if (positionals.length) throw new ConfigError(`Unexpected argument (#${args.indexOf(positionals[0]) + 1}): cache-server takes only --options (see --help).`);

  const str = (name: keyof typeof OPTIONS) => values[name] as string | undefined;
  const port = parsePort(str('port'));
  const storeArg = str('store');
  if (!storeArg) throw new ConfigError('--store is required: a directory (created if missing) or s3://bucket/prefix.');
  const s3Flags = (['s3-endpoint', 's3-region', 's3-force-path-style', 's3-no-conditional-put'] as const).filter((f) => values[f] !== undefined);

  let store: StoreConfig;
  if (storeArg.startsWith('s3://')) {
    const { bucket, prefix } = wrap('--store', () => parseS3Url(storeArg));
    const endpoint = str('s3-endpoint');
    if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
      throw new ConfigError(`--s3-endpoint ${JSON.stringify(endpoint)}: write an http:// or https:// URL, e.g. http://127.0.0.1:9000.`);
    }
    store = {
      kind: 's3',
      bucket,
      prefix,
      endpoint,
      region: str('s3-region'),
      forcePathStyle: values['s3-force-path-style'] === true,
      conditionalPut: values['s3-no-conditional-put'] !== true,
    };
  } else {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(storeArg)) throw new ConfigError(`--store ${JSON.stringify(storeArg)}: the stores are a directory path or s3://bucket/prefix.`);
    if (s3Flags.length) throw new ConfigError(`--${s3Flags[0]} is only for an s3:// --store; --store ${storeArg} is a directory.`);
    store = { kind: 'directory', dir: resolve(sources.cwd, storeArg) };
  }

  const maxEntryBytes = str('max-entry-size') === undefined ? 2 * 2 ** 30 : wrap('--max-entry-size', () => parseByteSize(str('max-entry-size')!));
  if (store.kind === 's3' && maxEntryBytes > S3_MAX_SINGLE_PUT_BYTES) {
    throw new ConfigError(`--max-entry-size ${str('max-entry-size')}: an S3 store takes entries of at most 5GiB (one PutObject).`);
  }
  const requestTimeoutMs = str('request-timeout') === undefined ? 60_000 : wrap('--request-timeout', () => parseDuration(str('request-timeout')!));
  const host = str('host') ?? '127.0.0.1';
  if (!/^[0-9A-Za-z.:_-]+$/.test(host)) throw new ConfigError(`--host ${JSON.stringify(host)}: write an IP address or a host name.`);

  const warnings: string[] = [];
  const readFile = sources.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const tokenList = (envName: string, fileFlag: 'read-write-tokens-file' | 'read-only-tokens-file'): string[] => {
    const fromEnv = splitTokens(sources.env[envName] ?? '', envName);
    const file = str(fileFlag);
    if (file === undefined) return fromEnv;
    const path = resolve(sources.cwd, file);
    let text: string;
    try {
      text = readFile(path);
    } catch (e) {
      throw new ConfigError(`--${fileFlag} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
    if (!sources.readFile && (statSync(path).mode & 0o077) !== 0) warnings.push(`--${fileFlag} ${path} is readable by other users (chmod 600 it).`);
    const lines = text.split(/\r?\n/).filter((l) => !/^\s*#/.test(l)).join(',');
    return [...fromEnv, ...splitTokens(lines, `--${fileFlag} ${path}`)];
  };
  const readWrite = unique(tokenList(TOKEN_ENV.readWrite, 'read-write-tokens-file'));
  const readOnly = unique(tokenList(TOKEN_ENV.readOnly, 'read-only-tokens-file'));
  if (readWrite.length + readOnly.length === 0) {
    throw new ConfigError(
      `No access token: set ${TOKEN_ENV.readWrite} (and/or ${TOKEN_ENV.readOnly}), comma-separated, or pass --read-write-tokens-file / --read-only-tokens-file. ` +
        'A cache server without tokens would let anyone write entries every build trusts.',
    );
  }
  if (readOnly.some((t) => readWrite.includes(t))) {
    throw new ConfigError(`A token is listed both as read-write and as read-only (${TOKEN_ENV.readWrite} / ${TOKEN_ENV.readOnly} or the token files): give each token one scope.`);
  }
  return { port, host, store, maxEntryBytes, requestTimeoutMs, tokens: { readWrite, readOnly }, warnings };
}

/** The store a config names (not yet checked: see `CacheStore.check`); `env` holds the proxy variables S3 requests honour. */
export function createStore(config: StoreConfig, env: Record<string, string | undefined> = process.env): CacheStore {
  if (config.kind === 'directory') return createDirectoryStore({ dir: config.dir });
  return createS3Store({
    bucket: config.bucket,
    prefix: config.prefix,
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    conditionalPut: config.conditionalPut,
    env,
  });
}

/** Checks the store, listens, and prints where; the caller stops it. */
export async function startFromConfig(config: CacheServerConfig, log: Logger, env: Record<string, string | undefined> = process.env): Promise<CacheServer> {
  for (const w of config.warnings) log.warn(w);
  const store = createStore(config.store, env);
  await store.check();
  const server = await startCacheServer({
    port: config.port,
    host: config.host,
    store,
    tokens: config.tokens,
    maxEntryBytes: config.maxEntryBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    log,
  });
  const { readWrite, readOnly } = config.tokens;
  log.info(
    `nx-vllm-wheels cache server listening on ${server.url} (store: ${store.description}; max entry ${formatByteSize(config.maxEntryBytes)}; ` +
      `${readWrite.length} read-write and ${readOnly.length} read-only token(s))`,
  );
  log.info(`Workspaces use it with NX_SELF_HOSTED_REMOTE_CACHE_SERVER=${server.url} and NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<a token>.`);
  return server;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) throw new ConfigError('--port is required: a port number from 0 to 65535 (0 picks a free one).');
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new ConfigError(`--port ${JSON.stringify(text)}: write a port number from 0 to 65535 (0 picks a free one).`);
  return Number(text);
}

/** Tokens of a comma-separated list; errors say where (variable or file) and which one, never the token. */
function splitTokens(text: string, where: string): string[] {
  const tokens = text.split(',').map((t) => t.trim()).filter(Boolean);
  tokens.forEach((t, i) => {
    if (t.length < 16 || t.length > 1024) throw new ConfigError(`${where}: token #${i + 1} is ${t.length} characters long; a token is 16 to 1024 characters (e.g. openssl rand -hex 32).`);
    if (!/^[\x21-\x7e]+$/.test(t)) throw new ConfigError(`${where}: token #${i + 1} has a space or a non-ASCII character; a token is printable ASCII without spaces or commas.`);
  });
  return tokens;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function wrap<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new ConfigError(`${flag}: ${(e as Error).message}`, { cause: e });
  }
}

const KNOWN = Object.keys(OPTIONS).map((o) => `--${o}`);

/** node:util's parse errors, reworded to name the flag and what is allowed (and never echo a value). */
function explainParseError(e: Error & { code?: string }): string {
  const flag = /'(-[^'=\s]*)/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) {
    const suggestion = closestMatch(flag, KNOWN, 3);
    return `Unknown option ${flag} for cache-server${suggestion ? ` (did you mean ${suggestion}?)` : ''}; the options are ${KNOWN.join(', ')}.`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    const takesValue = KNOWN.includes(flag) && OPTIONS[flag.slice(2) as keyof typeof OPTIONS]?.type === 'string';
    return takesValue ? `${flag} needs a value (see --help).` : `${flag} is a switch and takes no value.`;
  }
  return `Invalid arguments for cache-server (see --help).`;
}

