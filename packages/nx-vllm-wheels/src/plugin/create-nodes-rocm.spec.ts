import { AggregateCreateNodesError, type CreateNodesResult } from '@nx/devkit';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rejection } from '../test-support/rejection';
import { tempDir } from '../test-support/temp';
import { createNodes } from './create-nodes';

const SHA = 'a'.repeat(40);
const FILES: Record<string, object> = {
  'packages/vllm/vllm.json': { repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.16.0', commit: SHA },
  'packages/torch-cpu/torch.json': { python: '3.11' },
  'packages/vllm-cpu/wheel.json': { distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx2', env: { VLLM_CPU_DISABLE_AVX512: 'true' } },
  'packages/rocm/rocm.json': { device: 'rocm', rocmVersion: '7.1', gpuArchs: ['gfx942'], python: '3.12', baseWheels: { directory: 'base-wheels/' } },
  'packages/vllm-rocm/wheel.json': { distribution: 'vllm-rocm', device: 'rocm' },
  'packages/wheel-index/index.json': { s3: { bucket: 'my-wheels' } },
};

function workspace(files: Record<string, object | string> = FILES): { root: string; files: string[] } {
  const root = tempDir('create-nodes-rocm');
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return { root, files: Object.keys(files).sort() };
}

const infer = ({ root, files }: { root: string; files: string[] }) => createNodes[1](files, {}, { nxJsonConfiguration: {}, workspaceRoot: root });
const projectsOf = (results: readonly (readonly [string, CreateNodesResult])[]) => Object.fromEntries(results.flatMap(([, r]) => Object.entries(r.projects ?? {})));

describe('createNodes: ROCm', () => {
  it('infers the ROCm environment with its base wheels and the ROCm variant, tagged device:rocm, beside the CPU pipeline', async () => {
    const projects = projectsOf(await infer(workspace()));
    expect(Object.keys(projects).sort()).toEqual(['packages/rocm', 'packages/torch-cpu', 'packages/vllm', 'packages/vllm-cpu', 'packages/vllm-rocm', 'packages/wheel-index']);
    // The CPU index does not take the ROCm variant in.
    expect(projects['packages/wheel-index'].implicitDependencies).toEqual(['vllm-cpu']);
    // Nothing of the CPU pipeline is keyed on rocm.json: a change of the GPU archs rebuilds only the ROCm projects.
    for (const cpu of ['packages/vllm-cpu', 'packages/torch-cpu', 'packages/vllm']) expect(JSON.stringify(projects[cpu].targets)).not.toContain('rocm');

    const rocm = projects['packages/rocm'];
    expect(rocm.tags).toEqual(['vllm-wheels:rocm', 'device:rocm']);
    const base = rocm.targets!['base-wheels'];
    expect(base).toEqual(
      expect.objectContaining({
        executor: 'nx-vllm-wheels:rocm-base-wheels',
        cache: true,
        outputs: ['{workspaceRoot}/dist/base-wheels/{projectName}'],
        options: { config: 'packages/rocm/rocm.json', codeFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) },
        inputs: [
          {
            json: '{workspaceRoot}/packages/rocm/rocm.json',
            fields: ['device', 'rocmVersion', 'gpuArchs', 'python', 'baseWheels.command', 'baseWheels.directory', 'baseWheels.url', 'baseWheels.distributions'],
          },
          '{projectRoot}/base-wheels/**/*.whl',
          { externalDependencies: [] },
        ],
      }),
    );

    const variant = projects['packages/vllm-rocm'];
    expect(variant.tags).toEqual(['vllm-wheels:variant', 'device:rocm', 'source:vllm']);
    expect(variant.implicitDependencies).toEqual(['vllm', 'rocm']);
    expect(variant.targets!.build).toEqual(
      expect.objectContaining({
        executor: 'nx-vllm-wheels:build-rocm',
        cache: true,
        outputs: ['{workspaceRoot}/dist/raw/{projectName}'],
        options: { config: 'packages/vllm-rocm/wheel.json', sourceConfig: 'packages/vllm/vllm.json', rocmConfig: 'packages/rocm/rocm.json', codeFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) },
        // No `checkout` before it: the build makes its commit available itself (decision 55).
        dependsOn: [{ projects: ['rocm'], target: 'base-wheels', params: 'forward' }],
      }),
    );
    // The wheel step: after the build, keyed on the build's inputs and its own fields, with the README.
    expect(variant.targets!.wheel).toEqual(
      expect.objectContaining({
        executor: 'nx-vllm-wheels:normalize-rocm',
        cache: true,
        outputs: ['{workspaceRoot}/dist/wheels/{projectName}'],
        dependsOn: [{ target: 'build', params: 'forward' }],
      }),
    );
    expect(variant.targets!.wheel.inputs).toContainEqual({ json: '{projectRoot}/wheel.json', fields: ['version', 'platformTag', 'metadata', 'systemLibraries', 'inflateLimits'] });
    expect(variant.targets!.wheel.inputs).toContainEqual({ json: '{workspaceRoot}/packages/rocm/rocm.json', fields: ['device', 'rocmVersion', 'gpuArchs', 'python'] });
    expect(variant.targets!.wheel.inputs).toContain('{projectRoot}/README.md');
    // The raw wheel and the build's record, whose base set the step pins (decision 62).
    expect(variant.targets!.wheel.inputs).toContainEqual({ dependentTasksOutputFiles: '**/*.whl' });
    expect(variant.targets!.wheel.inputs).toContainEqual({ dependentTasksOutputFiles: '**/build-info.json' });
    // The GPU archs and the ROCm version key the build (rocm.json's build fields), as the base wheels do.
    expect(variant.targets!.build.inputs).toContainEqual({ json: '{workspaceRoot}/packages/rocm/rocm.json', fields: ['device', 'rocmVersion', 'gpuArchs', 'python'] });
    expect(variant.targets!.build.inputs).toContainEqual({ dependentTasksOutputFiles: '**/*.whl' });
    // The ROCm the machine has (its version file and hipcc's HIP version) keys the build, as the compilers do.
    expect(variant.targets!.build.inputs).toContainEqual({ runtime: expect.stringContaining('.info/version') });
  });

  it('gives the ROCm variant a wheelhouse keyed on its wheel and the base wheels, their indexes and its constraints', async () => {
    const files = { ...FILES, 'packages/vllm-rocm/wheel.json': { ...FILES['packages/vllm-rocm/wheel.json'], wheelhouse: { constraints: 'constraints.txt' } } };
    const wheelhouse = projectsOf(await infer(workspace(files)))['packages/vllm-rocm'].targets!.wheelhouse;
    expect(wheelhouse).toEqual(
      expect.objectContaining({
        executor: 'nx-vllm-wheels:rocm-wheelhouse',
        cache: true,
        outputs: ['{workspaceRoot}/dist/wheelhouse/{projectName}'],
        options: { config: 'packages/vllm-rocm/wheel.json', rocmConfig: 'packages/rocm/rocm.json', codeFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) },
        dependsOn: [
          { target: 'wheel', params: 'forward' },
          { projects: ['rocm'], target: 'base-wheels', params: 'forward' },
        ],
      }),
    );
    expect(wheelhouse.inputs).toEqual(
      expect.arrayContaining([
        { json: '{projectRoot}/wheel.json', fields: ['wheelhouse'] },
        '{projectRoot}/constraints.txt',
        { json: '{workspaceRoot}/packages/rocm/rocm.json', fields: ['python', 'indexUrl', 'extraIndexUrls'] },
        { dependentTasksOutputFiles: '**/*.whl' },
      ]),
    );
  });

  it('an index.json over ROCm variants is the ROCm index: from their wheelhouses into dist/rocm-index, with publish and verify', async () => {
    const projects = projectsOf(await infer(workspace({ ...FILES, 'packages/rocm-index/index.json': { variants: ['vllm-rocm'], title: 'vLLM for ROCm' } })));
    const index = projects['packages/rocm-index'];
    expect(index.tags).toEqual(['vllm-wheels:index', 'device:rocm']);
    expect(index.implicitDependencies).toEqual(['vllm-rocm']);
    const options = { config: 'packages/rocm-index/index.json', variants: ['vllm-rocm'], rocmConfig: 'packages/rocm/rocm.json' };
    expect(index.targets!.index).toEqual(
      expect.objectContaining({
        executor: 'nx-vllm-wheels:build-index',
        cache: true,
        options: { ...options, codeFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) },
        outputs: ['{workspaceRoot}/dist/rocm-index/{projectName}'],
        dependsOn: [{ projects: ['vllm-rocm'], target: 'wheelhouse', params: 'forward' }],
      }),
    );
    expect(index.targets!.index.inputs).toContainEqual({ dependentTasksOutputFiles: '**/*.whl' });
    expect(index.targets!.publish).toEqual(expect.objectContaining({ executor: 'nx-vllm-wheels:publish-s3', cache: false, options }));
    expect(index.targets!.verify).toEqual(expect.objectContaining({ executor: 'nx-vllm-wheels:verify-index', cache: false, options }));
    // The CPU index is unchanged.
    expect(projects['packages/wheel-index'].implicitDependencies).toEqual(['vllm-cpu']);
    expect(projects['packages/wheel-index'].targets!.index.outputs).toEqual(['{workspaceRoot}/dist/index']);
  });

  it('refuses an index of CPU and ROCm variants together, naming the field', async () => {
    const e = await rejection((async () => infer(workspace({ ...FILES, 'packages/rocm-index/index.json': { variants: ['vllm-rocm', 'vllm-cpu'] } })))());
    const { errors } = e as AggregateCreateNodesError;
    expect(errors.map(([file, error]) => [file, error.message])).toContainEqual([
      'packages/rocm-index/index.json',
      expect.stringContaining('variants: "vllm-rocm" is a ROCm variant; an index holds CPU variants or ROCm variants (a ROCm index is self-contained, with its own torch), not both'),
    ]);
  });

  it("a command's base wheels are keyed on the project folder (its scripts)", async () => {
    const projects = projectsOf(await infer(workspace({ ...FILES, 'packages/rocm/rocm.json': { ...FILES['packages/rocm/rocm.json'], baseWheels: { command: ['bash', 'build.sh'] } } })));
    expect(projects['packages/rocm'].targets!['base-wheels'].inputs).toContain('{projectRoot}/**/*');
  });

  it('a broken rocm.json names its field and leaves the ROCm variant out, the CPU pipeline inferred', async () => {
    const e = await rejection((async () => infer(workspace({ ...FILES, 'packages/rocm/rocm.json': { ...FILES['packages/rocm/rocm.json'], gpuArchs: ['gfx9'] } })))());
    expect(e).toBeInstanceOf(AggregateCreateNodesError);
    const { errors, partialResults } = e as AggregateCreateNodesError;
    expect(errors.map(([file, error]) => [file, error.message])).toEqual([
      [
        'packages/rocm/rocm.json',
        'packages/rocm/rocm.json is invalid:\n  - gpuArchs[0]: must be an AMD GPU architecture such as "gfx942", "gfx90a" or "gfx1100" (LLVM processor names; features as in "gfx90a:xnack+")\n' +
          'Without a valid ROCm build environment no ROCm variant can be inferred: vllm-rocm is left out until this file is fixed.',
      ],
    ]);
    expect(Object.keys(projectsOf(partialResults as [string, CreateNodesResult][])).sort()).toEqual(['packages/torch-cpu', 'packages/vllm', 'packages/vllm-cpu', 'packages/wheel-index']);
  });

  it('a ROCm variant without rocm.json says what to add', async () => {
    const files = { ...FILES };
    delete files['packages/rocm/rocm.json'];
    const e = await rejection((async () => infer(workspace(files)))());
    const { errors } = e as AggregateCreateNodesError;
    expect(errors.map(([file, error]) => [file, error.message])).toEqual([
      ['packages/vllm-rocm/wheel.json', 'packages/vllm-rocm/wheel.json is a ROCm variant ("device": "rocm") and needs a ROCm build environment: add packages/rocm/rocm.json.'],
    ]);
  });
});
