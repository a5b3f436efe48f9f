import { ConfigError } from '../lib/errors';
import { HelpRequested, parseCacheServerArgs, TOKEN_ENV } from './cache-server-command';

const RW = 'rw-0123456789abcdef';
const RO = 'ro-0123456789abcdef';
const env = { [TOKEN_ENV.readWrite]: ` ${RW} ,, rw-second-token-0000 `, [TOKEN_ENV.readOnly]: RO };
const parse = (args: string[], e: Record<string, string | undefined> = env, files: Record<string, string> = {}) =>
  parseCacheServerArgs(args, {
    env: e,
    cwd: '/work',
    readFile: (p) => {
      if (p in files) return files[p];
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
  });

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('cache-server arguments', () => {
  it('reads a directory store and the defaults', () => {
    expect(parse(['--port', '8080', '--store', 'cache'])).toEqual({
      port: 8080,
      host: '127.0.0.1',
      store: { kind: 'directory', dir: '/work/cache' },
      maxEntryBytes: 2 * 2 ** 30,
      requestTimeoutMs: 60_000,
      tokens: { readWrite: [RW, 'rw-second-token-0000'], readOnly: [RO] },
      warnings: [],
    });
  });

  it('reads an S3 store with endpoint, region and path style', () => {
    const config = parse(['--port=0', '--store', 's3://team-cache/nx/v1', '--s3-endpoint', 'http://127.0.0.1:9000', '--s3-region', 'auto', '--s3-force-path-style', '--max-entry-size', '500MB', '--request-timeout', '2m', '--host', '0.0.0.0']);
    expect(config.store).toEqual({ kind: 's3', bucket: 'team-cache', prefix: 'nx/v1/', endpoint: 'http://127.0.0.1:9000', region: 'auto', forcePathStyle: true, conditionalPut: true });
    expect(config).toMatchObject({ port: 0, host: '0.0.0.0', maxEntryBytes: 500e6, requestTimeoutMs: 120_000 });
    expect(parse(['--port=0', '--store', 's3://team-cache', '--s3-no-conditional-put']).store).toMatchObject({ conditionalPut: false, forcePathStyle: false });
  });

  it('reads tokens from files too (one per line, # comments), merged with the environment', () => {
    const config = parse(['--port', '1', '--store', 'd', '--read-write-tokens-file', 'rw.txt', '--read-only-tokens-file', '/etc/ro.txt'], {}, {
      '/work/rw.txt': `# CI main branch\n${RW}\n\nrw-another-token-000\n`,
      '/etc/ro.txt': `${RO}\r\n`,
    });
    expect(config.tokens).toEqual({ readWrite: [RW, 'rw-another-token-000'], readOnly: [RO] });
    expect(errorOf(() => parse(['--port', '1', '--store', 'd', '--read-only-tokens-file', 'missing'], {})).message).toBe('--read-only-tokens-file /work/missing: cannot read it (ENOENT).');
  });

  it.each([
    ['--token', ['--token', RW]],
    ['--token', [`--token=${RW}`]],
    ['--access-token', ['--access-token', RW]],
    ['--read-write-tokens', ['--read-write-tokens', RW]],
    ['--read-only-token', [`--read-only-token=${RW}`]],
  ])('refuses a token on the command line (%s) without echoing it', (flag, extra) => {
    const e = errorOf(() => parse(['--port', '1', '--store', 'd', ...extra]));
    expect(e.message).toContain(`${flag}: tokens are never taken from the command line`);
    expect(e.message).toContain(TOKEN_ENV.readWrite);
    expect(e.message).not.toContain(RW);
  });

  it('never echoes a stray argument (it may be a pasted secret)', () => {
    const e = errorOf(() => parse(['--port', '1', '--store', 'd', RW]));
    expect(e.message).toBe('Unexpected argument (#5): cache-server takes only --options (see --help).');
  });

  it('refuses to start with no token at all', () => {
    expect(errorOf(() => parse(['--port', '1', '--store', 'd'], {})).message).toMatch(/^No access token: set VLLM_WHEELS_CACHE_READ_WRITE_TOKENS/);
    expect(errorOf(() => parse(['--port', '1', '--store', 'd'], { [TOKEN_ENV.readWrite]: ' , ' })).message).toMatch(/^No access token/);
  });

  it('checks tokens without printing them', () => {
    const short = errorOf(() => parse(['--port', '1', '--store', 'd'], { [TOKEN_ENV.readOnly]: `${RO},tiny-secret` }));
    expect(short.message).toBe(`${TOKEN_ENV.readOnly}: token #2 is 11 characters long; a token is 16 to 1024 characters (e.g. openssl rand -hex 32).`);
    const both = errorOf(() => parse(['--port', '1', '--store', 'd'], { [TOKEN_ENV.readWrite]: RW, [TOKEN_ENV.readOnly]: RW }));
    expect(both.message).toMatch(/listed both as read-write and as read-only/);
    expect(both.message).not.toContain(RW);
  });

  it.each([
    [['--store', 'd'], '--port is required: a port number from 0 to 65535 (0 picks a free one).'],
    [['--port', '70000', '--store', 'd'], '--port "70000": write a port number from 0 to 65535 (0 picks a free one).'],
    [['--port', '1'], '--store is required: a directory (created if missing) or s3://bucket/prefix.'],
    [['--port', '1', '--store', 'gs://bucket'], '--store "gs://bucket": the stores are a directory path or s3://bucket/prefix.'],
    [['--port', '1', '--store', 's3://B'], '--store: Invalid S3 bucket name "B" in s3://B: 3 to 63 lowercase letters, digits, dots and hyphens.'],
    [['--port', '1', '--store', 'd', '--s3-endpoint', 'http://x'], '--s3-endpoint is only for an s3:// --store; --store d is a directory.'],
    [['--port', '1', '--store', 's3://bucket', '--s3-endpoint', 'minio:9000'], '--s3-endpoint "minio:9000": write an http:// or https:// URL, e.g. http://127.0.0.1:9000.'],
    [['--port', '1', '--store', 's3://bucket', '--max-entry-size', '6GiB'], '--max-entry-size 6GiB: an S3 store takes entries of at most 5GiB (one PutObject).'],
    [['--port', '1', '--store', 'd', '--max-entry-size', 'big'], '--max-entry-size: Invalid size "big": write a number of bytes or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 2GiB.'],
    [['--port', '1', '--store', 'd', '--request-timeout', 'later'], '--request-timeout: Invalid duration "later": write seconds (60) or a number with ms, s, m or h (90s, 5m).'],
    [['--port'], '--port needs a value (see --help).'],
    [['--port', '1', '--store', 'd', '--s3-force-path-style=yes'], '--s3-force-path-style is a switch and takes no value.'],
    [['--port', '1', '--stor=d'], expect.stringMatching(/^Unknown option --stor for cache-server \(did you mean --store\?\); the options are --port, --store, /)],
  ])('explains %j', (args, message) => {
    expect(errorOf(() => parse(args as string[])).message).toEqual(message);
  });

  it('--help', () => {
    expect(() => parse(['--help'])).toThrow(HelpRequested);
  });
});
