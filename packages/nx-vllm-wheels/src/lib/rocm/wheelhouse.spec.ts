/**
 * The ROCm wheelhouse with real pip: the fixture's normalized base wheels installed first, a vLLM-ROCm-shaped
 * wheel pinning them, six from PyPI and a local sdist built into a wheel; then the ROCm index over it,
 * served over HTTP, installed from alone with pip and uv. The tests run in order on one workspace.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRocmBaseWheels } from '../../../../../tools/fixtures/index.js';
import { rocmConfigSchema, rocmWheelConfigSchema } from '../../config';
import { tempDir } from '../../test-support/temp';
import { testCacheRoot } from '../../test-support/tools';
import { writeRequiringWheel, writeTinydepSdist } from '../../test-support/wheelhouse-fixtures';
import { machineCache } from '../cache-dir';
import { ToolError } from '../errors';
import { recordingLogger } from '../log';
import type { StepContext } from '../pipeline/context';
import { run } from '../process';
import { readManifest } from '../wheelhouse';
import { indexConfigSchema } from '../../config';
import { serveDirectory } from '../../test-support/static-server';
import type { IndexSpec } from '../pipeline/build-index';
import { verifyWheelIndex } from '../pipeline/verify';
import { ensureToolsVenv } from '../tools';
import { buildRocmIndex, buildRocmWheelhouse, collectBaseWheels, type RocmSpec, type RocmVariantSpec } from '.';

const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PIP_CACHE_DIR: join(testCacheRoot(), 'pip') };
/** Any network access fails: what is installed from the wheelhouse must be in it. */
const OFFLINE = { ...ENV, HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', PIP_RETRIES: '0' };
/** What a vLLM ROCm wheel requires of the base (the base set's public versions) and of PyPI. */
const VLLM_REQUIRES = ['torch==2.9.0', 'triton==3.5.0; platform_system == "Linux"', 'torchvision==0.24.0', 'amdsmi==26.1.0', 'six', 'tinydep'];

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const sh = async (command: string, args: string[], cwd: string, env: Record<string, string | undefined>) => (await run(command, args, { cwd, env, timeoutMs: 10 * 60_000 })).stdout.trim();

describe('buildRocmWheelhouse (real pip: the normalized base installed first, six from PyPI, a local sdist)', () => {
  const root = tempDir('rocm-wheelhouse');
  const dir = join(root, 'dist', 'wheelhouse', 'vllm-rocm');
  let rocm: RocmSpec;
  let variant: RocmVariantSpec;
  let ctx: StepContext & { log: ReturnType<typeof recordingLogger> };

  beforeAll(async () => {
    const tinydep = await writeTinydepSdist(join(root, 'sdists'));
    createRocmBaseWheels(join(root, 'packages', 'rocm', 'base-wheels'));
    const config = rocmConfigSchema.parse({ device: 'rocm', rocmVersion: '7.1', gpuArchs: ['gfx942'], python: '3.11', baseWheels: { directory: 'base-wheels' }, extraIndexUrls: [tinydep.indexUrl] });
    rocm = { name: 'rocm', configFile: 'packages/rocm/rocm.json', config };
    variant = { name: 'vllm-rocm', configFile: 'packages/vllm-rocm/wheel.json', config: rocmWheelConfigSchema.parse({ distribution: 'vllm', device: 'rocm' }) };
    ctx = { workspaceRoot: root, env: ENV, cache: machineCache({ VLLM_WHEELS_CACHE_DIR: testCacheRoot() }), log: recordingLogger(), dryRun: false };
    await collectBaseWheels(rocm, ctx);
    await writeRequiringWheel(join(root, 'dist', 'wheels', 'vllm-rocm'), 'vllm', '0.11.0', VLLM_REQUIRES);
    await buildRocmWheelhouse(variant, rocm, ctx);
  }, 600_000);

  it('holds the base wheels byte for byte as base-wheels wrote them, the vLLM wheel, and its closure; the manifest has each sha256', () => {
    const manifest = readManifest(join(dir, 'manifest.json'));
    expect(manifest.python).toMatch(/^3\.11\./);
    expect(manifest.files.map((f) => [f.role, f.name, f.version, f.builtFromSdist])).toEqual([
      ['base', 'amdsmi', '26.1.0', false],
      ['base', 'torch', '2.9.0', false],
      ['base', 'torchvision', '0.24.0', false],
      ['base', 'triton', '3.5.0', false],
      ['requested', 'vllm', '0.11.0', false],
      ['dependency', 'six', expect.stringMatching(/^1\./), false],
      ['dependency', 'tinydep', '1.0', true],
    ]);
    for (const f of manifest.files) expect(sha256(join(dir, f.file))).toBe(f.sha256);
    const base = JSON.parse(readFileSync(join(root, 'dist', 'base-wheels', 'rocm', 'base-wheels.json'), 'utf8')).wheels as { file: string; sha256: string }[];
    for (const b of base) expect(manifest.files.find((f) => f.file === b.file)?.sha256).toBe(b.sha256);
    // Resolved with the base installed: pip never looked up torch & co. in an index.
    expect(ctx.log.lines.join('\n')).not.toMatch(/Collecting (torch|triton|amdsmi)/);
  });

  it('installs offline into a fresh venv from the wheelhouse alone, with the ROCm torch', async () => {
    const venv = join(root, 'offline-venv');
    await sh('python3.11', ['-m', 'venv', venv], root, OFFLINE);
    await sh(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--no-index', '--find-links', dir, 'vllm'], root, OFFLINE);
    const out = await sh(join(venv, 'bin', 'python'), ['-c', 'import importlib.metadata as md, torch, tinydep, vllm; print(md.version("torch"), torch.version.git_version, torch.version.hip is not None, tinydep.VALUE)'], root, OFFLINE);
    expect(out).toBe('2.9.0 1c57644d True 42');
  });

  describe('the ROCm index over the wheelhouse', () => {
    const indexRoot = () => join(root, 'dist', 'rocm-index', 'rocm-index');
    const indexSpec = (publicUrl?: string): IndexSpec => ({
      name: 'rocm-index',
      configFile: 'packages/rocm-index/index.json',
      config: indexConfigSchema.parse({ variants: ['vllm-rocm'], ...(publicUrl ? { publicUrl } : {}) }),
      variants: ['vllm-rocm'],
    });

    it('holds base + dependencies + vLLM, and its landing page gives the one command', async () => {
      const state = await buildRocmIndex(indexSpec('https://wheels.example/rocm'), [variant], rocm, ctx);
      expect([...new Set(state!.files.map((f) => f.project))].sort()).toEqual(['amdsmi', 'six', 'tinydep', 'torch', 'torchvision', 'triton', 'vllm']);
      const manifest = readManifest(join(dir, 'manifest.json'));
      for (const f of manifest.files) expect(state!.files.find((s) => s.filename === f.file)?.sha256).toBe(f.sha256);
      // Each base wheel records the build it comes from (a later publish refuses another build of 2.9.0).
      expect(Object.fromEntries(state!.files.filter((f) => f.localVersion).map((f) => [f.project, f.localVersion]))).toEqual({
        amdsmi: '26.1.0+5f0a6e2',
        torch: '2.9.0+git1c57644d',
        torchvision: '0.24.0+git98f8b37',
        triton: '3.5.0+gitb0e26b6e',
      });
      const landing = readFileSync(join(indexRoot(), 'index.html'), 'utf8');
      expect(landing).toContain('<title>vLLM ROCm wheels</title>');
      expect(landing).toContain('<pre><code>pip install vllm --index-url https://wheels.example/rocm/simple/</code></pre>');
      expect(landing).not.toMatch(/--pre|--extra-index-url|--no-deps/);
      expect(landing).toContain('Also here, as their dependencies: ');
    });

    it('wheel-index:verify installs vllm from it alone over HTTP (no other index, no network) with pip and uv, and imports it', async () => {
      // uv comes from the tools venv, made with the network before the offline installs.
      await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['uv'], env: ENV, log: recordingLogger(), dryRun: false });
      const server = await serveDirectory(indexRoot());
      try {
        const env = { ...OFFLINE, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };
        const results = await verifyWheelIndex(
          { configFile: 'packages/rocm-index/index.json', config: indexSpec().config, variants: [variant], rocm, indexUrl: `${server.url}/simple/`, installers: ['pip', 'uv'] },
          { ...ctx, env, log: recordingLogger() },
        );
        expect(results.map((r) => [r.installer, r.ok, r.summary])).toEqual([
          ['pip', true, 'vllm 0.11.0, torch 2.9.0 (imported)'],
          ['uv', true, 'vllm 0.11.0, torch 2.9.0 (imported)'],
        ]);
        expect(server.requests).toContain('/simple/torch/');
      } finally {
        await server.close();
      }
    }, 600_000);

    it('fails the verify when the index lacks a dependency (the check can fail)', async () => {
      rmSync(join(indexRoot(), 'simple', 'six'), { recursive: true });
      const server = await serveDirectory(indexRoot());
      try {
        const env = { ...OFFLINE, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };
        const attempt = verifyWheelIndex(
          { configFile: 'packages/rocm-index/index.json', config: indexSpec().config, variants: [variant], rocm, indexUrl: `${server.url}/simple/`, installers: ['pip'] },
          { ...ctx, env, log: recordingLogger() },
        );
        await expect(attempt).rejects.toThrow(/1 of 1 installs from http:\/\/127\.0\.0\.1:\d+\/simple\/ failed/);
      } finally {
        await server.close();
      }
    }, 600_000);
  });

  it('refuses a wheel that asks for another torch than the base (pip would take it from the index), keeping the previous wheelhouse', async () => {
    const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
    const wheels = join(root, 'dist', 'wheels', 'vllm-rocm');
    rmSync(wheels, { recursive: true });
    await writeRequiringWheel(wheels, 'vllm', '0.11.1', ['torch==2.8.0']);
    // The indexes: a local one whose only torch is 2.8.0, so the refusal is the base's rule, not a missing file.
    const other = tempDir('rocm-other-torch');
    await writeRequiringWheel(join(other, 'links'), 'torch', '2.8.0', []);
    const noIndexRocm: RocmSpec = { ...rocm, config: { ...rocm.config, indexUrl: `file://${join(other, 'simple')}/`, extraIndexUrls: [] } };
    await sh('mkdir', ['-p', join(other, 'simple', 'torch')], other, ENV);
    await sh('sh', ['-c', `printf '<a href="file://%s">torch-2.8.0-py3-none-any.whl</a>' "${join(other, 'links', 'torch-2.8.0-py3-none-any.whl')}" > ${join(other, 'simple', 'torch', 'index.html')}`], other, ENV);
    const attempt = buildRocmWheelhouse(variant, noIndexRocm, { ...ctx, log: recordingLogger() });
    await expect(attempt).rejects.toThrow(ToolError);
    await expect(attempt).rejects.toThrow(/need torch 2\.8\.0 \(the base has 2\.9\.0\)/);
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(before);
  }, 600_000);

  it('says where the base wheels come from when they are missing', async () => {
    const empty = tempDir('rocm-no-base');
    await writeRequiringWheel(join(empty, 'dist', 'wheels', 'vllm-rocm'), 'vllm', '0.11.0', VLLM_REQUIRES);
    await expect(buildRocmWheelhouse(variant, rocm, { ...ctx, workspaceRoot: empty })).rejects.toThrow(
      'dist/base-wheels/rocm/base-wheels.json does not exist: the ROCm base wheels come from `nx run rocm:base-wheels`.',
    );
  });
});
