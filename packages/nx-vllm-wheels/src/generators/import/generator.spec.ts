import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parseConfigText, torchConfigSchema, wheelConfigSchema } from '../../config';
import { jsonText, readBuildConfig, sourceConfig, torchConfig } from '../../lib/adoption';
import { ConfigError } from '../../lib/errors';
import { filesUnder } from '../../test-support/tree-files';
import { parseImportOptions, readBuildConfigText, writeImport } from './generator';

/** The old bash builder's build_config.json, in the shape issue 13 describes. */
const OLD_CONFIG = {
  build_config: { python_version: '3.11', max_jobs: 6, torch_index_url: 'https://download.pytorch.org/whl/cpu', cleanup: true },
  variants: {
    'vllm-cpu': { description: 'vLLM CPU (AVX2)', flags: { disable_avx512: true, enable_avx512vnni: false, enable_avx512bf16: false, enable_amxbf16: false }, platforms: ['linux/amd64'] },
    'vllm-cpu-avx512vnni': { description: 'vLLM CPU with AVX-512 VNNI', flags: { disable_avx512: false, enable_avx512vnni: true }, platforms: ['linux/amd64', 'linux/arm64'] },
    'vllm-cpu-amxbf16': { flags: { enable_avx512vnni: true, enable_avx512bf16: true, enable_amxbf16: true, enable_fp8: true }, docker_tag: 'amx' },
    'vllm-cpu-arm': { description: 'Arm', flags: {}, platforms: ['linux/arm64'] },
  },
};

const wheel = (tree: Tree, path: string) => parseConfigText(wheelConfigSchema, path, tree.read(path, 'utf8')!);

describe('the import generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    tree.write('packages/vllm/vllm.json', jsonText(sourceConfig('vllm', 'https://github.com/vllm-project/vllm.git', 'v0.16.0')));
    tree.write('old/build_config.json', JSON.stringify(OLD_CONFIG));
  });
  const run = (force = false) => {
    const options = parseImportOptions({ buildConfig: 'old/build_config.json', force });
    return writeImport(tree, options, readBuildConfig(options.buildConfig, readBuildConfigText(tree, options.buildConfig)));
  };

  it('turns each x86 variant into a nested variant with its ISA level, and build_config into torch.json', () => {
    const lines = run();
    expect(wheel(tree, 'packages/vllm/vllm-cpu/wheel.json')).toMatchObject({ isa: 'avx2', env: { VLLM_CPU_DISABLE_AVX512: 'true' }, metadata: { summary: 'vLLM CPU (AVX2)' } });
    expect(wheel(tree, 'packages/vllm/vllm-cpu-avx512vnni/wheel.json')).toMatchObject({ isa: 'avx512vnni', env: { VLLM_CPU_AVX512VNNI: '1', VLLM_CPU_AVX512BF16: '0' } });
    expect(wheel(tree, 'packages/vllm/vllm-cpu-amxbf16/wheel.json')).toMatchObject({ isa: 'amxbf16', env: { VLLM_CPU_AMXBF16: '1' } });
    expect(tree.exists('packages/vllm/vllm-cpu-arm')).toBe(false);
    expect(parseConfigText(torchConfigSchema, 'torch.json', tree.read('packages/torch-cpu/torch.json', 'utf8')!)).toMatchObject({ python: '3.11', torchIndexUrl: 'https://download.pytorch.org/whl/cpu' });
    const report = lines.slice(lines.indexOf('Not mapped from old/build_config.json:') + 1);
    expect(report).toEqual([
      '  - build_config.max_jobs (6): not written to any config. The number of compile jobs does not change the wheel, so it is not a build input (it would split the cache between machines); set MAX_JOBS=6 in the environment nx runs in (shell, CI job) instead.',
      '  - build_config.cleanup: not mapped (ignored).',
      '  - variants.vllm-cpu-avx512vnni.platforms: linux/arm64 not mapped (only x86_64 variants are built today).',
      '  - variants.vllm-cpu-amxbf16.flags.enable_fp8: not mapped (ignored); the known flags are disable_avx512, enable_avx512vnni, enable_avx512bf16, enable_amxbf16.',
      '  - variants.vllm-cpu-amxbf16.docker_tag: not mapped (ignored).',
      '  - variants.vllm-cpu-arm.platforms: linux/arm64 not mapped (only x86_64 variants are built today).',
      '  - variants.vllm-cpu-arm: not imported (no x86_64 platform).',
    ]);
    const before = filesUnder(tree);
    run();
    expect(filesUnder(tree)).toEqual(before);
  });

  it('leaves a torch.json with another python alone unless --force, and then keeps its other fields', () => {
    tree.write('packages/torch-cpu/torch.json', jsonText({ ...torchConfig('3.12'), installer: 'uv' }));
    expect(run()[0]).toBe('packages/torch-cpu/torch.json: python "3.12" (build_config: "3.11"); left as it is (--force sets build_config\'s values)');
    expect(JSON.parse(tree.read('packages/torch-cpu/torch.json', 'utf8')!).python).toBe('3.12');
    run(true);
    expect(JSON.parse(tree.read('packages/torch-cpu/torch.json', 'utf8')!)).toMatchObject({ python: '3.11', installer: 'uv' });
  });

  it('refuses what it cannot read, naming the file and every field, and a source of the other family', () => {
    const bad = JSON.stringify({ build_config: { python_version: 'three' }, variants: { 'vllm-cpu': { flags: { disable_avx512: 'yes' } }, Bad: {} } });
    expect(() => readBuildConfig('build_config.json', bad)).toThrow(ConfigError);
    expect(() => readBuildConfig('build_config.json', bad)).toThrow(
      'build_config.json is invalid:\n  - build_config.python_version: must be a Python minor version such as "3.12"\n  - variants.vllm-cpu.flags.disable_avx512: must be true or false\n  - variants.Bad: the variant name must be a lowercase distribution name (letters, digits, ".", "-", "_")',
    );
    tree.write('packages/vllm/vllm.json', jsonText(sourceConfig('vllm', 'https://github.com/vllm-project/vllm.git', 'v0.34.0')));
    expect(() => run()).toThrow(/^old\/build_config.json: 2 variant\(s\) cannot be imported, nothing was written:\n  - variants.vllm-cpu-avx512vnni \(isa avx512vnni\): --isa=avx512vnni: packages\/vllm\/vllm.json builds the unified family/);
    expect(() => readBuildConfigText(tree, 'nowhere/build_config.json')).toThrow(/^--buildConfig=nowhere\/build_config.json: no such file/);
  });
});
