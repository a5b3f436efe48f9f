/**
 * The pipeline as a user drives it through nx: the graph, dry runs, locking, and failures that must be
 * clear and leave nothing half-written behind.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGone, processesMatching, waitUntil } from '../src/test-support/processes';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt, NX_BIN, REPO_ROOT } from './support/paths';
import { wheelMember } from './support/python';
import { cleanEnv, createTestWorkspace, runNodeScript, taskOutcomes, type TestWorkspace } from './support/workspace';

const VARIANTS = ['vllm-cpu', 'vllm-cpu-avx512'];

describe('the pipeline through nx', () => {
  let fixture: SharedFixture;
  let tmp: string;
  let n = 0;
  const workspace = (overrides: Partial<Parameters<typeof createTestWorkspace>[0]> = {}): TestWorkspace =>
    createTestWorkspace({ fixture, root: join(tmp, `ws-${++n}`), machineCache: join(tmp, 'machine-cache'), variants: VARIANTS, ...overrides });

  /** A patch file in `ws` (listed in vllm.json) made by `edit` on a clean checkout of the fixture's v0.16.0. */
  const usePatch = (ws: TestWorkspace, name: string, edit: (src: string) => void): void => {
    const scratch = join(tmp, `patch-src-${++n}`);
    execFileSync('git', ['clone', '--quiet', fixture.repo.url, scratch]);
    execFileSync('git', ['checkout', '--quiet', fixture.repo.tags['v0.16.0']], { cwd: scratch });
    edit(scratch);
    writeFileSync(join(ws.root, 'packages/vllm', name), execFileSync('git', ['diff'], { cwd: scratch, encoding: 'utf8' }));
    const vllm = ws.readJson<Record<string, unknown>>('packages/vllm/vllm.json');
    ws.writeJson('packages/vllm/vllm.json', { ...vllm, patches: [name] });
  };
  const appendTo = (file: string, text: string) => writeFileSync(file, `${readFileSync(file, 'utf8')}\n${text}\n`);
  /**
   * A patch that makes the CMake build hang in a step ninja runs; returns that step's command line
   * (`sleep <n>`, unique to this run so that no other process on the machine is taken for it).
   */
  const hangingBuild = (ws: TestWorkspace): string => {
    const hang = `sleep ${3_000_000 + process.pid * 10 + n}`;
    usePatch(ws, 'slow.patch', (src) => appendTo(join(src, 'CMakeLists.txt'), `add_custom_target(slow_step COMMAND ${hang})\nadd_dependencies(_C slow_step)`));
    return hang;
  };
  /** nx in its own process group, like a terminal's foreground job. */
  const startNx = (ws: TestWorkspace, args: string[]) => {
    const nx = spawn(process.execPath, [NX_BIN, ...args], { cwd: ws.root, env: ws.env as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    nx.stdout.resume(); // Nx itself goes silent on SIGINT
    nx.stderr.resume();
    const exited = new Promise<number | null>((resolve) => nx.on('close', (code) => resolve(code)));
    return { pid: nx.pid as number, exited };
  };
  const rawWheel = (ws: TestWorkspace, variant: string) => {
    const dir = join(ws.root, 'dist/raw', variant);
    return join(dir, readdirSync(dir).find((f) => f.endsWith('.whl')) as string);
  };

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('pipeline');
    fixture = createSharedFixture(join(tmp, 'fixture'));
  });

  it('`nx graph` shows vllm -> torch-cpu -> variants -> wheel-index; `nx show project` shows targets as data', async () => {
    const ws = workspace();
    await ws.nxOk(['graph', '--file=graph.json']);
    const { graph } = ws.readJson<{ graph: { dependencies: Record<string, { target: string }[]> } }>('graph.json');
    const deps = (p: string) => graph.dependencies[p].map((d) => d.target).sort();
    expect(deps('vllm-cpu')).toEqual(['torch-cpu', 'vllm']);
    expect(deps('vllm-cpu-avx512')).toEqual(['torch-cpu', 'vllm']);
    expect(deps('torch-cpu')).toEqual(['vllm']);
    expect(deps('wheel-index')).toEqual(VARIANTS);

    const project = JSON.parse(await ws.nxOk(['show', 'project', 'vllm-cpu-avx512', '--json']));
    expect(Object.keys(project.targets).sort()).toEqual(['build', 'dev', 'publish', 'wheel', 'wheelhouse']);
    // dev writes into the machine cache's worktree: never cached.
    expect(project.targets.dev).toMatchObject({ cache: false, executor: 'nx-vllm-wheels:dev-presets' });
    expect(project.targets.build.outputs).toEqual(['{workspaceRoot}/dist/raw/{projectName}']);
    expect(project.targets.wheel.outputs).toEqual(['{workspaceRoot}/dist/wheels/{projectName}']);
    expect(project.targets.build.inputs).toContainEqual({ json: '{projectRoot}/wheel.json', fields: ['distribution', 'source', 'device', 'arch', 'isa', 'env', 'pinIsa'] });
    expect(project.targets.build.metadata.description).toMatch(/raw wheel/);
    // Publishing uploads what was built: no dependsOn (a dry run must not rebuild anything).
    expect(project.targets.publish).toMatchObject({ cache: false, executor: 'nx-vllm-wheels:publish-pypi' });
    expect(project.targets.publish.dependsOn).toBeUndefined();

    const index = JSON.parse(await ws.nxOk(['show', 'project', 'wheel-index', '--json']));
    expect(Object.keys(index.targets).sort()).toEqual(['index', 'publish', 'verify']);
    expect(index.targets.index).toMatchObject({ cache: true, outputs: ['{workspaceRoot}/dist/index'] });
    expect(index.targets.index.dependsOn).toEqual([{ projects: expect.arrayContaining(VARIANTS), target: 'wheel', params: 'forward' }]);
    expect(index.targets.index.dependsOn[0].projects).toHaveLength(VARIANTS.length);
    expect(index.targets.publish).toMatchObject({ cache: false, executor: 'nx-vllm-wheels:publish-s3' });
    expect(index.targets.publish.dependsOn).toBeUndefined();
  });

  it('--dry-run previews the whole chain (commands, env, cwd, files) and changes nothing', async () => {
    const machineCache = join(tmp, 'dry-run-machine-cache');
    const ws = workspace({ machineCache, buildVenvInstaller: 'pip' }); // uv off PATH: the plugin's fallback
    const out = await ws.nxOk(['run', 'vllm-cpu:wheel', '--dry-run', '--outputStyle=static']);
    expect(out).toContain('[dry-run] would run');
    expect(out).toMatch(/git clone --mirror -- file:\/\/\S+ \S+/);
    expect(out).toMatch(/-m venv /);
    expect(out).toMatch(/pip install .*--extra-index-url file:\/\//);
    expect(out).toMatch(/setup\.py bdist_wheel --dist-dir '<temp dir>' --py-limited-api=cp38/);
    expect(out).toMatch(/\[dry-run\] {3}env: VLLM_TARGET_DEVICE=cpu CMAKE_BUILD_TYPE=Release VLLM_CPU_DISABLE_AVX512=true/);
    // Every command with its cwd and the variables set for it: git's, pip's, normalize's (auditwheel, objdump).
    expect(out).toMatch(/git clone --mirror .*\n\[dry-run\] {3}env: .*GIT_TERMINAL_PROMPT=0/);
    expect(out).toMatch(/-m venv \S+\n\[dry-run\] {3}env: \S/); // what pip's env changes depends on the caller's
    expect(out).toMatch(/\[dry-run\] would run \(cwd \S+dist\/raw\/vllm-cpu\): \S+\/bin\/python -I \S+analyze_wheel\.py /);
    expect(out).toMatch(/\[dry-run\] would run \(cwd <audit temp dir>\): objdump -d --no-show-raw-insn -M att /);
    expect(out).toContain(`would write ${join(ws.root, 'dist/wheels/vllm-cpu')}/vllm_cpu-<version>-`);
    expect(out).toContain(`would write ${join(ws.root, 'dist/raw/vllm-cpu')}`);
    expect(out).not.toMatch(/\[local cache\]/);
    expect(out).toMatch(/\[dry-run\] vllm-cpu: [0-9a-f]{12} is not in the mirror yet, so its env is not checked against cmake\/cpu_extension\.cmake/);
    expect(existsSync(machineCache)).toBe(false);
    expect(existsSync(join(ws.root, 'dist'))).toBe(false);
    // A second dry run is not replayed from a cache either: it previews again.
    const again = await ws.nxOk(['run', 'vllm-cpu:wheel', '--dry-run', '--outputStyle=static']);
    expect(taskOutcomes(again).cached).toEqual([]);
    expect(again).toContain('[dry-run] would run');
  });

  it('a dry run after a real build leaves the real wheels alone', async () => {
    const ws = workspace();
    await ws.nxOk(['run', 'vllm-cpu:wheel', '--outputStyle=static']);
    const before = readdirSync(join(ws.root, 'dist/wheels/vllm-cpu'));
    const out = await ws.nxOk(['run', 'vllm-cpu:wheel', '--dry-run', '--outputStyle=static']);
    expect(out).toContain('[dry-run]');
    expect(out).toMatch(/vllm-cpu: cmake\/cpu_extension\.cmake at [0-9a-f]{12}: isa-variants build, reads \/proc\/cpuinfo for x86_64: the CPU flags are pinned to isa avx2\./);
    expect(readdirSync(join(ws.root, 'dist/wheels/vllm-cpu'))).toEqual(before);
    expect(taskOutcomes(await ws.nxOk(['run', 'vllm-cpu:wheel', '--outputStyle=static'])).cached).toEqual(['vllm-cpu:build', 'vllm-cpu:wheel']);
  });

  it('an unlocked vllm.json (no commit) is inferred but builds nothing; `nx run vllm:lock` resolves ref to its commit and rewrites it; a missing ref is a clear error', async () => {
    const machineCache = join(tmp, 'lock-machine-cache-dry');
    const ws = workspace({ machineCache });
    const { commit: _locked, ...vllm } = ws.readJson<Record<string, string>>('packages/vllm/vllm.json');
    ws.writeJson('packages/vllm/vllm.json', { ...vllm, ref: 'v0.16.2' });
    expect(await ws.nxOk(['show', 'projects'])).toContain('vllm-cpu');
    const unlocked = await ws.nx(['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(unlocked.code).not.toBe(0);
    expect(unlocked.output).toContain('packages/vllm/vllm.json is not locked:\n  - commit: missing; run `nx run vllm:lock` to resolve "ref" (v0.16.2)');
    const preview = await ws.nxOk(['run', 'vllm:lock', '--dry-run', '--outputStyle=static']);
    expect(preview).toContain(`[dry-run] would write packages/vllm/vllm.json with "commit": "${fixture.repo.tags['v0.16.2']}" (was not locked)`);
    expect(preview).toContain('asking the remote with git ls-remote instead');
    expect(ws.readJson('packages/vllm/vllm.json')).toEqual({ ...vllm, ref: 'v0.16.2' });
    expect(existsSync(machineCache)).toBe(false); // no mirror cloned, nothing fetched
    const out = await ws.nxOk(['run', 'vllm:lock', '--outputStyle=static']);
    expect(out).toContain(`"v0.16.2" locked to ${fixture.repo.tags['v0.16.2']}`);
    expect(ws.readJson('packages/vllm/vllm.json')).toEqual({ ...vllm, ref: 'v0.16.2', commit: fixture.repo.tags['v0.16.2'] });
    expect(readFileSync(join(ws.root, 'packages/vllm/vllm.json'), 'utf8')).toMatch(/^\{\n {2}"/); // stays pretty-printed

    ws.writeJson('packages/vllm/vllm.json', { ...vllm, ref: 'v9.9.9' });
    const bad = await ws.nx(['run', 'vllm:lock', '--outputStyle=static']);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('Ref "v9.9.9" does not exist in');
    expect(bad.output).toMatch(/Newest tags: v0\.34\.0, v0\.17\.0, v0\.16\.2, v0\.16\.1, v0\.16\.0\./);
    expect(ws.readJson('packages/vllm/vllm.json')).toEqual({ ...vllm, ref: 'v9.9.9' });
  });

  it('lock warns and continues when fetching fails but the mirror knows the ref', async () => {
    const ws = workspace({ machineCache: join(tmp, 'lock-machine-cache') });
    await ws.nxOk(['run', 'vllm:checkout', '--outputStyle=static']);
    const vllm = ws.readJson<Record<string, string>>('packages/vllm/vllm.json');
    ws.writeJson('packages/vllm/vllm.json', { ...vllm, repository: `file://${join(tmp, 'gone.git')}`, ref: 'v0.16.1' });
    const out = await ws.nxOk(['run', 'vllm:lock', '--outputStyle=static']);
    expect(out).toMatch(/WARNING: Fetching file:\/\/\S+gone\.git failed; resolving "v0\.16\.1" from the mirror as it is/);
    expect(ws.readJson<Record<string, string>>('packages/vllm/vllm.json').commit).toBe(fixture.repo.tags['v0.16.1']);
  });

  it('two processes checking out for the first time on one fresh machine cache: one clones, the other waits for the lock', async () => {
    const machineCache = join(tmp, 'race-machine-cache');
    const go = join(tmp, 'race-go');
    // Each process waits for the same go file, so both ask for the mirror at the same moment.
    const script = join(tmp, 'race-checkout.js');
    writeFileSync(
      script,
      `const { existsSync, writeFileSync } = require('node:fs');
const { ensureCommit } = require(${JSON.stringify(join(REPO_ROOT, 'packages/nx-vllm-wheels/dist/lib/git'))});
const [mirrorDir, lockDir, repository, commit, go] = process.argv.slice(2);
const log = { step: (m) => console.log('> ' + m), info: (m) => console.log(m), warn: (m) => console.log('WARNING: ' + m) };
(async () => {
  writeFileSync(go + '.ready-' + process.pid, '');
  while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
  console.log(JSON.stringify(await ensureCommit({ mirrorDir, lockDir, repository, commit, env: process.env, log, dryRun: false })));
})().catch((e) => { console.log(e.message); process.exitCode = 1; });
`,
    );
    const args = [join(machineCache, 'git/vllm.git'), join(machineCache, 'locks/git-vllm.lock'), fixture.repo.url, fixture.repo.tags['v0.16.0'], go];
    const runs = [runNodeScript(script, args, tmp, cleanEnv()), runNodeScript(script, args, tmp, cleanEnv())];
    expect(await waitUntil(() => readdirSync(tmp).filter((f) => f.startsWith('race-go.ready-')).length === 2, 60_000)).toBe(true);
    writeFileSync(go, '');
    const results = await Promise.all(runs);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const outputs = results.map((r) => r.output).sort((a, b) => Number(a.includes('Waiting')) - Number(b.includes('Waiting')));
    expect(outputs[0]).toContain('{"cloned":true,"fetched":false}');
    expect(outputs[1]).toMatch(/^Waiting for another process \(pid \d+\) to release git-vllm\.lock…\n\{"cloned":false,"fetched":false\}\n$/);
    expect(readdirSync(join(machineCache, 'git'))).toEqual(['vllm.git']);
  });

  it('the build builds the v0.16.2 layout (requirements/build/cpu.txt) too, from a mirror whose pack was truncated (cloned again)', async () => {
    const ws = workspace({ ref: 'v0.16.2', variants: ['vllm-cpu'] });
    await ws.nxOk(['run', 'vllm:checkout', '--outputStyle=static']);
    const mirror = join(tmp, 'machine-cache/git/vllm.git');
    for (const pack of readdirSync(join(mirror, 'objects/pack')).filter((f) => f.endsWith('.pack'))) truncateSync(join(mirror, 'objects/pack', pack), 100);
    expect(spawnSync('git', ['fsck'], { cwd: mirror }).status).not.toBe(0);
    const out = await ws.nxOk(['run', 'vllm-cpu:wheel', '--outputStyle=static']);
    expect(out).toMatch(new RegExp(`WARNING: The mirror ${mirror} is corrupt \\(packfile \\S+ does not match index; .*\\); removing it and cloning it again from file://`));
    expect(spawnSync('git', ['fsck'], { cwd: mirror }).status).toBe(0);
    expect(readdirSync(join(ws.root, 'dist/wheels/vllm-cpu')).filter((f) => f.endsWith('.whl'))).toEqual([expect.stringMatching(/^vllm_cpu-0\.16\.2-cp38-abi3-manylinux_2_\d+_x86_64(\.[a-z0-9_]+)*\.whl$/)]);
  });

  it('a patch that does not apply names the patch, fails the build and leaves the worktree clean', async () => {
    const ws = workspace({ variants: ['vllm-cpu'], machineCache: join(tmp, 'patch-machine-cache') });
    mkdirSync(join(ws.root, 'packages/vllm/patches'));
    writeFileSync(
      join(ws.root, 'packages/vllm/patches/0001-good.patch'),
      'diff --git a/NEW_FILE.txt b/NEW_FILE.txt\nnew file mode 100644\n--- /dev/null\n+++ b/NEW_FILE.txt\n@@ -0,0 +1 @@\n+added by a patch\n',
    );
    writeFileSync(
      join(ws.root, 'packages/vllm/patches/0002-bad.patch'),
      // Not cmake/cpu_extension.cmake or setup.py: those the build plan reads patched, and refuses before any worktree.
      'diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1,1 +1,1 @@\n-this line is not in README.md\n+neither is this one\n',
    );
    const vllm = ws.readJson<Record<string, unknown>>('packages/vllm/vllm.json');
    ws.writeJson('packages/vllm/vllm.json', { ...vllm, patches: ['patches/0001-good.patch', 'patches/0002-bad.patch'] });
    const result = await ws.nx(['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('Patch packages/vllm/patches/0002-bad.patch does not apply to');
    expect(result.output).toContain('The worktree was reset to the clean commit.');
    const worktree = join(tmp, 'patch-machine-cache', 'src', 'vllm-cpu');
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: worktree, encoding: 'utf8' })).toBe('');
    expect(existsSync(join(worktree, 'NEW_FILE.txt'))).toBe(false);
    expect(existsSync(join(ws.root, 'dist'))).toBe(false);

    // With only the good patch the build works, and the patched tree keeps the release version.
    ws.writeJson('packages/vllm/vllm.json', { ...vllm, patches: ['patches/0001-good.patch'] });
    await ws.nxOk(['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(readdirSync(join(ws.root, 'dist/raw/vllm-cpu')).filter((f) => f.endsWith('.whl'))).toEqual(['vllm-0.16.0+cpu-cp38-abi3-linux_x86_64.whl']);
    expect(existsSync(join(worktree, 'NEW_FILE.txt'))).toBe(true);
  });

  it("a wheel.json env variable the commit does not read (a typo) fails the build before the source is prepared, naming the file, the field and what the commit reads", async () => {
    const ws = workspace({ variants: ['vllm-cpu'] });
    const wheel = ws.readJson<{ env: Record<string, string> }>('packages/vllm-cpu/wheel.json');
    ws.writeJson('packages/vllm-cpu/wheel.json', { ...wheel, env: { ...wheel.env, VLLM_CPU_AVX2: '1', VLLM_CPU_AVX512VNN: '1' } });
    const result = await ws.nx(['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('packages/vllm-cpu/wheel.json sets variables this vLLM commit ignores:');
    expect(result.output).toMatch(/env\.VLLM_CPU_AVX512VNN: is not read by vLLM at [0-9a-f]{12} \(isa-variants build\); did you mean "VLLM_CPU_AVX512VNNI"\?/);
    expect(result.output).toMatch(/cmake\/cpu_extension\.cmake reads: VLLM_CPU_AMXBF16, VLLM_CPU_AVX2, VLLM_CPU_AVX512, VLLM_CPU_AVX512BF16, VLLM_CPU_AVX512VNNI, VLLM_CPU_DISABLE_AVX512, VLLM_FIXTURE_CPUINFO/);
    expect(result.output).not.toContain('vllm-cpu: preparing the source');
    expect(result.output).not.toContain('Building (cwd');
    expect(existsSync(join(ws.root, 'dist'))).toBe(false);
  });

  it('a failing build leaves the previous raw wheel in place and no temp files in dist/', async () => {
    const ws = workspace({ variants: ['vllm-cpu'] });
    await ws.nxOk(['run', 'vllm-cpu:build', '--outputStyle=static']);
    const before = readdirSync(join(ws.root, 'dist/raw/vllm-cpu')).sort();
    const wheel = ws.readJson<Record<string, unknown>>('packages/vllm-cpu/wheel.json');
    // Unpinned, an AVX2 build on a host that has no AVX2 at all fails in CMake, like upstream.
    ws.writeJson('packages/vllm-cpu/wheel.json', { ...wheel, pinIsa: false, env: { VLLM_CPU_DISABLE_AVX512: 'true' } });
    const noAvx2 = join(tmp, 'cpuinfo-none');
    writeFileSync(noAvx2, 'processor\t: 0\nflags\t\t: fpu sse sse2\n\n');
    const result = await ws.nx(['run', 'vllm-cpu:build', '--outputStyle=static'], { VLLM_FIXTURE_CPUINFO: noAvx2 });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/vLLM CPU backend requires AVX512, AVX2/);
    expect(readdirSync(join(ws.root, 'dist/raw')).sort()).toEqual(['vllm-cpu']);
    expect(readdirSync(join(ws.root, 'dist/raw/vllm-cpu')).sort()).toEqual(before);
  });

  it('Ctrl-C during a build stops every build process and leaves the previous raw wheel and no temp dir', async () => {
    const ws = workspace({ variants: ['vllm-cpu'] });
    await ws.nxOk(['run', 'vllm-cpu:build', '--outputStyle=static']);
    const before = readdirSync(join(ws.root, 'dist/raw/vllm-cpu')).sort();

    // A patch (through vllm.json, as a user would) makes the CMake build hang in a step ninja runs.
    const hang = hangingBuild(ws);
    // Ctrl-C is SIGINT to nx's process group.
    const nx = startNx(ws, ['run', 'vllm-cpu:build', '--outputStyle=static']);
    const exited = nx.exited;
    expect(await waitUntil(() => processesMatching(hang).length > 0, 180_000)).toBe(true);
    const hanging = processesMatching(hang);
    const buildProcesses = processesMatching(join(ws.root, 'dist/raw/.vllm-cpu.tmp-'));
    expect(buildProcesses.length).toBeGreaterThan(0); // setup.py bdist_wheel --dist-dir <temp dir>
    process.kill(-nx.pid, 'SIGINT');
    expect(await exited).not.toBe(0);

    expect(await waitUntil(() => [...hanging, ...buildProcesses].every(isGone), 15_000)).toBe(true);
    expect(readdirSync(join(ws.root, 'dist/raw')).sort()).toEqual(['vllm-cpu']);
    expect(readdirSync(join(ws.root, 'dist/raw/vllm-cpu')).sort()).toEqual(before);
  });

  it('SIGKILL mid-build: the task process stops its build when nx dies; if it died too, the next build stops the orphans (and says so)', async () => {
    const ws = workspace({ variants: ['vllm-cpu'] });
    const vllm = ws.readJson<Record<string, unknown>>('packages/vllm/vllm.json');
    const hang = hangingBuild(ws);
    const buildTree = () => [...processesMatching(hang), ...processesMatching(join(ws.root, 'dist/raw/.vllm-cpu.tmp-'))];

    // `kill -9 <nx>`: Nx's task process outlives it, sees its IPC channel close, and stops the build.
    let nx = startNx(ws, ['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(await waitUntil(() => processesMatching(hang).length > 0, 180_000)).toBe(true);
    let orphans = buildTree();
    process.kill(nx.pid, 'SIGKILL');
    await nx.exited;
    expect(await waitUntil(() => orphans.every(isGone), 15_000)).toBe(true);

    // `kill -9` of nx's whole process group (a CI runner killing the job): nx and its task process die
    // at once, and the build, in process groups of its own, goes on compiling in the worktree.
    nx = startNx(ws, ['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(await waitUntil(() => processesMatching(hang).length > 0, 180_000)).toBe(true);
    orphans = buildTree();
    process.kill(-nx.pid, 'SIGKILL');
    await nx.exited;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(orphans.filter((pid) => !isGone(pid)).length).toBeGreaterThan(0);

    ws.writeJson('packages/vllm/vllm.json', vllm); // without the hanging patch this build can finish
    const out = await ws.nxOk(['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(orphans.every(isGone)).toBe(true);
    expect(out).toMatch(/A run that was killed \(pid \d+\) left its build running in the worktree \S+src\/vllm-cpu \(process group \d+: \d+ process\(es\)\)\. Stopping it before building there\./);
    expect(readdirSync(join(ws.root, 'dist/raw/vllm-cpu')).filter((f) => f.endsWith('.whl'))).toHaveLength(1);
  });

  it('two workspaces on one machine cache building one variant at once: the second waits, each wheel is built from its own source', async () => {
    const machineCache = join(tmp, 'shared-build-cache');
    const patched = workspace({ variants: ['vllm-cpu'], machineCache });
    const plain = workspace({ variants: ['vllm-cpu'], machineCache });
    // The patch marks the kernels and makes CMake's configure step slow: the window in which a second
    // build could reset the worktree under the first.
    const slow = `sleep 2${process.pid % 10}.${n}`;
    usePatch(patched, 'marker.patch', (src) => {
      appendTo(join(src, 'CMakeLists.txt'), `execute_process(COMMAND ${slow})`);
      appendTo(join(src, 'csrc/cpu/isa_kernels.cpp'), '__attribute__((used)) static const char patched_marker[] = "PATCHED-SOURCE-MARKER";');
    });
    const first = patched.nx(['run', 'vllm-cpu:build', '--outputStyle=static']);
    expect(await waitUntil(() => processesMatching(slow).length > 0, 180_000)).toBe(true);
    const second = await plain.nx(['run', 'vllm-cpu:build', '--outputStyle=static']);
    const firstResult = await first;
    expect([firstResult.code, second.code]).toEqual([0, 0]);
    expect(wheelMember(rawWheel(patched, 'vllm-cpu'), 'vllm/_C.abi3.so').includes('PATCHED-SOURCE-MARKER')).toBe(true);
    expect(wheelMember(rawWheel(plain, 'vllm-cpu'), 'vllm/_C.abi3.so').includes('PATCHED-SOURCE-MARKER')).toBe(false);
    expect(second.output).toMatch(/Waiting for another build \(pid \d+\) to finish with the worktree \S+src\/vllm-cpu…/);
  });

  it('missing git or python3 gives a clear error', async () => {
    const ws = workspace({ variants: ['vllm-cpu'], machineCache: join(tmp, 'no-tools-machine-cache') });
    const bin = join(tmp, 'only-node');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    const noGit = await ws.nx(['run', 'vllm:checkout', '--outputStyle=static'], { PATH: bin });
    expect(noGit.code).not.toBe(0);
    expect(noGit.output).toContain('git is required but was not found on PATH');

    await ws.nxOk(['run', 'vllm:checkout', '--outputStyle=static']);
    const gitOnly = join(tmp, 'git-and-node');
    mkdirSync(gitOnly, { recursive: true });
    symlinkSync(process.execPath, join(gitOnly, 'node'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(gitOnly, 'git'));
    const noPython = await ws.nx(['run', 'torch-cpu:install', '--outputStyle=static'], { PATH: gitOnly });
    expect(noPython.code).not.toBe(0);
    expect(noPython.output).toMatch(/Python 3\.11 is required \(torch\.json "python"\) but was not found on PATH: tried python3\.11 \(not found\), python3 \(not found\)/);
  });

  it('an invalid config file is Nx\'s per-file plugin error (file, field, what is allowed); `nx graph` still shows the other projects', async () => {
    const ws = workspace();
    const wheel = ws.readJson<Record<string, unknown>>('packages/vllm-cpu-avx512/wheel.json');
    ws.writeJson('packages/vllm-cpu-avx512/wheel.json', { ...wheel, isa: 'avx1024' });
    const error = [
      'An error occurred while processing files for the nx-vllm-wheels plugin.',
      '  - packages/vllm-cpu-avx512/wheel.json:',
      '      packages/vllm-cpu-avx512/wheel.json is invalid:',
      '        - isa: must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16',
      '      wheel-index (which indexes this variant) is left out until this file is fixed.',
    ].join('\n');
    // Nx 24 stops every command that needs the project graph when a plugin reports an error…
    for (const args of [['show', 'projects'], ['run', 'vllm-cpu:wheel', '--dry-run', '--outputStyle=static']]) {
      const result = await ws.nx(args);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.output).toContain(error);
    }
    // …except `nx graph`, which shows the partial graph: every project but the broken one and the index over it.
    const graph = await ws.nx(['graph', '--file=graph.json']);
    expect(graph.code).toBe(0);
    expect(graph.output).toContain(error);
    expect(Object.keys(ws.readJson<{ graph: { nodes: object } }>('graph.json').graph.nodes).sort()).toEqual(['torch-cpu', 'vllm', 'vllm-cpu']);
  });
});
