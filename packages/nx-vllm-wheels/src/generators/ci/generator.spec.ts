import type { ProjectConfiguration, Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parse } from 'yaml';
import { ConfigError, VllmWheelsError } from '../../lib/errors';
import { ciWorkspaceFromProjects, writeCiWorkflow, writeNightlyWorkflow } from './generator';

const PATH = '.github/workflows/vllm-wheels.yml';

const project = (root: string, tags: string[], targets: string[]): ProjectConfiguration => ({
  root,
  tags,
  targets: Object.fromEntries(targets.map((t) => [t, { executor: `nx-vllm-wheels:${t}` }])),
});

function projects(variants: string[]): Record<string, ProjectConfiguration> {
  return {
    vllm: project('packages/vllm', ['vllm-wheels:source'], ['checkout', 'lock']),
    'torch-cpu': project('packages/torch-cpu', ['vllm-wheels:torch'], ['install']),
    'wheel-index': project('packages/wheel-index', ['vllm-wheels:index'], ['index', 'publish']),
    'some-app': project('apps/some-app', ['vllm-wheels:variant'], ['build']), // tagged, but no wheel target
    ...Object.fromEntries(variants.map((v) => [v, project(`packages/${v}`, ['vllm-wheels:variant', 'device:cpu'], ['build', 'wheel', 'publish'])])),
  };
}

describe('the ci generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    tree.write('packages/torch-cpu/torch.json', JSON.stringify({ python: '3.12' }));
    tree.write('packages/vllm/vllm.json', '{}');
  });
  const workspace = (variants = ['vllm-cpu-avx512', 'vllm-cpu']) => ciWorkspaceFromProjects(tree, projects(variants));

  it('reads the variants, indexes, python and cache-key files from the inferred projects', () => {
    expect(workspace()).toEqual({
      variants: ['vllm-cpu', 'vllm-cpu-avx512'],
      indexes: ['wheel-index'],
      python: '3.12',
      cacheKeyFiles: ['packages/vllm/vllm.json', 'packages/torch-cpu/torch.json'],
      npmLockfile: false,
    });
  });

  it('fans out over the variants of every source, their cache keys holding every vllm.json', () => {
    tree.write('packages/vllm-0.34/vllm.json', '{}');
    const all = {
      ...projects(['vllm-cpu']),
      'vllm-0.34': project('packages/vllm-0.34', ['vllm-wheels:source'], ['checkout', 'lock']),
      'vllm-cpu@vllm-0.34': project('packages/vllm-0.34/vllm-cpu', ['vllm-wheels:variant', 'device:cpu', 'source:vllm-0.34'], ['build', 'wheel', 'publish']),
    };
    const ws = ciWorkspaceFromProjects(tree, all);
    expect(ws.variants).toEqual(['vllm-cpu', 'vllm-cpu@vllm-0.34']);
    expect(ws.cacheKeyFiles).toEqual(['packages/vllm/vllm.json', 'packages/vllm-0.34/vllm.json', 'packages/torch-cpu/torch.json']);
    writeCiWorkflow(tree, { affected: false }, ws);
    const wheel = parse(tree.read(PATH, 'utf8')!).jobs.wheel;
    expect(wheel.strategy.matrix.variant).toEqual(['vllm-cpu', 'vllm-cpu@vllm-0.34']);
  });

  it("lists the variants whose wheel.json is aarch64, whose builds go to the aarch64 runner", () => {
    tree.write('packages/vllm-cpu/wheel.json', JSON.stringify({ distribution: 'vllm-cpu', arch: 'x86_64' }));
    tree.write('packages/vllm-cpu-aarch64/wheel.json', JSON.stringify({ distribution: 'vllm-cpu', arch: 'aarch64' }));
    const ws = workspace(['vllm-cpu', 'vllm-cpu-aarch64']);
    expect(ws.aarch64).toEqual(['vllm-cpu-aarch64']);
    writeCiWorkflow(tree, {}, ws);
    expect(parse(tree.read(PATH, 'utf8')!).jobs.wheel['runs-on']).toBe(`\${{ contains(fromJSON('["vllm-cpu-aarch64"]'), matrix.variant) && 'ubuntu-24.04-arm' || 'ubuntu-latest' }}`);
    expect(workspace(['vllm-cpu']).aarch64).toBeUndefined();
  });

  it('lists the ROCm variants (tagged device:rocm) and rocm.json\'s python; their builds go to the ROCm runners', () => {
    tree.write('packages/rocm/rocm.json', JSON.stringify({ device: 'rocm', rocmVersion: '7.0', gpuArchs: ['gfx942'], python: '3.11', baseWheels: { directory: 'wheels' } }));
    const all = {
      ...projects(['vllm-cpu']),
      rocm: project('packages/rocm', ['vllm-wheels:rocm', 'device:rocm'], ['base-wheels']),
      'vllm-rocm': project('packages/vllm-rocm', ['vllm-wheels:variant', 'device:rocm', 'source:vllm'], ['build', 'wheel']),
      'rocm-index': project('packages/rocm-index', ['vllm-wheels:index', 'device:rocm'], ['index', 'publish', 'verify']),
    };
    const ws = ciWorkspaceFromProjects(tree, all);
    // The ROCm index needs the wheelhouses, which the publish job does not have: not published by CI (yet).
    expect(ws).toMatchObject({ variants: ['vllm-cpu', 'vllm-rocm'], indexes: ['wheel-index'], rocm: ['vllm-rocm'], rocmPython: '3.11' });
    writeCiWorkflow(tree, { rocmRunsOn: 'self-hosted,mi300' }, ws);
    const wheel = parse(tree.read(PATH, 'utf8')!).jobs.wheel;
    expect(wheel['runs-on']).toBe(`\${{ contains(fromJSON('["vllm-rocm"]'), matrix.variant) && fromJSON('["self-hosted","mi300"]') || 'ubuntu-latest' }}`);
    expect(wheel.steps.find((s: { uses?: string }) => s.uses === 'actions/setup-python@v5').with['python-version']).toBe('3.11\n3.12\n');
    // A ROCm project without a wheel target is not built by CI; no ROCm variant, no ROCm runner.
    delete all['vllm-rocm'].targets!.wheel;
    expect(ciWorkspaceFromProjects(tree, all)).not.toHaveProperty('rocm');
    expect(ciWorkspaceFromProjects(tree, all)).not.toHaveProperty('rocmPython');
  });

  it('refuses a workspace without variants, saying where they come from', () => {
    expect(() => ciWorkspaceFromProjects(tree, projects([]))).toThrow(ConfigError);
    expect(() => ciWorkspaceFromProjects(tree, projects([]))).toThrow(/No variant project to build: no project is tagged "vllm-wheels:variant" with a "wheel" target/);
  });

  it('writes the workflow, and a second run with the same options changes nothing', () => {
    expect(writeCiWorkflow(tree, {}, workspace())).toEqual({ path: PATH, status: 'created' });
    const text = tree.read(PATH, 'utf8')!;
    expect(JSON.parse(parse(text).jobs.plan.steps.at(-1).env.VARIANTS)).toEqual(['vllm-cpu', 'vllm-cpu-avx512']);
    expect(writeCiWorkflow(tree, {}, workspace())).toEqual({ path: PATH, status: 'unchanged' });
    expect(tree.listChanges().map((c) => c.path)).toContain(PATH);
    expect(tree.read(PATH, 'utf8')).toBe(text);
  });

  it('updates its own untouched file when the variants or options change', () => {
    writeCiWorkflow(tree, {}, workspace());
    expect(writeCiWorkflow(tree, {}, workspace(['vllm-cpu', 'vllm-cpu-avx512', 'vllm-cpu-amxbf16']))).toEqual({ path: PATH, status: 'updated' });
    expect(tree.read(PATH, 'utf8')).toContain('vllm-cpu-amxbf16');
    expect(writeCiWorkflow(tree, { remoteCache: 'nx-cloud' }, workspace())).toMatchObject({ status: 'updated' });
  });

  it('leaves a file edited by hand (or not ours) alone unless --force, with a clear message', () => {
    writeCiWorkflow(tree, {}, workspace());
    const edited = `${tree.read(PATH, 'utf8')}# my own step\n`;
    tree.write(PATH, edited);
    const attempt = () => writeCiWorkflow(tree, {}, workspace(['vllm-cpu']));
    expect(attempt).toThrow(VllmWheelsError);
    expect(attempt).toThrow(`${PATH} was edited by hand since nx-vllm-wheels generated it; it is left as it is. Re-run with --force to replace it (your changes are lost), or with --name=<other>.yml to write a new file beside it.`);
    expect(tree.read(PATH, 'utf8')).toBe(edited);

    tree.write('.github/workflows/ci.yml', 'name: CI\non: push\n');
    expect(() => writeCiWorkflow(tree, { name: 'ci.yml' }, workspace())).toThrow('.github/workflows/ci.yml was not written by nx-vllm-wheels; it is left as it is.');

    expect(writeCiWorkflow(tree, { force: true }, workspace(['vllm-cpu']))).toEqual({ path: PATH, status: 'updated' });
    expect(tree.read(PATH, 'utf8')).not.toContain('# my own step');
  });

  it('writes under the name asked for, and refuses bad options before writing anything', () => {
    expect(writeCiWorkflow(tree, { name: 'wheels.yaml' }, workspace())).toEqual({ path: '.github/workflows/wheels.yaml', status: 'created' });
    expect(() => writeCiWorkflow(tree, { name: 'sub/x.yml' }, workspace())).toThrow('nx g nx-vllm-wheels:ci options is invalid:\n  - name: must be a file name ending in .yml or .yaml');
    expect(tree.exists('.github/workflows/sub/x.yml')).toBe(false);
  });

  describe('with a source that follows a branch', () => {
    const NIGHTLY_PATH = '.github/workflows/vllm-wheels-nightly.yml';
    const followed = () => {
      const all = projects(['vllm-cpu']);
      all['vllm-main'] = project('packages/vllm-main', ['vllm-wheels:source'], ['checkout', 'lock']);
      all['vllm-cpu-nightly@vllm-main'] = project('packages/vllm-main/vllm-cpu-nightly', ['vllm-wheels:variant', 'source:vllm-main'], ['build', 'wheel', 'publish']);
      all['vllm-cpu'].tags!.push('source:vllm');
      all['wheel-index'].targets!.index.options = { variants: ['vllm-cpu', 'vllm-cpu-nightly@vllm-main'] };
      return all;
    };
    beforeEach(() => {
      tree.write('packages/vllm-main/vllm.json', JSON.stringify({ repository: 'https://github.com/vllm-project/vllm.git', ref: 'main', follow: true }));
    });

    it('reads the followed sources (vllm.json "follow") with their variants, and the index members', () => {
      expect(ciWorkspaceFromProjects(tree, followed())).toMatchObject({
        variants: ['vllm-cpu', 'vllm-cpu-nightly@vllm-main'],
        followed: [{ name: 'vllm-main', config: 'packages/vllm-main/vllm.json', variants: ['vllm-cpu-nightly@vllm-main'] }],
        indexMembers: { 'wheel-index': ['vllm-cpu', 'vllm-cpu-nightly@vllm-main'] },
      });
      tree.write('packages/vllm-main/vllm.json', JSON.stringify({ repository: 'https://github.com/vllm-project/vllm.git', ref: 'main' }));
      expect(ciWorkspaceFromProjects(tree, followed()).followed).toBeUndefined();
    });

    it('writes the nightly workflow beside the main one; without followed sources removes its own, never an edited one', () => {
      const ws = ciWorkspaceFromProjects(tree, followed());
      expect(writeNightlyWorkflow(tree, {}, ws)).toEqual({ path: NIGHTLY_PATH, status: 'created' });
      expect(parse(tree.read(NIGHTLY_PATH, 'utf8')!).jobs.wheel.strategy.matrix.include).toEqual([{ variant: 'vllm-cpu-nightly@vllm-main', source: 'vllm-main' }]);
      expect(writeNightlyWorkflow(tree, {}, ws)).toEqual({ path: NIGHTLY_PATH, status: 'unchanged' });
      expect(writeNightlyWorkflow(tree, { nightlyCron: '0 5 * * *' }, ws)).toEqual({ path: NIGHTLY_PATH, status: 'updated' });

      const none = workspace();
      expect(writeNightlyWorkflow(tree, {}, none)).toEqual({ path: NIGHTLY_PATH, status: 'deleted' });
      expect(tree.exists(NIGHTLY_PATH)).toBe(false);
      expect(writeNightlyWorkflow(tree, {}, none)).toBeUndefined();

      writeNightlyWorkflow(tree, {}, ws);
      tree.write(NIGHTLY_PATH, `${tree.read(NIGHTLY_PATH, 'utf8')}# mine\n`);
      expect(writeNightlyWorkflow(tree, {}, none)).toBeUndefined();
      expect(tree.read(NIGHTLY_PATH, 'utf8')).toContain('# mine');
      expect(() => writeNightlyWorkflow(tree, {}, ws)).toThrow(
        `${NIGHTLY_PATH} was edited by hand since nx-vllm-wheels generated it; it is left as it is. Re-run with --force to replace it (your changes are lost), or with --nightlyName=<other>.yml to write a new file beside it.`,
      );
    });
  });
});
