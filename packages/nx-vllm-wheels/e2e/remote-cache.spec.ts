/**
 * No (commit, flags, toolchain) is built twice across machines: two clones of a workspace, each with its
 * own Nx cache and machine cache, share wheels through the plugin's self-hosted cache server; and
 * `nx affected` picks exactly the variants a commit touches.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { startCliServer, type CliServer } from './support/cache-server';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { cleanEnv, createTestWorkspace, wheelHashes, taskOutcomes, type TestWorkspace } from './support/workspace';

const VARIANTS = ['vllm-cpu', 'vllm-cpu-avx512'] as const;
const RW = 'remote-cache-e2e-read-write-token-01';

const wheels = (ws: TestWorkspace) => wheelHashes(ws, VARIANTS);

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...cleanEnv(), GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });

describe('sharing builds between machines', () => {
  let fixture: SharedFixture;
  let tmp: string;
  let server: CliServer;

  beforeAll(async () => {
    assertPluginBuilt();
    tmp = tempDir('remote');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    server = await startCliServer(['--port', '0', '--store', join(tmp, 'store')], { ...cleanEnv(), VLLM_WHEELS_CACHE_READ_WRITE_TOKENS: RW });
  });
  afterAll(() => server?.stop('SIGTERM'));

  it('clone B takes every variant from clone A through the cache server: no compiler runs, byte-identical wheels', async () => {
    const remote = { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: RW };
    const a = createTestWorkspace({ fixture, root: join(tmp, 'machine-a', 'ws'), machineCache: join(tmp, 'machine-a', 'cache'), variants: VARIANTS });
    const b = createTestWorkspace({ fixture, root: join(tmp, 'machine-b', 'somewhere', 'else'), machineCache: join(tmp, 'machine-b', 'cache'), variants: VARIANTS });
    await a.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static'], remote);
    expect(a.takeCompilerCalls().length).toBeGreaterThan(0);

    const out = await b.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static'], remote);
    expect(out.match(/\[remote cache\]/g)?.length).toBe(VARIANTS.length * 2);
    expect(taskOutcomes(out).cached).toEqual(VARIANTS.flatMap((v) => [`${v}:build`, `${v}:wheel`]).sort());
    expect(b.takeCompilerCalls()).toEqual([]);
    expect(wheels(b)).toEqual(wheels(a));
    expect(server.stdout()).not.toContain(RW);
  });

  it('`nx affected -t wheel` lists the variant a commit changes, and all of them after a new locked commit', async () => {
    const ws = createTestWorkspace({ fixture, root: join(tmp, 'affected'), machineCache: join(tmp, 'affected-cache'), variants: VARIANTS });
    git(ws.root, 'init', '-q', '-b', 'main');
    git(ws.root, 'add', '-A');
    git(ws.root, 'commit', '-qm', 'workspace');
    const affected = async () => JSON.parse(await ws.nxOk(['show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD', '-t', 'wheel', '--json'])).sort();

    const wheel = ws.readJson<{ env: Record<string, string> }>('packages/vllm-cpu-avx512/wheel.json');
    ws.writeJson('packages/vllm-cpu-avx512/wheel.json', { ...wheel, env: { ...wheel.env, CMAKE_BUILD_TYPE: 'RelWithDebInfo' } });
    git(ws.root, 'commit', '-qam', 'one variant');
    expect(await affected()).toEqual(['vllm-cpu-avx512']);

    const vllm = ws.readJson<Record<string, string>>('packages/vllm/vllm.json');
    ws.writeJson('packages/vllm/vllm.json', { ...vllm, ref: 'v0.16.1', commit: fixture.repo.tags['v0.16.1'] });
    git(ws.root, 'commit', '-qam', 'bump vLLM');
    expect(await affected()).toEqual([...VARIANTS].sort());
  });
});
