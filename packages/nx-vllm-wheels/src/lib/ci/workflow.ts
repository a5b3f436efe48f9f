import { createHash } from 'node:crypto';
import type { CiOptions } from './options';
import { commented, spaced, toYaml, yamlComment, type YamlMap, type YamlValue } from './yaml';

/** The tag inference gives every variant project (see src/plugin/create-nodes.ts). */
export const VARIANT_TAG = 'vllm-wheels:variant';

/** Repository secrets the workflow reads; it never holds a value, only `${{ secrets.NAME }}`. */
export const CI_SECRETS = {
  /** Self-hosted cache token that may write: used only on pushes to the main branch. */
  cacheReadWrite: 'NX_REMOTE_CACHE_READ_WRITE_TOKEN',
  /** Self-hosted cache token that may only read: pull requests, other branches, tags. */
  cacheReadOnly: 'NX_REMOTE_CACHE_READ_ONLY_TOKEN',
  nxCloudReadWrite: 'NX_CLOUD_ACCESS_TOKEN',
  nxCloudReadOnly: 'NX_CLOUD_READ_ONLY_ACCESS_TOKEN',
  pypi: 'PYPI_TOKEN',
  awsAccessKeyId: 'AWS_ACCESS_KEY_ID',
  awsSecretAccessKey: 'AWS_SECRET_ACCESS_KEY',
} as const;

/** Repository variables (not secret) the workflow reads. */
export const CI_VARIABLES = { cacheServer: 'NX_SELF_HOSTED_REMOTE_CACHE_SERVER' } as const;

/** A source with `"follow": true` (its vllm.json) and its variants: what the nightly workflow locks and builds. */
export interface FollowedSource {
  name: string;
  /** Its vllm.json, relative to the workspace root. */
  config: string;
  variants: readonly string[];
}

/** What the workflow is generated from: the workspace's inferred projects. */
export interface CiWorkspace {
  /** Variant project names (each has a `wheel` and a `publish` target). */
  variants: readonly string[];
  /** Index projects (each has `index` and `publish` targets). */
  indexes: readonly string[];
  /** Python minor version of the build environment (torch.json). */
  python: string;
  /** Workspace files that key the machine cache between runs (vllm.json, torch.json). */
  cacheKeyFiles: readonly string[];
  /** Whether the workspace has a package-lock.json (setup-node caches npm's downloads with it). */
  npmLockfile: boolean;
  /** Sources that follow a branch: their variants are built and published by the nightly workflow only. */
  followed?: readonly FollowedSource[];
  /** Each index's member variants (default: every variant). */
  indexMembers?: Readonly<Record<string, readonly string[]>>;
  /** The variants whose wheel.json says "arch": "aarch64": their builds run on the aarch64 runner. */
  aarch64?: readonly string[];
  /** The ROCm variants (tagged device:rocm): their builds run on the self-hosted ROCm runners. */
  rocm?: readonly string[];
  /** rocm.json's python, when it is not `python`: set up beside it (the ROCm build's venv uses it). */
  rocmPython?: string;
}

/**
 * The runner of a job per matrix variant: `runsOn`, `runsOnAarch64` for the aarch64 variants and the
 * `rocmRunsOn` labels for the ROCm variants among `variants` (vLLM's CPU build compiles for the machine it
 * runs on; a ROCm build needs ROCm, hipcc and the GPU toolchain of a self-hosted runner). A plain value when
 * every variant has the same runner.
 */
export function variantRunner(workspace: CiWorkspace, options: CiOptions, variants: readonly string[]): YamlValue {
  const among = (list: readonly string[] | undefined) => (list ?? []).filter((v) => variants.includes(v)).sort();
  const arm = among(workspace.aarch64);
  const rocm = among(workspace.rocm);
  if (rocm.length && rocm.length === variants.length) return [...options.rocmRunsOn];
  let runner = `'${options.runsOn}'`;
  if (arm.length) runner = `${inMatrix(arm)} && '${options.runsOnAarch64}' || ${runner}`;
  // fromJSON of a list is truthy: `a && [labels] || b` picks the labels.
  if (rocm.length) runner = `${inMatrix(rocm)} && fromJSON('${JSON.stringify(options.rocmRunsOn)}') || ${arm.length ? `(${runner})` : runner}`;
  return arm.length || rocm.length ? expr(runner) : options.runsOn;
}

const inMatrix = (variants: readonly string[]) => `contains(fromJSON('${JSON.stringify(variants)}'), matrix.variant)`;

/**
 * The step that installs the CPU build's system libraries with apt: not on the ROCm runners (self-hosted,
 * provisioned with ROCm; sudo and apt are not theirs to assume).
 */
export function cpuSystemLibrariesStep(workspace: CiWorkspace, variants: readonly string[]): YamlMap {
  const rocm = (workspace.rocm ?? []).filter((v) => variants.includes(v)).sort();
  return {
    name: "System libraries vLLM's CPU build links",
    ...(rocm.length ? { if: `!${inMatrix(rocm)}` } : {}),
    run: 'sudo apt-get update && sudo apt-get install -y --no-install-recommends libnuma-dev',
  };
}

/** The variants of the followed sources, sorted. */
export function nightlyVariants(workspace: CiWorkspace): string[] {
  return (workspace.followed ?? []).flatMap((s) => s.variants).sort();
}

/** An index's members among `variants` (the index's own list, or every variant). */
export function indexMembersAmong(workspace: CiWorkspace, index: string, variants: readonly string[]): string[] {
  const members = workspace.indexMembers?.[index] ?? workspace.variants;
  return members.filter((m) => variants.includes(m)).sort();
}

export const ACTIONS = {
  checkout: 'actions/checkout@v4',
  setupNode: 'actions/setup-node@v4',
  setupPython: 'actions/setup-python@v5',
  cache: 'actions/cache@v4',
  upload: 'actions/upload-artifact@v4',
  download: 'actions/download-artifact@v4',
} as const;

const STAMP = /^# nx-vllm-wheels ci sha256:([0-9a-f]{64})\n/m;
const ARTIFACT_PREFIX = 'wheels-';
export const MACHINE_CACHE = '~/.cache/vllm-wheels';

export const expr = (e: string) => `\${{ ${e} }}`;
export const secret = (name: string) => `secrets.${name}`;

/** True on a push to the main branch: the only runs trusted to write to the shared cache. */
function mainPush(options: CiOptions): string {
  return `github.event_name == 'push' && github.ref == 'refs/heads/${options.mainBranch}'`;
}

/**
 * The remote cache's environment for the step that builds; empty when there is none. `trusted` is the
 * condition for the read-write token (`trustedRuns` says it in words).
 */
export function remoteCacheEnv(
  options: CiOptions,
  trusted = mainPush(options),
  trustedRuns = `pushes to ${options.mainBranch}`,
): { env: Record<string, string>; comment: string } | undefined {
  if (options.remoteCache === 'none') return undefined;
  if (options.remoteCache === 'nx-cloud') {
    return {
      comment: `Nx Cloud: the read-write token only on ${trustedRuns}, the read-only one everywhere else.`,
      env: { NX_CLOUD_ACCESS_TOKEN: expr(`${trusted} && ${secret(CI_SECRETS.nxCloudReadWrite)} || ${secret(CI_SECRETS.nxCloudReadOnly)}`) },
    };
  }
  const token = `${trusted} && ${secret(CI_SECRETS.cacheReadWrite)} || ${secret(CI_SECRETS.cacheReadOnly)}`;
  return {
    comment: [
      `Self-hosted remote cache: the read-write token only on ${trustedRuns}, the read-only one`,
      'everywhere else (an untrusted branch cannot poison what trusted builds read). Without a token (a fork',
      "has no secrets) the server is left unset: Nx would stop at the server's 401, so the build runs uncached.",
    ].join('\n'),
    env: {
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: expr(`(${token}) != '' && vars.${CI_VARIABLES.cacheServer} || ''`),
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: expr(token),
    },
  };
}

export function setupSteps(workspace: CiWorkspace, options: CiOptions, { python = true, checkout = {} }: { python?: boolean; checkout?: YamlMap } = {}): YamlValue[] {
  return [
    { uses: ACTIONS.checkout, ...(Object.keys(checkout).length ? { with: checkout } : {}) },
    { uses: ACTIONS.setupNode, with: { 'node-version': options.nodeVersion, ...(workspace.npmLockfile && options.installCommand.startsWith('npm ') ? { cache: 'npm' } : {}) } },
    ...(python ? [{ uses: ACTIONS.setupPython, with: { 'python-version': pythonVersions(workspace, options) } }] : []),
    { name: 'Install dependencies', run: options.installCommand },
  ];
}

/** setup-python's versions: the build environment's, and rocm.json's beside it (the last one listed is the default `python`). */
function pythonVersions(workspace: CiWorkspace, options: CiOptions): string {
  const python = options.python ?? workspace.python;
  return workspace.rocm?.length && workspace.rocmPython && workspace.rocmPython !== python ? `${workspace.rocmPython}\n${python}\n` : python;
}

/** The script of the job that decides the matrix; tests run it as it is written here. */
export function planScript(): string {
  return [
    'set -euo pipefail',
    `sorted() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify(JSON.parse(s).sort())))'; }`,
    `all=$(npx nx show projects --withTarget=wheel --projects="tag:${VARIANT_TAG}" --json | sorted)`,
    'if [ "$all" != "$VARIANTS" ]; then',
    `  echo "::error::This workflow was generated for the variants $VARIANTS, the workspace has $all: run 'npx nx g nx-vllm-wheels:ci' and commit the result."`,
    '  exit 1',
    'fi',
    'if [ "$GITHUB_EVENT_NAME" = pull_request ]; then',
    `  variants=$(npx nx show projects --affected --base="$BASE_SHA" --head=HEAD --withTarget=wheel --projects="tag:${VARIANT_TAG}" --json | sorted)`,
    'else',
    '  variants=$all',
    'fi',
    'echo "Variants to build: $variants"',
    'echo "variants=$variants" >> "$GITHUB_OUTPUT"',
    '',
  ].join('\n');
}

function planJob(workspace: CiWorkspace, options: CiOptions): YamlMap {
  return {
    name: 'Variants to build',
    'runs-on': options.runsOn,
    'timeout-minutes': 30,
    outputs: { variants: expr('steps.plan.outputs.variants') },
    steps: [
      ...setupSteps(workspace, options, { python: false, checkout: { 'fetch-depth': 0 } }),
      commented(
        'Pull requests build the variants the change affects; every other run builds them all.',
        {
          id: 'plan',
          name: 'List the variants',
          env: { VARIANTS: JSON.stringify([...workspace.variants]), BASE_SHA: expr('github.event.pull_request.base.sha') },
          run: planScript(),
        },
      ),
    ],
  };
}

function wheelJob(workspace: CiWorkspace, options: CiOptions): YamlMap {
  const cache = remoteCacheEnv(options);
  const variant = expr('matrix.variant');
  const cacheKey = `vllm-wheels-${expr('runner.os')}-${variant}-`;
  const build: YamlMap = {
    name: 'Build the wheel',
    env: { VARIANT: variant, ...(cache?.env ?? {}) },
    run: 'npx nx run "$VARIANT:wheel" --outputStyle=static',
  };
  return {
    name: variant,
    ...(options.affected ? { needs: 'plan', if: "needs.plan.outputs.variants != '[]'" } : {}),
    'runs-on': variantRunner(workspace, options, workspace.variants),
    'timeout-minutes': options.timeoutMinutes,
    strategy: {
      'fail-fast': false,
      matrix: { variant: options.affected ? expr('fromJSON(needs.plan.outputs.variants)') : [...workspace.variants] },
    },
    steps: [
      ...setupSteps(workspace, options),
      cpuSystemLibrariesStep(workspace, workspace.variants),
      { name: 'Machine cache location', run: `echo "VLLM_WHEELS_CACHE_DIR=$HOME/.cache/vllm-wheels" >> "$GITHUB_ENV"` },
      commented('The vLLM mirror and ccache, per variant: a cache miss rebuilds only what changed.', {
        name: 'Machine cache',
        uses: ACTIONS.cache,
        with: {
          path: `${MACHINE_CACHE}/git\n${MACHINE_CACHE}/ccache\n`,
          key: `${cacheKey}${expr(`hashFiles(${workspace.cacheKeyFiles.map((f) => `'${f}'`).join(', ')})`)}`,
          'restore-keys': cacheKey,
        },
      }),
      cache ? commented(cache.comment, build) : build,
      {
        name: 'Upload the wheel',
        uses: ACTIONS.upload,
        with: { name: `${ARTIFACT_PREFIX}${variant}`, path: `dist/wheels/${variant}`, 'if-no-files-found': 'error' },
      },
    ],
  };
}

/** Builds `index` over `members` (default: its own) from dist/wheels as the artifacts left it, and publishes it (merged with S3). */
export function indexPublishStep(index: string, members: readonly string[] | undefined, prune: boolean): YamlMap {
  return {
    name: `Build and publish ${index} (S3)`,
    env: { AWS_ACCESS_KEY_ID: expr(secret(CI_SECRETS.awsAccessKeyId)), AWS_SECRET_ACCESS_KEY: expr(secret(CI_SECRETS.awsSecretAccessKey)) },
    run: [
      `npx nx run ${index}:index${members ? ` --variants=${members.join(',')}` : ''} --excludeTaskDependencies --skipNxCache --outputStyle=static`,
      `npx nx run ${index}:publish${prune ? ' --prune' : ''} --excludeTaskDependencies --outputStyle=static`,
      '',
    ].join('\n'),
  };
}

/** Downloads the artifacts named `<prefix><variant>` into dist/wheels/<variant>, where each variant's wheel target leaves it. */
export function downloadWheelsSteps(prefix: string): YamlValue[] {
  return [
    { name: 'Download the wheels', uses: ACTIONS.download, with: { pattern: `${prefix}*`, path: 'dist/artifacts' } },
    {
      name: "Put each variant's wheel where its wheel target leaves it",
      run: ['mkdir -p dist/wheels', `for dir in dist/artifacts/${prefix}*; do mv "$dir" "dist/wheels/\${dir#dist/artifacts/${prefix}}"; done`, 'ls -R dist/wheels', ''].join('\n'),
    },
  ];
}

function publishJob(workspace: CiWorkspace, options: CiOptions): YamlMap {
  const nightly = nightlyVariants(workspace);
  const steps: YamlValue[] = [
    ...setupSteps(workspace, options),
    ...downloadWheelsSteps(ARTIFACT_PREFIX),
    commented(
      nightly.length
        ? 'The wheels the matrix built and uploaded, not a rebuild: --excludeTaskDependencies. The variants of followed sources\nare published by the nightly workflow only, at the commit it locks.'
        : 'The wheels the matrix built and uploaded, not a rebuild: --excludeTaskDependencies.',
      {
        name: 'Publish the wheels to PyPI',
        env: { PYPI_TOKEN: expr(secret(CI_SECRETS.pypi)) },
        run: `npx nx run-many -t publish --projects="tag:${VARIANT_TAG}"${nightly.length ? ` --exclude="${nightly.join(',')}"` : ''} --excludeTaskDependencies --outputStyle=static`,
      },
    ),
  ];
  if (options.publishIndex) {
    for (const index of workspace.indexes) {
      const released = workspace.variants.filter((v) => !nightly.includes(v));
      const members = indexMembersAmong(workspace, index, released);
      const allMembers = indexMembersAmong(workspace, index, workspace.variants);
      if (nightly.length && !members.length) continue; // only nightlies: the nightly workflow publishes it
      steps.push(indexPublishStep(index, members.length === allMembers.length ? undefined : members, false));
    }
  }
  return {
    name: 'Publish',
    needs: 'wheel',
    if: "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')",
    'runs-on': options.runsOn,
    'timeout-minutes': 60,
    steps,
  };
}

/** The header's "Reads:" lines: each secret and variable a workflow reads, and what for. */
export function secretsRead(workspace: CiWorkspace, options: CiOptions, publishing: string): string[] {
  const reads =
    options.remoteCache === 'self-hosted'
      ? [`${CI_SECRETS.cacheReadWrite}, ${CI_SECRETS.cacheReadOnly} (secrets) and ${CI_VARIABLES.cacheServer} (variable): the remote cache`]
      : options.remoteCache === 'nx-cloud'
        ? [`${CI_SECRETS.nxCloudReadWrite}, ${CI_SECRETS.nxCloudReadOnly} (secrets): Nx Cloud`]
        : [];
  if (options.publish) reads.push(`${CI_SECRETS.pypi} (secret): ${publishing}`);
  if (options.publish && options.publishIndex && workspace.indexes.length) reads.push(`${CI_SECRETS.awsAccessKeyId}, ${CI_SECRETS.awsSecretAccessKey} (secrets): the index on S3`);
  return reads.length ? ['Reads:', ...reads.map((r) => `  ${r}`)] : [];
}

function header(workspace: CiWorkspace, options: CiOptions): string {
  const nightly = nightlyVariants(workspace);
  const arm = (workspace.aarch64 ?? []).filter((v) => workspace.variants.includes(v)).sort();
  const rocm = (workspace.rocm ?? []).filter((v) => workspace.variants.includes(v)).sort();
  return [
    'Builds every vLLM wheel variant of this workspace, one runner per variant.',
    ...(arm.length ? [`${arm.join(', ')} (aarch64) build on ${options.runsOnAarch64}: vLLM's CPU build compiles for the machine it runs on.`] : []),
    ...(rocm.length ? [`${rocm.join(', ')} (ROCm) build on self-hosted runners labelled [${options.rocmRunsOn.join(', ')}]: they need ROCm and hipcc.`] : []),
    ...(nightly.length && options.publish ? [`${nightly.join(', ')} (followed sources) are published by ${options.nightlyName} only.`] : []),
    'Generated by `nx g nx-vllm-wheels:ci`: re-run it after adding or removing a variant. It refuses to',
    'overwrite this file once edited by hand (unless --force), so edits stay yours.',
    ...secretsRead(workspace, options, 'publishing on v* tags'),
  ].join('\n');
}

/** The workflow's text, deterministic for the same workspace and options, stamped with its own hash. */
export function renderWorkflow(workspace: CiWorkspace, options: CiOptions): string {
  const variants = [...workspace.variants].sort();
  const ws = { ...workspace, variants, indexes: [...workspace.indexes].sort() };
  const push: YamlMap = { branches: [options.mainBranch], ...(options.publish ? { tags: ['v*'] } : {}) };
  const jobs: YamlMap = {
    ...(options.affected ? { plan: planJob(ws, options) } : {}),
    wheel: wheelJob(ws, options),
    ...(options.publish ? { publish: publishJob(ws, options) } : {}),
  };
  const body = toYaml(
    spaced({
      name: 'vLLM wheels',
      on: { push, pull_request: null, workflow_dispatch: null },
      permissions: { contents: 'read' },
      concurrency: { group: `${expr('github.workflow')}-${expr('github.ref')}`, 'cancel-in-progress': expr("github.event_name == 'pull_request'") },
      jobs: spaced(jobs),
    }),
  );
  return stamped(header(ws, options), body);
}

/** A generated file: the header comment, the stamp (a hash of everything else), the body. */
export function stamped(headerText: string, body: string): string {
  const head = yamlComment(headerText);
  return `${head}${stampLine(head + body)}${body}`;
}

const stampLine = (unstamped: string) => `# nx-vllm-wheels ci sha256:${sha256(unstamped)}\n`;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * What an existing workflow file is: one this generator wrote and nobody edited since (its stamp
 * matches its body), one it wrote that was edited, or someone else's file.
 */
export function workflowOrigin(text: string): 'generated' | 'edited' | 'foreign' {
  const stamp = STAMP.exec(text);
  if (!stamp) return 'foreign';
  // The stamp hashes the whole file without its own line: any edit, comments included, is seen.
  const unstamped = text.slice(0, stamp.index) + text.slice(stamp.index + stamp[0].length);
  return stampLine(unstamped) === stamp[0] ? 'generated' : 'edited';
}
