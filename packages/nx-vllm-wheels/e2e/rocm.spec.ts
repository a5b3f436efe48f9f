/**
 * The ROCm projects with real nx on the fixture (issue 14): the base wheels are inferred, stripped of +git…
 * and cached on rocm.json's build fields; the ROCm build, on a machine without ROCm, fails naming what it
 * needs, and `--dry-run` previews it; with the fixture ROCm (hipcc stand-in) `<variant>:wheel` builds the
 * fixture vLLM v0.34.0 for the configured GPU archs into one valid wheel, cached, and rebuilt when the archs
 * change; its wheelhouse (base installed first) and the ROCm index over it build and are cached. The tests
 * run in order on one workspace.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRocmBaseWheels, createRocmToolchain } from '../../../tools/fixtures/index.js';
import { run } from '../src/lib/process';
import { tempDir } from '../src/test-support/temp';
import { testCacheRoot } from '../src/test-support/tools';
import { createSharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { freshVenv, pip, wheelMember } from './support/python';
import { createTestWorkspace, taskOutcomes, type TestWorkspace } from './support/workspace';

const NORMALIZED = ['amdsmi-26.1.0-py3-none-linux_x86_64.whl', 'base-wheels.json', 'torch-2.9.0-py3-none-linux_x86_64.whl', 'torchvision-0.24.0-py3-none-linux_x86_64.whl', 'triton-3.5.0-py3-none-linux_x86_64.whl'];

describe('ROCm with real nx', () => {
  let ws: TestWorkspace;
  // python as the repository's torch.json (the build venv needs it on this machine).
  const rocm = { device: 'rocm', rocmVersion: '7.1', gpuArchs: ['gfx942'], python: '3.11', baseWheels: { directory: 'base-wheels' } };
  let rocmRoot: string;

  beforeAll(() => {
    assertPluginBuilt();
    const tmp = tempDir('rocm-e2e');
    const fixture = createSharedFixture(join(tmp, 'fixture'));
    // v0.34.0: the fixture's unified family, which has vLLM's ROCm build.
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: [], ref: 'v0.34.0' });
    rocmRoot = createRocmToolchain(join(tmp, 'rocm'), { rocmVersion: '7.1.0' }).root;
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
    expect(r.output).toContain('vllm-rocm:build (vLLM v0.34.0 for ROCm 7.1, gfx942, gfx90a) needs ROCm 7.1 with hipcc');
    expect(r.output).toContain(`hipcc: not in ${join(ws.root, 'no-rocm', 'bin')} (ROCM_PATH) nor on PATH`);
  });

  it('4. `--dry-run` previews the ROCm build: VLLM_TARGET_DEVICE=rocm, PYTORCH_ROCM_ARCH from gpuArchs', async () => {
    const out = await ws.nxOk(['run', 'vllm-rocm:build', '--dry-run', '--outputStyle=static'], { ROCM_PATH: join(ws.root, 'no-rocm') });
    expect(out).toContain('[dry-run] vllm-rocm: the real run would fail here, this machine lacks ROCm:');
    expect(out).toMatch(/env: .*PYTORCH_ROCM_ARCH='gfx942;gfx90a'.*/);
    expect(out).toMatch(/VLLM_TARGET_DEVICE=rocm/);
    expect(existsRaw(ws)).toBe(false);
    // The wheel step's preview (the build's forwarded with it): auditwheel's analysis with ROCm's libraries excluded.
    const wheel = await ws.nxOk(['run', 'vllm-rocm:wheel', '--dry-run', '--outputStyle=static'], { ROCM_PATH: join(ws.root, 'no-rocm') });
    expect(wheel).toMatch(/--exclude '?libamdhip64\.so\*/);
    expect(wheel).toContain(`[dry-run] would write ${join(ws.root, 'dist', 'wheels', 'vllm-rocm', 'vllm_rocm-<version>-<python tag>-<abi tag>-<platform tag>.whl')}`);
    expect(existsRaw(ws)).toBe(false);
  });

  it('5. with ROCm, `nx run vllm-rocm:wheel` gives one valid wheel whose extensions record the GPU archs', async () => {
    const out = await ws.nxOk(['run', 'vllm-rocm:wheel', '--outputStyle=static'], { ROCM_PATH: rocmRoot });
    expect(taskOutcomes(out)).toEqual({ ran: ['vllm-rocm:build', 'vllm-rocm:wheel'], cached: ['rocm:base-wheels'] });
    expect(out).toMatch(/PYTORCH_ROCM_ARCH='gfx942;gfx90a'/);
    // The raw build is vLLM's: +rocm710 from the ROCm installation; the wheel strips it and gets an honest tag.
    expect(readdirSync(join(ws.root, 'dist', 'raw', 'vllm-rocm')).sort()).toEqual(['build-info.json', 'vllm-0.34.0+rocm710-cp38-abi3-linux_x86_64.whl']);
    const wheels = readdirSync(join(ws.root, 'dist', 'wheels', 'vllm-rocm'));
    expect(wheels).toEqual([expect.stringMatching(/^vllm_rocm-0\.34\.0-cp38-abi3-manylinux_2_\d+_x86_64(\.manylinux\w+)?\.whl$/)]);
    expect(out).toContain('libamdhip64.so.7: excluded');
    const wheel = join(ws.root, 'dist', 'wheels', 'vllm-rocm', wheels[0]);
    expect(await offloadArchs(wheel)).toEqual({ 'vllm/_C.abi3.so': 'gfx942;gfx90a', 'vllm/_rocm_C.abi3.so': 'gfx942;gfx90a' });
    // It requires the exact base set it was compiled against (upstream's requirements name no torch).
    const metadata = wheelMember(wheel, 'vllm_rocm-0.34.0.dist-info/METADATA').toString('utf8');
    expect(metadata.split('\n').filter((l) => l.startsWith('Requires-Dist: '))).toEqual([
      'Requires-Dist: amdsmi==26.1.0',
      'Requires-Dist: torch==2.9.0',
      'Requires-Dist: torchvision==0.24.0',
      'Requires-Dist: triton==3.5.0',
      'Requires-Dist: packaging>=24.2',
    ]);
    // Valid: it installs beside the stripped base wheels from files alone, and its kernels load and run.
    expect(await installAndRun(wheel)).toBe('gfx942;gfx90a 70125424 20.0');
  });

  it('6. a second run is a cache hit; new GPU archs rebuild the ROCm projects', async () => {
    const again = await ws.nxOk(['run', 'vllm-rocm:wheel', '--outputStyle=static'], { ROCM_PATH: rocmRoot });
    expect(taskOutcomes(again)).toEqual({ ran: [], cached: ['rocm:base-wheels', 'vllm-rocm:build', 'vllm-rocm:wheel'] });
    // Archs no earlier run used (test 2's base wheels had gfx942 alone: that entry would be a cache hit).
    ws.writeJson('packages/rocm/rocm.json', { ...rocm, gpuArchs: ['gfx90a'] });
    const rebuilt = await ws.nxOk(['run-many', '-t', 'wheel', '--projects=tag:device:rocm', '--outputStyle=static'], { ROCM_PATH: rocmRoot });
    expect(taskOutcomes(rebuilt)).toEqual({ ran: ['rocm:base-wheels', 'vllm-rocm:build', 'vllm-rocm:wheel'], cached: [] });
    const [wheel] = readdirSync(join(ws.root, 'dist', 'wheels', 'vllm-rocm'));
    expect(await offloadArchs(join(ws.root, 'dist', 'wheels', 'vllm-rocm', wheel))).toEqual({ 'vllm/_C.abi3.so': 'gfx90a', 'vllm/_rocm_C.abi3.so': 'gfx90a' });
  });


  it("7. the wheelhouse (the base installed first, the wheel's requirements from PyPI) and the ROCm index over it; a second run is cached; the index alone installs the whole set, as rocm-index:verify checks", async () => {
    mkdirSync(join(ws.root, 'packages', 'rocm-index'));
    ws.writeJson('packages/rocm-index/index.json', { variants: ['vllm-rocm'], publicUrl: 'https://wheels.example/rocm' });
    const env = { ROCM_PATH: rocmRoot, PIP_CACHE_DIR: join(testCacheRoot(), 'pip') };
    const first = await ws.nxOk(['run', 'rocm-index:index', '--outputStyle=static'], env);
    expect(taskOutcomes(first)).toEqual({ ran: ['rocm-index:index', 'vllm-rocm:wheelhouse'], cached: ['rocm:base-wheels', 'vllm-rocm:build', 'vllm-rocm:wheel'] });
    const manifest = JSON.parse(readFileSync(join(ws.root, 'dist', 'wheelhouse', 'vllm-rocm', 'manifest.json'), 'utf8')) as { files: { name: string; role: string }[] };
    expect(manifest.files.map((f) => `${f.role} ${f.name}`)).toEqual(['base amdsmi', 'base torch', 'base torchvision', 'base triton', 'requested vllm-rocm', 'dependency packaging']);
    const index = join(ws.root, 'dist', 'rocm-index', 'rocm-index');
    expect(readdirSync(join(index, 'simple')).sort()).toEqual(['amdsmi', 'index.html', 'index.json', 'packaging', 'torch', 'torchvision', 'triton', 'vllm-rocm']);
    expect(readFileSync(join(index, 'index.html'), 'utf8')).toContain('pip install vllm-rocm --index-url https://wheels.example/rocm/simple/');
    // The CPU index's folder is not the ROCm one's.
    expect(existsSync(join(ws.root, 'dist', 'index'))).toBe(false);
    // The one command of the landing page installs the whole set from this index alone.
    const python = freshVenv(join(ws.root, '.venv-index'));
    pip(python, ['install', '--no-cache-dir', 'vllm-rocm', '--index-url', `${pathToFileURL(join(index, 'simple')).href}/`]);
    const versions = JSON.parse(await pythonOut(python, 'import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in ["vllm-rocm", "torch", "triton", "torchvision", "amdsmi", "packaging"]}))'));
    expect(versions).toMatchObject({ 'vllm-rocm': '0.34.0', torch: '2.9.0', triton: '3.5.0', torchvision: '0.24.0', amdsmi: '26.1.0' });
    // rocm-index:verify does the same with pip and with uv, each in a fresh venv from the index alone, and imports it.
    const verify = await ws.nxOk(['run', 'rocm-index:verify', `--index-url=${pathToFileURL(join(index, 'simple')).href}/`, '--outputStyle=static'], env);
    expect(verify).toMatch(/\nvariant +pip +uv\nvllm-rocm +ok +ok\n/);
    const second = await ws.nxOk(['run', 'rocm-index:index', '--outputStyle=static'], env);
    expect(taskOutcomes(second)).toEqual({ ran: [], cached: ['rocm-index:index', 'rocm:base-wheels', 'vllm-rocm:build', 'vllm-rocm:wheel', 'vllm-rocm:wheelhouse'] });
  });

  async function pythonOut(python: string, code: string): Promise<string> {
    return (await run(python, ['-c', code], { cwd: ws.root, env: ws.env, timeoutMs: 60_000 })).stdout.trim();
  }

  /** The `--offload-arch` list hipcc compiled into each extension of the wheel (the stand-in's marker string). */
  async function offloadArchs(wheel: string): Promise<Record<string, string>> {
    const code = [
      'import json, re, sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      "print(json.dumps({n: re.search(rb'hip-fixture-offload-arch:([\\w;]*)', z.read(n)).group(1).decode() for n in z.namelist() if n.endswith('.so')}))",
    ].join('\n');
    return JSON.parse((await run('python3', ['-c', code, wheel], { cwd: ws.root, env: ws.env, timeoutMs: 60_000 })).stdout);
  }

  /** Installs the wheel with the base wheels (files only, no index) into a fresh venv and calls its kernels. */
  async function installAndRun(wheel: string): Promise<string> {
    const venv = join(ws.root, '.venv-check');
    const sh = (command: string, args: string[], env: Record<string, string | undefined> = {}) => run(command, args, { cwd: ws.root, env: { ...ws.env, ...env }, timeoutMs: 300_000 });
    await sh('python3.11', ['-m', 'venv', venv]);
    const base = join(ws.root, 'dist', 'base-wheels', 'rocm');
    await sh(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--no-index', '--find-links', base, '--no-deps', 'torch', 'triton', wheel]);
    const code = 'import vllm._C as c, vllm._rocm_C; print(c.offload_archs(), c.hip_runtime_version(), c.run_kernel())';
    // The HIP runtime comes from the ROCm installation, as on a ROCm machine.
    return (await sh(join(venv, 'bin', 'python'), ['-c', code], { LD_LIBRARY_PATH: join(rocmRoot, 'lib') })).stdout.trim();
  }
});

function existsRaw(ws: TestWorkspace): boolean {
  try {
    readdirSync(join(ws.root, 'dist', 'raw', 'vllm-rocm'));
    return true;
  } catch {
    return false;
  }
}
