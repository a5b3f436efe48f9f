/**
 * The ROCm projects with real nx on the fixture (issue 14, in progress): the base wheels are inferred,
 * stripped of +git… and cached on rocm.json's build fields; the ROCm build, on a machine without ROCm,
 * fails naming what it needs, and `--dry-run` previews it. The tests run in order on one workspace.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRocmBaseWheels } from '../../../tools/fixtures/index.js';
import { tempDir } from '../src/test-support/temp';
import { testCacheRoot } from '../src/test-support/tools';
import { writeRequiringWheel } from '../src/test-support/wheelhouse-fixtures';
import { createSharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { createTestWorkspace, taskOutcomes, type TestWorkspace } from './support/workspace';

const NORMALIZED = ['amdsmi-26.1.0-py3-none-linux_x86_64.whl', 'base-wheels.json', 'torch-2.9.0-py3-none-linux_x86_64.whl', 'torchvision-0.24.0-py3-none-linux_x86_64.whl', 'triton-3.5.0-py3-none-linux_x86_64.whl'];

describe('ROCm with real nx', () => {
  let ws: TestWorkspace;
  const rocm = { device: 'rocm', rocmVersion: '7.1', gpuArchs: ['gfx942'], python: '3.12', baseWheels: { directory: 'base-wheels' } };

  beforeAll(() => {
    assertPluginBuilt();
    const tmp = tempDir('rocm-e2e');
    const fixture = createSharedFixture(join(tmp, 'fixture'));
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: [] });
    createRocmBaseWheels(join(ws.root, 'packages', 'rocm', 'base-wheels'));
    ws.writeJson('packages/rocm/rocm.json', rocm);
    mkdirSync(join(ws.root, 'packages', 'vllm-rocm'));
    ws.writeJson('packages/vllm-rocm/wheel.json', { distribution: 'vllm-rocm', device: 'rocm', env: { VLLM_ROCM_USE_AITER: '1' } });
    writeFileSync(join(ws.root, 'packages', 'vllm-rocm', 'README.md'), '# vllm-rocm\n');
  });

  it('1. tag:device:rocm selects the ROCm environment and variant', async () => {
    const out = await ws.nxOk(['show', 'projects', '--projects', 'tag:device:rocm', '--json']);
    expect(JSON.parse(out.slice(out.indexOf('['))).sort()).toEqual(['rocm', 'vllm-rocm']);
  });

  it('2. `nx run rocm:base-wheels` strips the local versions; a second run is cached; new GPU archs rebuild', async () => {
    const first = await ws.nxOk(['run', 'rocm:base-wheels', '--outputStyle=static']);
    expect(taskOutcomes(first).ran).toEqual(['rocm:base-wheels']);
    expect(first).toContain('torchvision-0.24.0-py3-none-linux_x86_64.whl: Requires-Dist torch (==2.9.0+git1c57644d) -> torch (==2.9.0)');
    expect(readdirSync(join(ws.root, 'dist', 'base-wheels', 'rocm')).sort()).toEqual(NORMALIZED);
    expect(taskOutcomes(await ws.nxOk(['run', 'rocm:base-wheels', '--outputStyle=static'])).cached).toEqual(['rocm:base-wheels']);
    // Neither a description nor the command's timeout changes the base wheels.
    ws.writeJson('packages/rocm/rocm.json', { ...rocm, description: 'not a build input', baseWheels: { ...rocm.baseWheels, timeoutMinutes: 30 } });
    expect(taskOutcomes(await ws.nxOk(['run', 'rocm:base-wheels', '--outputStyle=static'])).cached).toEqual(['rocm:base-wheels']);
    ws.writeJson('packages/rocm/rocm.json', { ...rocm, gpuArchs: ['gfx942', 'gfx90a'] });
    expect(taskOutcomes(await ws.nxOk(['run', 'rocm:base-wheels', '--outputStyle=static'])).ran).toEqual(['rocm:base-wheels']);
    expect(JSON.parse(readFileSync(join(ws.root, 'dist', 'base-wheels', 'rocm', 'base-wheels.json'), 'utf8')).gpuArchs).toEqual(['gfx942', 'gfx90a']);
  });

  it('3. the ROCm build fails on a machine without ROCm, naming what it needs', async () => {
    const r = await ws.nx(['run', 'vllm-rocm:build', '--outputStyle=static'], { ROCM_PATH: join(ws.root, 'no-rocm') });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('vllm-rocm:build (vLLM v0.16.0 for ROCm 7.1, gfx942, gfx90a) needs ROCm 7.1 with hipcc');
    expect(r.output).toContain(`hipcc: not in ${join(ws.root, 'no-rocm', 'bin')} (ROCM_PATH) nor on PATH`);
  });

  it('4. `--dry-run` previews the ROCm build: VLLM_TARGET_DEVICE=rocm, PYTORCH_ROCM_ARCH from gpuArchs', async () => {
    const out = await ws.nxOk(['run', 'vllm-rocm:build', '--dry-run', '--outputStyle=static'], { ROCM_PATH: join(ws.root, 'no-rocm') });
    expect(out).toContain('[dry-run] vllm-rocm: the real run would fail here, this machine lacks ROCm:');
    expect(out).toMatch(/env: .*PYTORCH_ROCM_ARCH='gfx942;gfx90a'.*/);
    expect(out).toMatch(/VLLM_TARGET_DEVICE=rocm/);
    expect(existsRaw(ws)).toBe(false);
  });

  // Until the ROCm `wheel` step lands, a vLLM-ROCm-shaped test wheel stands for its output (it is then not
  // in the wheelhouse's hash: that is the wheel target's output files).
  it('5. the wheelhouse (base installed first, six from PyPI) and the ROCm index over it; a second run is cached', async () => {
    ws.writeJson('packages/rocm/rocm.json', { ...rocm, python: '3.11', gpuArchs: ['gfx942', 'gfx90a'] });
    await writeRequiringWheel(join(ws.root, 'dist', 'wheels', 'vllm-rocm'), 'vllm-rocm', '0.16.0', ['torch==2.9.0', 'torchvision==0.24.0', 'six']);
    mkdirSync(join(ws.root, 'packages', 'rocm-index'));
    ws.writeJson('packages/rocm-index/index.json', { variants: ['vllm-rocm'], publicUrl: 'https://wheels.example/rocm' });
    const env = { PIP_CACHE_DIR: join(testCacheRoot(), 'pip') };
    const first = await ws.nxOk(['run', 'rocm-index:index', '--outputStyle=static'], env);
    expect(taskOutcomes(first).ran.sort()).toEqual(['rocm-index:index', 'rocm:base-wheels', 'vllm-rocm:wheelhouse']);
    const manifest = JSON.parse(readFileSync(join(ws.root, 'dist', 'wheelhouse', 'vllm-rocm', 'manifest.json'), 'utf8')) as { files: { name: string; role: string }[] };
    expect(manifest.files.map((f) => `${f.role} ${f.name}`)).toEqual(['base amdsmi', 'base torch', 'base torchvision', 'base triton', 'requested vllm-rocm', 'dependency six']);
    const index = join(ws.root, 'dist', 'rocm-index', 'rocm-index');
    expect(readdirSync(join(index, 'simple')).sort()).toEqual(['amdsmi', 'index.html', 'index.json', 'six', 'torch', 'torchvision', 'triton', 'vllm-rocm']);
    expect(readFileSync(join(index, 'index.html'), 'utf8')).toContain('pip install vllm-rocm --index-url https://wheels.example/rocm/simple/');
    // The CPU index's folder is not the ROCm one's.
    expect(existsSync(join(ws.root, 'dist', 'index'))).toBe(false);
    const second = await ws.nxOk(['run', 'rocm-index:index', '--outputStyle=static'], env);
    expect(taskOutcomes(second).ran).toEqual([]);
    expect(taskOutcomes(second).cached.sort()).toEqual(['rocm-index:index', 'rocm:base-wheels', 'vllm-rocm:wheelhouse']);
  });
});

function existsRaw(ws: TestWorkspace): boolean {
  try {
    readdirSync(join(ws.root, 'dist', 'raw', 'vllm-rocm'));
    return true;
  } catch {
    return false;
  }
}
