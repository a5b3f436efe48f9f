import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { createVllmRepo } from '../../../../../tools/fixtures/index.js';
import { parseConfigText, wheelConfigSchema } from '../../config';
import { familyFromMirror, jsonText, sourceConfig } from '../../lib/adoption';
import { ConfigError } from '../../lib/errors';
import { silentLogger } from '../../lib/log';
import { tempDir } from '../../test-support/temp';
import { filesUnder } from '../../test-support/tree-files';
import { parseVariantOptions, writeVariant } from './generator';

const addSource = (tree: Tree, name: string, ref: string, commit?: string) =>
  tree.write(`packages/${name}/vllm.json`, jsonText(sourceConfig(name, 'https://github.com/vllm-project/vllm.git', ref, commit)));
const wheel = (tree: Tree, path: string) => parseConfigText(wheelConfigSchema, path, tree.read(path, 'utf8')!);

describe('the variant generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  it('nests an ISA variant in the only source, with the flags its family reads (by the release tag)', () => {
    addSource(tree, 'vllm', 'v0.16.0');
    const lines = writeVariant(tree, parseVariantOptions({ isa: 'avx512bf16' }));
    expect(wheel(tree, 'packages/vllm/vllm-cpu-avx512bf16/wheel.json')).toMatchObject({
      distribution: 'vllm-cpu-avx512bf16',
      arch: 'x86_64',
      isa: 'avx512bf16',
      env: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '1', VLLM_CPU_AVX512BF16: '1', VLLM_CPU_AMXBF16: '0' },
    });
    expect(wheel(tree, 'packages/vllm/vllm-cpu-avx512bf16/wheel.json').source).toBeUndefined();
    expect(tree.read('packages/vllm/vllm-cpu-avx512bf16/README.md', 'utf8')).toMatch(/^# vllm-cpu-avx512bf16\n/);
    expect(lines).toEqual([
      'Family isa-variants (from packages/vllm/vllm.json "ref" v0.16.0 (vLLM >= 0.17 is unified)).',
      'packages/vllm/vllm-cpu-avx512bf16/wheel.json: created',
      'packages/vllm/vllm-cpu-avx512bf16/README.md: created',
      'Project vllm-cpu-avx512bf16@vllm: nx run vllm-cpu-avx512bf16@vllm:wheel',
    ]);
    const before = filesUnder(tree);
    expect(writeVariant(tree, parseVariantOptions({ isa: 'avx512bf16' }))).toContain('packages/vllm/vllm-cpu-avx512bf16/wheel.json: up to date');
    expect(filesUnder(tree)).toEqual(before);
  });

  it('a unified source gets the unified vllm-cpu with no flags, and refuses another ISA level', () => {
    addSource(tree, 'vllm-0.34', 'v0.34.0');
    addSource(tree, 'vllm', 'v0.16.0');
    writeVariant(tree, parseVariantOptions({ isa: 'avx2', source: 'vllm-0.34' }));
    expect(wheel(tree, 'packages/vllm-0.34/vllm-cpu/wheel.json')).toMatchObject({ distribution: 'vllm-cpu', isa: 'avx2', env: {} });
    expect(() => writeVariant(tree, parseVariantOptions({ isa: 'avx512', source: 'vllm-0.34' }))).toThrow(/^--isa=avx512: packages\/vllm-0.34\/vllm.json builds the unified family/);
    expect(() => writeVariant(tree, parseVariantOptions({ isa: 'avx2' }))).toThrow('Pass --source=<name>: the sources are vllm, vllm-0.34.');
    expect(() => writeVariant(tree, parseVariantOptions({ isa: 'avx2', source: 'vllm-9' }))).toThrow('--source=vllm-9: there is no packages/vllm-9/vllm.json; the sources are vllm, vllm-0.34.');
  });

  it('an aarch64 variant is vllm-cpu in its own <distribution>-aarch64 folder, with no x86 switches, and takes only aarch64 levels', () => {
    addSource(tree, 'vllm-0.34', 'v0.34.0');
    writeVariant(tree, parseVariantOptions({ isa: 'avx2' }));
    const lines = writeVariant(tree, parseVariantOptions({ isa: 'i8mm', arch: 'aarch64' }));
    expect(lines).toContain('Project vllm-cpu-aarch64@vllm-0.34: nx run vllm-cpu-aarch64@vllm-0.34:wheel');
    expect(wheel(tree, 'packages/vllm-0.34/vllm-cpu-aarch64/wheel.json')).toMatchObject({ distribution: 'vllm-cpu', arch: 'aarch64', isa: 'i8mm', env: {}, platformTag: 'auto' });
    expect(wheel(tree, 'packages/vllm-0.34/vllm-cpu/wheel.json')).toMatchObject({ distribution: 'vllm-cpu', arch: 'x86_64' });
    expect(tree.read('packages/vllm-0.34/vllm-cpu-aarch64/README.md', 'utf8')).toContain('vLLM built for Arm64 CPUs: built for CPUs with I8MM');
    expect(() => parseVariantOptions({ isa: 'avx512', arch: 'aarch64' })).toThrow(/isa: must be one of armv8, dotprod, bf16, i8mm, sve, sve2 \(arch "aarch64"\)/);
    expect(() => parseVariantOptions({ isa: 'sve', arch: 'x86_64' })).toThrow(/isa: must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16 \(arch "x86_64"\)/);
  });

  it('a flat variant in a workspace with several sources names its source', () => {
    addSource(tree, 'vllm', 'v0.16.0');
    addSource(tree, 'vllm-0.34', 'v0.34.0');
    expect(writeVariant(tree, parseVariantOptions({ isa: 'amxbf16', source: 'vllm', flat: true }))).toContain('Project vllm-cpu-amxbf16: nx run vllm-cpu-amxbf16:wheel');
    expect(wheel(tree, 'packages/vllm-cpu-amxbf16/wheel.json')).toMatchObject({ source: 'vllm', env: { VLLM_CPU_AMXBF16: '1' } });
  });

  it('a branch source needs --family; --family may not contradict the commit', () => {
    addSource(tree, 'vllm-main', 'main');
    expect(() => writeVariant(tree, parseVariantOptions({ isa: 'avx2' }))).toThrow(ConfigError);
    expect(() => writeVariant(tree, parseVariantOptions({ isa: 'avx2' }))).toThrow(/Cannot tell the build family of packages\/vllm-main\/vllm.json \("ref" main is not a release tag/);
    writeVariant(tree, parseVariantOptions({ isa: 'avx2', family: 'unified', name: 'vllm-cpu-nightly' }));
    expect(wheel(tree, 'packages/vllm-main/vllm-cpu-nightly/wheel.json')).toMatchObject({ distribution: 'vllm-cpu-nightly', env: {} });
    expect(() => writeVariant(tree, parseVariantOptions({ isa: 'avx2', family: 'isa-variants' }), 'unified')).toThrow(
      '--family=isa-variants contradicts the locked commit of packages/vllm-main/vllm.json: its cmake/cpu_extension.cmake builds the "unified" family. Leave --family out.',
    );
    expect(() => parseVariantOptions({ isa: 'sse4' } as never)).toThrow('isa: must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16');
  });

  it("reads the family from the locked commit's cmake in a real mirror, and only when the mirror has the commit", async () => {
    const repo = createVllmRepo(join(tempDir('variant-src'), 'vllm'));
    const mirror = join(tempDir('variant-cache'), 'vllm.git');
    const env = { PATH: process.env.PATH, HOME: tempDir('variant-home') };
    const clone = spawnSync('git', ['clone', '--quiet', '--bare', repo.url, mirror], { env, encoding: 'utf8', timeout: 60_000 });
    expect(clone.stderr).toBe('');
    expect(await familyFromMirror(mirror, repo.tags['v0.16.0'], env, silentLogger)).toBe('isa-variants');
    expect(await familyFromMirror(mirror, repo.tags['v0.34.0'], env, silentLogger)).toBe('unified');
    expect(await familyFromMirror(mirror, 'f'.repeat(40), env, silentLogger)).toBeUndefined();
    expect(await familyFromMirror(join(mirror, 'absent'), repo.tags['v0.16.0'], env, silentLogger)).toBeUndefined();
    // A source whose ref says 0.16 but whose locked commit is unified: the commit wins.
    addSource(tree, 'vllm', 'v0.16.0', repo.tags['v0.34.0']);
    expect(writeVariant(tree, parseVariantOptions({ isa: 'avx2' }), 'unified')[0]).toBe("Family unified (from the locked commit's cmake/cpu_extension.cmake).");
  });
});
