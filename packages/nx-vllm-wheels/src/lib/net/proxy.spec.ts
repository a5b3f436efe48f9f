import { ConfigError } from '../errors';
import { bypassesProxy, chooseProxy, displayProxy, proxyAuthorization, proxyFor } from './proxy';

describe('proxyFor: which variable applies', () => {
  const P = 'http://proxy.corp:3128/';
  it.each<[string, string, Record<string, string | undefined>, string | undefined]>([
    ['https uses HTTPS_PROXY', 'https://pypi.org/simple/', { HTTPS_PROXY: 'http://proxy.corp:3128' }, P],
    ['https uses https_proxy', 'https://pypi.org/simple/', { https_proxy: 'http://proxy.corp:3128' }, P],
    ['https ignores HTTP_PROXY', 'https://pypi.org/simple/', { HTTP_PROXY: 'http://proxy.corp:3128', http_proxy: 'http://proxy.corp:3128' }, undefined],
    ['http uses HTTP_PROXY', 'http://idx.local/simple/', { HTTP_PROXY: 'http://proxy.corp:3128' }, P],
    ['http uses http_proxy', 'http://idx.local/simple/', { http_proxy: 'http://proxy.corp:3128' }, P],
    ['http ignores HTTPS_PROXY', 'http://idx.local/simple/', { HTTPS_PROXY: 'http://proxy.corp:3128' }, undefined],
    ['lowercase wins over uppercase', 'https://pypi.org/', { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, 'http://lower:1/'],
    ['an empty lowercase value falls back to uppercase', 'https://pypi.org/', { https_proxy: '', HTTPS_PROXY: 'http://upper:2' }, 'http://upper:2/'],
    ['empty values mean no proxy', 'https://pypi.org/', { https_proxy: ' ', HTTPS_PROXY: '' }, undefined],
    ['no scheme means http://', 'https://pypi.org/', { HTTPS_PROXY: 'proxy.corp:3128' }, P],
    ['an https:// proxy is kept', 'https://pypi.org/', { HTTPS_PROXY: 'https://proxy.corp:8443' }, 'https://proxy.corp:8443/'],
    ['credentials are kept (for the request, not for display)', 'https://pypi.org/', { HTTPS_PROXY: 'http://u:p%40ss@proxy.corp:3128' }, 'http://u:p%40ss@proxy.corp:3128/'],
    ['no variables, no proxy', 'https://pypi.org/', {}, undefined],
    ['not http(s): no proxy', 's3://bucket/x', { HTTPS_PROXY: P, HTTP_PROXY: P }, undefined],
    ['NO_PROXY exempts', 'https://pypi.org/', { HTTPS_PROXY: P, NO_PROXY: 'pypi.org' }, undefined],
    ['no_proxy exempts', 'https://pypi.org/', { HTTPS_PROXY: P, no_proxy: 'pypi.org' }, undefined],
    ['no_proxy wins over NO_PROXY', 'https://pypi.org/', { HTTPS_PROXY: P, no_proxy: 'other.org', NO_PROXY: 'pypi.org' }, P],
  ])('%s', (_name, url, env, expected) => {
    expect(proxyFor(url, env)).toBe(expected);
  });

  it('names the variable it used', () => {
    expect(chooseProxy('https://x/', { https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2' })).toEqual({ url: 'http://a:1/', variable: 'https_proxy' });
    expect(chooseProxy('http://x/', { HTTP_PROXY: 'http://b:2' })).toEqual({ url: 'http://b:2/', variable: 'HTTP_PROXY' });
  });

  it('refuses proxy URLs it cannot use, without echoing a password', () => {
    const socks = () => proxyFor('https://pypi.org/', { ALL_PROXY: 'x', HTTPS_PROXY: 'socks5://user:hunter22@proxy:1080' });
    expect(socks).toThrow(ConfigError);
    expect(socks).toThrow('HTTPS_PROXY is a socks5:// proxy (socks5://user:***@proxy:1080): only http:// and https:// proxies are supported.');
    const invalid = () => proxyFor('https://pypi.org/', { https_proxy: 'http://user:hunter22@proxy:notaport' });
    expect(invalid).toThrow('https_proxy is not a valid proxy URL: write http://host:port or http://user:password@host:port');
    expect(() => proxyFor('https://pypi.org/', { https_proxy: 'http://user:hunter22@proxy:notaport' })).not.toThrow(/hunter22/);
  });
});

describe('bypassesProxy: NO_PROXY entries', () => {
  it.each<[string, string, boolean]>([
    ['https://anything.example/', '*', true],
    ['https://anything.example/', 'a.org, *', true],
    ['https://pypi.org/', 'pypi.org', true],
    ['https://PyPI.Org./', 'pypi.ORG', true],
    ['https://files.pypi.org/', 'pypi.org', true],
    ['https://files.pypi.org/', '.pypi.org', true],
    ['https://pypi.org/', '.pypi.org', true],
    ['https://files.pypi.org/', '*.pypi.org', true],
    ['https://notpypi.org/', 'pypi.org', false],
    ['https://notpypi.org/', '.pypi.org', false],
    ['https://pypi.org.evil.example/', 'pypi.org', false],
    ['https://pypi.org/', 'other.org,pypi.org', true],
    ['https://pypi.org/', 'other.org pypi.org', true],
    ['https://pypi.org/', ' other.org ,  pypi.org ', true],
    ['https://pypi.org/', ',,', false],
    ['https://pypi.org/', '', false],
    ['https://pypi.org/', 'org', true],
    ['http://idx.local:8080/simple/', 'idx.local:8080', true],
    ['http://idx.local:8081/simple/', 'idx.local:8080', false],
    ['http://idx.local/simple/', 'idx.local:80', true],
    ['https://idx.local/simple/', 'idx.local:80', false],
    ['https://idx.local/simple/', 'idx.local:443', true],
    ['http://127.0.0.1:9000/', '127.0.0.1', true],
    ['http://127.0.0.1:9000/', '127.0.0.1:9000', true],
    ['http://127.0.0.1:9000/', '127.0.0.1:9001', false],
    ['http://127.0.0.1:9000/', 'localhost', false],
    ['http://localhost:9000/', '127.0.0.1', false],
    ['http://localhost:9000/', 'localhost', true],
    ['http://127.0.0.1/', '0.0.1', false],
    ['http://10.1.2.3/', '10.0.0.0/8', true],
    ['http://11.1.2.3/', '10.0.0.0/8', false],
    ['http://192.168.1.7/', '192.168.1.0/24', true],
    ['http://[::1]:9000/', '::1', true],
    ['http://[::1]:9000/', '[::1]:9000', true],
    ['http://[::1]:9000/', '[::1]:9001', false],
    ['http://[0:0:0:0:0:0:0:1]/', '::1', true],
    ['http://[fd00::5]/', 'fd00::/8', true],
    ['http://[fe80::5]/', 'fd00::/8', false],
    ['http://10.1.2.3/', '10.0.0.0/99', false],
  ])('%s with NO_PROXY=%j: %s', (url, noProxy, expected) => {
    expect(bypassesProxy(url, noProxy)).toBe(expected);
  });
});

describe('displayProxy and proxyAuthorization', () => {
  it.each<[string, string]>([
    ['http://user:hunter22@proxy.corp:3128/', 'http://user:***@proxy.corp:3128'],
    ['http://token@proxy.corp:3128/', 'http://***@proxy.corp:3128'],
    ['http://proxy.corp:3128/', 'http://proxy.corp:3128'],
    ['https://u:p%40ss@proxy.corp/', 'https://u:***@proxy.corp'],
    ['not a url', '(an invalid proxy URL)'],
  ])('%s -> %s', (proxy, shown) => {
    expect(displayProxy(proxy)).toBe(shown);
  });

  it('decodes percent-encoded credentials into the Basic header', () => {
    expect(proxyAuthorization('http://u%3Ax:p%40ss@proxy:1/')).toBe(`Basic ${Buffer.from('u:x:p@ss').toString('base64')}`);
    expect(proxyAuthorization('http://token@proxy:1/')).toBe(`Basic ${Buffer.from('token:').toString('base64')}`);
    expect(proxyAuthorization('http://proxy:1/')).toBeUndefined();
  });
});
