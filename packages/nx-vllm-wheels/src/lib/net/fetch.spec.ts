import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestProxy } from '../../test-support/http-proxy';
import { basicAuthorization, proxiedFetch, splitUrlCredentials, withoutCredentials } from './index';

describe('URL credentials', () => {
  it('are split off the URL, percent-decoded; a URL without them is returned as it is', () => {
    expect(splitUrlCredentials('https://alice:p%40ss%3Aw0rd@pkgs.example.com/simple/')).toEqual({
      url: 'https://pkgs.example.com/simple/',
      credentials: { username: 'alice', password: 'p@ss:w0rd' },
    });
    expect(splitUrlCredentials('https://ghp_token123@github.com/o/r.git')).toEqual({ url: 'https://github.com/o/r.git', credentials: { username: 'ghp_token123', password: '' } });
    expect(splitUrlCredentials('https://pypi.org/simple')).toEqual({ url: 'https://pypi.org/simple' });
    expect(splitUrlCredentials('not a url')).toEqual({ url: 'not a url' });
    expect(withoutCredentials('http://u:p@127.0.0.1:9000/bucket')).toBe('http://127.0.0.1:9000/bucket');
    expect(basicAuthorization({ username: 'alice', password: 'p@ss:w0rd' })).toBe(`Basic ${Buffer.from('alice:p@ss:w0rd').toString('base64')}`);
  });
});

describe('proxiedFetch with user:password@ in the URL (a real server on 127.0.0.1)', () => {
  const EXPECTED = basicAuthorization({ username: 'alice', password: 'p@ss-1234' });
  let server: Server;
  let port: number;
  const seen: (string | undefined)[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.statusCode = req.headers.authorization === EXPECTED ? 200 : 401;
      res.end(req.url);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  beforeEach(() => (seen.length = 0));

  const url = () => `http://alice:p%40ss-1234@127.0.0.1:${port}/simple/`;

  it('sends them as Basic auth (fetch itself refuses such a URL), directly and through a proxy', async () => {
    await expect(fetch(url())).rejects.toThrow(/credentials/);
    const direct = proxiedFetch({});
    const proxy = await startTestProxy();
    const proxied = proxiedFetch({ http_proxy: proxy.url });
    try {
      for (const net of [direct, proxied]) {
        const response = await net.fetch(url());
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('/simple/');
      }
      expect(seen).toEqual([EXPECTED, EXPECTED]);
      expect(proxy.targets()).toEqual([`127.0.0.1:${port}`]);
    } finally {
      await Promise.all([direct.close(), proxied.close(), proxy.close()]);
    }
  });

  it('keeps an Authorization header the caller set', async () => {
    const net = proxiedFetch({});
    try {
      const response = await net.fetch(url(), { headers: { Authorization: 'Bearer other' } });
      expect(response.status).toBe(401);
      expect(seen).toEqual(['Bearer other']);
    } finally {
      await net.close();
    }
  });
});
