import type { CreateNodes, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { z } from 'zod';
import type { TorchConfig, VllmConfig } from '../config';
import { INDEX_CONTENT_FIELDS, ROCM_BASE_WHEELS_FIELDS, ROCM_BUILD_FIELDS, ROCM_WHEEL_BUILD_FIELDS, ROCM_WHEEL_NORMALIZE_FIELDS, TORCH_BUILD_FIELDS, TORCH_INDEX_FIELDS, TORCH_RESOLUTION_FIELDS, VLLM_BUILD_FIELDS, WHEEL_BUILD_FIELDS, WHEEL_NORMALIZE_FIELDS, WHEELHOUSE_FIELDS, ROCM_RESOLUTION_FIELDS } from '../config';
import { parseConfigText } from '../config/parse';
import { ConfigError } from '../lib/errors';
import { redactUrlCredentials } from '../lib/process/redact';
import { configLocation } from '../config/layout';
import { CONFIG_GLOB, readWorkspaceConfigs, type Found, type WorkspaceConfigs } from './config-files';
import { pluginFingerprint } from './fingerprint';
import { resolutionRuntimeInput } from './resolution-input';
import { rocmRuntimeInput, toolchainRuntimeInput } from './toolchain';

const PLUGIN = 'nx-vllm-wheels';

/** Options in nx.json's plugin entry. */
export const pluginOptionsSchema = z.strictObject({}).default({});
export type VllmWheelsPluginOptions = z.input<typeof pluginOptionsSchema>;

type Input = NonNullable<TargetConfiguration['inputs']>[number];

/** What every target is, as data: executor, cacheability, outputs, description. */
const TARGETS = {
  checkout: { executor: 'clone-cache', cache: false, description: 'Make the locked vLLM commit available in the machine-wide mirror (a no-op when it is there); each build does this itself, this target prepares a machine ahead.' },
  lock: { executor: 'lock', cache: false, description: 'Resolve "ref" to a commit and write it to vllm.json ("commit"), like a lockfile update.' },
  install: { executor: 'install-torch-cpu', cache: false, description: 'Create (or reuse) the build venv: CPU torch as the source pins it, plus its build tools.' },
  build: { executor: 'build-wheel', cache: true, output: 'dist/raw', description: "Build vLLM for this variant's ISA flags into a raw wheel." },
  dev: {
    executor: 'dev-presets',
    cache: false,
    description: "Write CMakeUserPresets.json into this variant's kept worktree (Ninja, ccache, the build venv, its flags): cmake --preset rebuilds only what you edit.",
  },
  wheel: { executor: 'normalize', cache: true, output: 'dist/wheels', description: "Turn the raw wheel into this variant's distribution: renamed, versioned, with its metadata." },
  wheelhouse: {
    executor: 'wheelhouse',
    cache: true,
    output: 'dist/wheelhouse',
    description: "The wheel and its whole dependency closure (CPU torch installed first), installable offline with pip --no-index --find-links, with a manifest and a Dockerfile.",
  },
  'publish-wheel': { executor: 'publish-pypi', cache: false, description: "Upload this variant's wheel to a PyPI-compatible repository (PyPI by default); an existing file is a no-op." },
  index: { executor: 'build-index', cache: true, description: "A static PEP 503/691/658 simple repository over every variant's wheel, in dist/index." },
  'publish-index': { executor: 'publish-s3', cache: false, description: 'Upload dist/index to S3 (files, then project pages, then the root), merged with what is already published.' },
  'base-wheels': {
    executor: 'rocm-base-wheels',
    cache: true,
    output: 'dist/base-wheels',
    description: "The ROCm base wheels (torch, triton, torchvision, amdsmi) from rocm.json's command, directory or URL, their +git local versions stripped.",
  },
  'build-rocm': { executor: 'build-rocm', cache: true, output: 'dist/raw', description: 'Build vLLM for ROCm (VLLM_TARGET_DEVICE=rocm, PYTORCH_ROCM_ARCH) into a raw wheel; needs ROCm and hipcc.' },
  'wheel-rocm': {
    executor: 'normalize-rocm',
    cache: true,
    output: 'dist/wheels',
    description: "Turn the raw ROCm wheel into this variant's distribution: renamed, local version stripped, honest manylinux tag (ROCm's and torch's libraries excluded).",
  },
  'rocm-wheelhouse': {
    executor: 'rocm-wheelhouse',
    cache: true,
    output: 'dist/wheelhouse',
    description: 'The wheel, the ROCm base wheels (installed first, never fetched from an index) and the closure of its requirements as wheels, with a manifest of their sha256s and a Dockerfile.',
  },
  verify: { executor: 'verify-index', cache: false, description: 'Install every variant from the published index with pip and with uv in fresh venvs, and import it.' },
} as const;

type TargetName = keyof typeof TARGETS;

function target(name: TargetName, options: Record<string, unknown>, extra: Partial<TargetConfiguration> = {}): TargetConfiguration {
  const t: { executor: string; cache: boolean; description: string; output?: string } = TARGETS[name];
  return {
    executor: `${PLUGIN}:${t.executor}`,
    cache: t.cache,
    options,
    ...(t.output ? { outputs: [`{workspaceRoot}/${t.output}/{projectName}`] } : {}),
    ...extra,
    metadata: { description: t.description, technologies: ['vllm', 'python'] },
  };
}

function buildInputs(source: Found<VllmConfig>, torch: Found<TorchConfig>, variantEnv: Readonly<Record<string, string>>): Input[] {
  return [
    { json: '{projectRoot}/wheel.json', fields: [...WHEEL_BUILD_FIELDS] },
    { json: `{workspaceRoot}/${source.file}`, fields: [...VLLM_BUILD_FIELDS] },
    ...source.config.patches.map((p) => `{workspaceRoot}/${source.root}/${p}`),
    { json: `{workspaceRoot}/${torch.file}`, fields: [...TORCH_BUILD_FIELDS] },
    { runtime: toolchainRuntimeInput(torch.config.python, variantEnv) },
    // The executor's own npm package is covered by codeFingerprint; without this Nx would hash every npm dependency.
    { externalDependencies: [] },
  ];
}

function projectsFor(configs: WorkspaceConfigs): CreateNodesResult['projects'] {
  const projects: NonNullable<CreateNodesResult['projects']> = {};
  const { sources, torch } = configs;
  for (const source of sources) {
    const options = { config: source.file };
    projects[source.root] = {
      name: source.name,
      tags: ['vllm-wheels:source'],
      targets: { checkout: target('checkout', options), lock: target('lock', options) },
      // Project metadata is kept in Nx's graph cache and shown by `nx show project`: no URL credentials.
      metadata: { description: `vLLM source ${redactUrlCredentials(source.config.repository)} at ${source.config.ref} (${source.config.commit?.slice(0, 12) ?? `not locked: nx run ${source.name}:lock`})` },
    };
  }
  if (torch && sources.length) {
    const names = sources.map((s) => s.name);
    projects[torch.root] = {
      name: torch.name,
      tags: ['vllm-wheels:torch'],
      implicitDependencies: names,
      targets: {
        // The build makes its own venv (the same call); this target prepares a machine for every source at once.
        install: target('install', { config: torch.file, sourceConfigs: sources.map((s) => s.file) }, { dependsOn: [{ projects: names, target: 'checkout', params: 'forward' }] }),
      },
      metadata: { description: `CPU torch build environment (python ${torch.config.python}, index ${redactUrlCredentials(torch.config.torchIndexUrl)})` },
    };
  }
  for (const variant of configs.variants) {
    const source = sources.find((s) => s.name === variant.source);
    if (!source || !torch) continue;
    const inputs = buildInputs(source, torch, variant.config.env);
    const options = { config: variant.file, sourceConfig: source.file, torchConfig: torch.file };
    projects[variant.root] = {
      name: variant.name,
      tags: ['vllm-wheels:variant', `device:${variant.config.device}`, `isa:${variant.config.isa}`, `source:${source.name}`],
      implicitDependencies: [source.name, torch.name],
      targets: {
        // No dependsOn: the build fetches its commit and makes its venv itself when it runs (checkout and
        // install stay targets of their own), so a run whose builds are all cache hits starts no task
        // process. The implicitDependencies above keep the edges for `nx graph` and `nx affected` (decision 55).
        build: target('build', { ...options, codeFingerprint: pluginFingerprint('build') }, { inputs }),
        // Uncached: it writes into the machine cache's worktree, outside the workspace. No dependsOn: it
        // makes the commit available itself (vllm:checkout's call), as a forwarded --force would be refused there.
        dev: target('dev', options),
        wheel: target('wheel', { config: variant.file, codeFingerprint: pluginFingerprint('wheel') }, {
          inputs: [...inputs, { json: '{projectRoot}/wheel.json', fields: [...WHEEL_NORMALIZE_FIELDS] }, '{projectRoot}/README.md'],
          // `params: forward` passes --dry-run on, so a dry run previews the whole chain.
          dependsOn: [{ target: 'build', params: 'forward' }],
        }),
        wheelhouse: target('wheelhouse', { config: variant.file, torchConfig: torch.file, codeFingerprint: pluginFingerprint('wheelhouse') }, {
          inputs: [
            { json: '{projectRoot}/wheel.json', fields: [...WHEELHOUSE_FIELDS] },
            ...(variant.config.wheelhouse.constraints ? [`{projectRoot}/${variant.config.wheelhouse.constraints}`] : []),
            { json: `{workspaceRoot}/${torch.file}`, fields: [...TORCH_RESOLUTION_FIELDS] },
            { runtime: resolutionRuntimeInput(torch.config.python) },
            // The wheel's bytes; what the indexes serve is not an input (decisions.md 51: constraints pin it).
            { dependentTasksOutputFiles: '**/*.whl' },
            { externalDependencies: [] },
          ],
          dependsOn: [{ target: 'wheel', params: 'forward' }],
        }),
        // Publishing uploads what `wheel` built and has no dependsOn (see decisions.md, "Publish targets
        // publish what is built"): a forwarded command line (--repository-url) would be refused by the
        // build chain and re-key its caches, and `--dry-run` turns Nx's cache off, so a dependency would
        // make a dry run rebuild every wheel for real.
        publish: target('publish-wheel', { config: variant.file }),
      },
      metadata: {
        description: `${variant.config.distribution}: vLLM ${source.config.ref} (${source.name}) for ${variant.config.device} ${variant.config.arch}, isa ${variant.config.isa}`,
      },
    };
  }
  Object.assign(projects, rocmProjects(configs));
  for (const index of configs.indexes) {
    const members = indexMembers(index, configs);
    const rocmIndex = rocmIndexProject(index, members, configs, projects);
    if (rocmIndex) {
      projects[index.root] = rocmIndex;
      continue;
    }
    // An index over a variant that is not inferred would depend on a project that does not exist.
    if (!members.every((m) => configs.variants.some((v) => v.name === m && projects[v.root]))) continue;
    projects[index.root] = {
      name: index.name,
      tags: ['vllm-wheels:index'],
      implicitDependencies: members,
      targets: {
        index: target(
          'index',
          { config: index.file, variants: members, ...(torch && { torchConfig: torch.file }), codeFingerprint: pluginFingerprint('index') },
          {
            inputs: [
              { json: `{projectRoot}/index.json`, fields: [...INDEX_CONTENT_FIELDS] },
              // The landing page's install commands name the CPU torch index.
              ...(torch ? [{ json: `{workspaceRoot}/${torch.file}`, fields: [...TORCH_INDEX_FIELDS] }] : []),
              ...index.config.extraWheels.map((p) => `{projectRoot}/${p}`),
              { dependentTasksOutputFiles: '**/*.whl' },
              { externalDependencies: [] },
            ],
            outputs: ['{workspaceRoot}/dist/index'],
            // An empty project list makes Nx warn that the pattern matches nothing.
            ...(members.length ? { dependsOn: [{ projects: members, target: 'wheel', params: 'forward' }] } : {}),
          },
        ),
        // Uploads dist/index as `index` built it; no dependsOn, for the reasons given at the variants' publish.
        publish: target('publish-index', { config: index.file, ...(torch && { torchConfig: torch.file }) }),
        verify: target('verify', { config: index.file, variants: members, ...(torch && { torchConfig: torch.file }) }),
      },
      metadata: { description: `PEP 503 index over ${members.join(', ') || 'no variants'}` },
    };
  }
  return projects;
}

/**
 * The ROCm build environment (rocm.json: its base wheels) and the ROCm variants built against it, tagged
 * `device:rocm`. The GPU architectures and the ROCm version are build inputs of both (the variant's build
 * also has the base wheels' files, through dependentTasksOutputFiles).
 */
function rocmProjects(configs: WorkspaceConfigs): NonNullable<CreateNodesResult['projects']> {
  const projects: NonNullable<CreateNodesResult['projects']> = {};
  const { rocm, sources } = configs;
  if (!rocm) return projects;
  const rocmInput: Input = { json: `{workspaceRoot}/${rocm.file}`, fields: [...ROCM_BUILD_FIELDS] };
  const baseWheelsInput: Input = { json: `{workspaceRoot}/${rocm.file}`, fields: [...ROCM_BASE_WHEELS_FIELDS] };
  const { baseWheels } = rocm.config;
  // What the base wheels are made from: a directory's wheels, a command's project folder (its scripts); a URL is named in rocm.json.
  const baseInputs: Input[] = baseWheels.directory !== undefined ? [`{projectRoot}/${baseWheels.directory.replace(/\/+$/, '')}/**/*.whl`] : baseWheels.command ? ['{projectRoot}/**/*'] : [];
  projects[rocm.root] = {
    name: rocm.name,
    tags: ['vllm-wheels:rocm', 'device:rocm'],
    targets: {
      'base-wheels': target('base-wheels', { config: rocm.file, codeFingerprint: pluginFingerprint('rocm-base-wheels') }, { inputs: [baseWheelsInput, ...baseInputs, { externalDependencies: [] }] }),
    },
    metadata: { description: `ROCm ${rocm.config.rocmVersion} build environment (${rocm.config.gpuArchs.join(', ')}, python ${rocm.config.python}) and its base wheels` },
  };
  for (const variant of configs.rocmVariants) {
    const source = sources.find((s) => s.name === variant.source);
    if (!source) continue;
    const buildInputs: Input[] = [
      { json: '{projectRoot}/wheel.json', fields: [...ROCM_WHEEL_BUILD_FIELDS] },
      { json: `{workspaceRoot}/${source.file}`, fields: [...VLLM_BUILD_FIELDS] },
      ...source.config.patches.map((p) => `{workspaceRoot}/${source.root}/${p}`),
      rocmInput,
      { runtime: rocmRuntimeInput(rocm.config.python, variant.config.env) },
      { externalDependencies: [] },
    ];
    projects[variant.root] = {
      name: variant.name,
      tags: ['vllm-wheels:variant', 'device:rocm', `source:${source.name}`],
      implicitDependencies: [source.name, rocm.name],
      targets: {
        build: target('build-rocm', { config: variant.file, sourceConfig: source.file, rocmConfig: rocm.file, codeFingerprint: pluginFingerprint('rocm-build') }, {
          // The base wheels' bytes; the build makes its commit available itself (no `checkout` before it, decision 55).
          inputs: [...buildInputs, { dependentTasksOutputFiles: '**/*.whl' }],
          dependsOn: [{ projects: [rocm.name], target: 'base-wheels', params: 'forward' }],
        }),
        wheel: target('wheel-rocm', { config: variant.file, codeFingerprint: pluginFingerprint('rocm-wheel') }, {
          // What the step reads of the build's output: the raw wheel, and build-info.json, whose base set it pins
          // (decision 62): a build against other base wheels may leave a byte-identical raw wheel.
          inputs: [
            ...buildInputs,
            { json: '{projectRoot}/wheel.json', fields: [...ROCM_WHEEL_NORMALIZE_FIELDS] },
            '{projectRoot}/README.md',
            { dependentTasksOutputFiles: '**/*.whl' },
            { dependentTasksOutputFiles: '**/build-info.json' },
          ],
          dependsOn: [{ target: 'build', params: 'forward' }],
        }),
        // Keyed on the wheel's bytes (its Requires-Dist) and the base wheels' (decision 60).
        wheelhouse: target('rocm-wheelhouse', { config: variant.file, rocmConfig: rocm.file, codeFingerprint: pluginFingerprint('rocm-wheelhouse') }, {
          inputs: [
            { json: '{projectRoot}/wheel.json', fields: [...WHEELHOUSE_FIELDS] },
            ...(variant.config.wheelhouse.constraints ? [`{projectRoot}/${variant.config.wheelhouse.constraints}`] : []),
            { json: `{workspaceRoot}/${rocm.file}`, fields: [...ROCM_RESOLUTION_FIELDS] },
            { runtime: resolutionRuntimeInput(rocm.config.python) },
            { dependentTasksOutputFiles: '**/*.whl' },
            { externalDependencies: [] },
          ],
          dependsOn: [
            { target: 'wheel', params: 'forward' },
            { projects: [rocm.name], target: 'base-wheels', params: 'forward' },
          ],
        }),
      },
      metadata: { description: `${variant.config.distribution}: vLLM ${source.config.ref} (${source.name}) for ROCm ${rocm.config.rocmVersion} (${rocm.config.gpuArchs.join(', ')})` },
    };
  }
  return projects;
}

/**
 * An index.json whose variants are all ROCm variants is the ROCm index: made from their wheelhouses
 * (base wheels, dependencies, vLLM) into dist/rocm-index/<project>, self-contained (decision 60).
 */
function rocmIndexProject(
  index: WorkspaceConfigs['indexes'][number],
  members: readonly string[],
  configs: WorkspaceConfigs,
  projects: NonNullable<CreateNodesResult['projects']>,
): NonNullable<CreateNodesResult['projects']>[string] | undefined {
  const { rocm } = configs;
  if (!rocm || !members.length || !members.every((m) => configs.rocmVariants.some((v) => v.name === m && projects[v.root]))) return undefined;
  const options = { config: index.file, variants: [...members], rocmConfig: rocm.file };
  return {
    name: index.name,
    tags: ['vllm-wheels:index', 'device:rocm'],
    implicitDependencies: [...members],
    targets: {
      index: target(
        'index',
        { ...options, codeFingerprint: pluginFingerprint('index') },
        {
          inputs: [
            { json: `{projectRoot}/index.json`, fields: [...INDEX_CONTENT_FIELDS] },
            ...index.config.extraWheels.map((p) => `{projectRoot}/${p}`),
            // Every wheelhouse's wheels: base, dependencies and vLLM.
            { dependentTasksOutputFiles: '**/*.whl' },
            { externalDependencies: [] },
          ],
          outputs: ['{workspaceRoot}/dist/rocm-index/{projectName}'],
          dependsOn: [{ projects: [...members], target: 'wheelhouse', params: 'forward' }],
        },
      ),
      publish: target('publish-index', options),
      verify: target('verify', options),
    },
    metadata: { description: `Self-contained PEP 503 index over ${members.join(', ')}: vLLM for ROCm, its base wheels and dependencies` },
  };
}

function indexMembers(index: WorkspaceConfigs['indexes'][number], configs: WorkspaceConfigs): string[] {
  return index.config.variants ?? configs.variantNames;
}

/**
 * What a broken config file takes with it: the projects of valid files that cannot be inferred
 * without it, in words (empty when none).
 */
function leftOutBecauseOf(file: string, configs: WorkspaceConfigs, projects: NonNullable<CreateNodesResult['projects']>): string {
  const { kind, name } = configLocation(file);
  const missing = (found: { root: string }) => !projects[found.root];
  const torch = kind === 'vllm' && configs.torch && missing(configs.torch) ? [configs.torch.name] : [];
  const variants = configs.variants.filter((v) => missing(v) && ((kind === 'vllm' && v.source === name) || kind === 'torch')).map((v) => v.name);
  const indexes = configs.indexes
    .filter((i) => missing(i) && (kind === 'wheel' ? indexMembers(i, configs).includes(name) : kind !== 'index' && kind !== 'rocm'))
    .map((i) => i.name);
  const rocmVariants = configs.rocmVariants.filter((v) => missing(v) && ((kind === 'vllm' && v.source === name) || kind === 'rocm')).map((v) => v.name);
  const names = [...torch, ...variants, ...rocmVariants, ...indexes];
  if (!names.length) return '';
  const list = names.join(', ');
  if (kind === 'vllm') return `Without a valid vLLM source nothing can be inferred that builds from it: ${list} ${names.length > 1 ? 'are' : 'is'} left out until this file is fixed.`;
  if (kind === 'rocm') return `Without a valid ROCm build environment no ROCm variant can be inferred: ${list} ${names.length > 1 ? 'are' : 'is'} left out until this file is fixed.`;
  if (kind === 'torch') return `Without a valid build environment no variant can be inferred: ${list} ${names.length > 1 ? 'are' : 'is'} left out until this file is fixed.`;
  return `${list} (which ${names.length > 1 ? 'index' : 'indexes'} this variant) ${names.length > 1 ? 'are' : 'is'} left out until this file is fixed.`;
}

/**
 * Inference: config files -> projects and targets. Pure (no git, clock, network or env reads) and
 * cheap (a handful of small JSON files), so it needs no cache of its own. A broken config file is
 * reported through Nx's AggregateCreateNodesError, one error per file (naming the file, the fields,
 * and what it leaves out), with the projects of every other file as partial results.
 */
export const createNodes: CreateNodes<VllmWheelsPluginOptions> = [
  CONFIG_GLOB,
  (configFiles, options, context) => {
    parseConfigText(pluginOptionsSchema, 'nx.json (plugin "nx-vllm-wheels" options)', JSON.stringify(options ?? {}));
    const { configs, problems } = readWorkspaceConfigs(configFiles, context.workspaceRoot);
    const projects = projectsFor(configs) ?? {};
    const results: [string, CreateNodesResult][] = [];
    const errors: [string, Error][] = [];
    // One result per config file; the projects are attributed to the file that defines them.
    for (const file of configFiles) {
      const messages = problems.get(file);
      if (messages) {
        const leftOut = leftOutBecauseOf(file, configs, projects);
        errors.push([file, new ConfigError([...messages, ...(leftOut ? [leftOut] : [])].join('\n'))]);
      } else {
        const root = file.slice(0, file.lastIndexOf('/'));
        results.push([file, { projects: projects[root] ? { [root]: projects[root] } : {} }]);
      }
    }
    if (errors.length) {
      // Loaded only here: @nx/devkit's entry point costs a quarter of the plugin's load time, which every
      // nx command waits for (decision 55), and inference needs nothing else from it.
      const { AggregateCreateNodesError } = require('@nx/devkit') as typeof import('@nx/devkit');
      throw new AggregateCreateNodesError(errors, results);
    }
    return results;
  },
];

export const createNodesV2 = createNodes;
