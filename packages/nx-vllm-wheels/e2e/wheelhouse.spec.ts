/**
 * `<variant>:wheelhouse` through real nx: the fixture's vllm-cpu built for real, its wheelhouse (the wheel
 * and CPU torch from the fixture's torch index), installed offline, cached, and re-resolved when the
 * constraints file it names changes.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { runDockerfileInVenv } from '../src/test-support/dockerfile-in-venv';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { createTestWorkspace, taskOutcomes, type TestWorkspace } from './support/workspace';

const VARIANT = 'vllm-cpu';
/** Every network access fails: the wheelhouse alone must be enough. */
const OFFLINE = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', PIP_RETRIES: '0', PIP_CONFIG_FILE: '/dev/null' };
const CHECK = 'import importlib.metadata as m, json, vllm.platforms as p; print(json.dumps([m.version("vllm-cpu"), m.version("torch"), p.infer_device_type(), __import__("vllm._C", fromlist=["_C"]).compiled_isa()["avx2"]]))';

describe('`nx run <variant>:wheelhouse`', () => {
  let fixture: SharedFixture;
  let tmp: string;
  let ws: TestWorkspace;
  const dir = () => join(ws.root, 'dist', 'wheelhouse', VARIANT);
  const files = () => readdirSync(dir()).sort();

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('wheelhouse-e2e');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: [VARIANT], host: 'avx512' });
  });

  it('builds the wheel first, then dist/wheelhouse/<variant>: the wheel, CPU torch from the torch index, manifest, constraints, Dockerfile', async () => {
    const out = await ws.nxOk(['run', `${VARIANT}:wheelhouse`, '--outputStyle=static']);
    expect(taskOutcomes(out).ran).toEqual(expect.arrayContaining([`${VARIANT}:build`, `${VARIANT}:wheel`, `${VARIANT}:wheelhouse`]));
    const wheel = readdirSync(join(ws.root, 'dist', 'wheels', VARIANT)).find((f) => f.endsWith('.whl')) as string;
    const torch = fixture.torch.wheelPath.split('/').pop() as string;
    expect(files()).toEqual(['.dockerignore', 'Dockerfile', 'constraints.txt', 'manifest.json', torch, wheel].sort());
    const manifest = JSON.parse(readFileSync(join(dir(), 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { role: string; file: string }) => [f.role, f.file])).toEqual([['base', torch], ['requested', wheel]]);
    expect(readFileSync(join(dir(), 'Dockerfile'), 'utf8')).toContain('ARG PYTHON_IMAGE=python:3.11-slim');
    expect(out).toContain(`pip install --no-index --find-links dist/wheelhouse/${VARIANT} ${VARIANT}`);
  });

  it('installs offline into a fresh venv, and vLLM picks the CPU platform', () => {
    const venv = join(tmp, 'offline');
    execFileSync('python3.11', ['-m', 'venv', venv], { env: OFFLINE });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', '--no-index', '--find-links', dir(), VARIANT], { env: OFFLINE, stdio: 'pipe' });
    const [version, torch, platform, avx2] = JSON.parse(execFileSync(join(venv, 'bin', 'python'), ['-c', CHECK], { env: { ...OFFLINE, VLLM_FIXTURE_CPUINFO: fixture.cpuinfo.avx512 }, encoding: 'utf8' }));
    expect([version.startsWith('0.16.0'), torch, platform, avx2]).toEqual([true, fixture.torch.version, 'cpu', true]);
  });

  it("its Dockerfile's install steps (no container engine here) give the same venv", async () => {
    const venv = join(tmp, 'image-venv');
    const result = await runDockerfileInVenv({ dockerfile: join(dir(), 'Dockerfile'), python: 'python3.11', workDir: join(tmp, 'docker'), venvDir: venv, env: OFFLINE });
    expect(result.runs.map((r) => r.mounts)).toEqual([[], ['base-wheels'], ['requested-wheels'], []]);
    const [, torch, platform] = JSON.parse(execFileSync(join(venv, 'bin', 'python'), ['-c', CHECK], { env: { ...OFFLINE, VLLM_FIXTURE_CPUINFO: fixture.cpuinfo.avx512 }, encoding: 'utf8' }));
    expect([torch, platform]).toEqual([fixture.torch.version, 'cpu']);
  });

  it('is cached; naming a constraints file (the one it wrote) in wheel.json resolves it again, and only it', async () => {
    let out = await ws.nxOk(['run', `${VARIANT}:wheelhouse`, '--outputStyle=static']);
    expect(taskOutcomes(out).cached).toEqual(expect.arrayContaining([`${VARIANT}:build`, `${VARIANT}:wheel`, `${VARIANT}:wheelhouse`]));
    copyFileSync(join(dir(), 'constraints.txt'), join(ws.root, 'packages', VARIANT, 'wheelhouse-constraints.txt'));
    const config = ws.readJson(`packages/${VARIANT}/wheel.json`);
    ws.writeJson(`packages/${VARIANT}/wheel.json`, { ...config, wheelhouse: { constraints: 'wheelhouse-constraints.txt' } });
    out = await ws.nxOk(['run', `${VARIANT}:wheelhouse`, '--outputStyle=static']);
    expect(taskOutcomes(out).ran).toContain(`${VARIANT}:wheelhouse`);
    expect(taskOutcomes(out).cached).toEqual(expect.arrayContaining([`${VARIANT}:build`, `${VARIANT}:wheel`]));
    expect(out).toMatch(/--constraint \S*wheelhouse-constraints\.txt/);
  });
});
