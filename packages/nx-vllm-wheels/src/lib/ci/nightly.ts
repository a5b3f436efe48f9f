import type { CiOptions } from './options';
import {
  ACTIONS,
  CI_SECRETS,
  downloadWheelsSteps,
  expr,
  indexMembersAmong,
  indexPublishStep,
  MACHINE_CACHE,
  nightlyVariants,
  remoteCacheEnv,
  secretsRead,
  setupSteps,
  stamped,
  variantRunner,
  cpuSystemLibrariesStep,
  type CiWorkspace,
} from './workflow';
import { commented, spaced, toYaml, type YamlMap, type YamlValue } from './yaml';

const ARTIFACT_PREFIX = 'nightly-wheels-';

/** A scheduled or manual run on the main branch: the only nightly runs that write the cache and publish. */
function mainRun(options: CiOptions): string {
  return `(github.event_name == 'schedule' || github.event_name == 'workflow_dispatch') && github.ref == 'refs/heads/${options.mainBranch}'`;
}

/** `{"<source>": "packages/<source>/vllm.json", …}` in sorted order: the form the lock script compares with. */
function sourcesJson(workspace: CiWorkspace): string {
  const sorted = [...(workspace.followed ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1));
  return JSON.stringify(Object.fromEntries(sorted.map((s) => [s.name, s.config])));
}

/**
 * The script of the job that locks the followed sources once for the whole run; tests run it as it is
 * written here. It first checks that the workspace still has the followed sources and nightly variants
 * the workflow was generated for, then locks each source to the head of its branch and hands the
 * commits to the build jobs (`commits={"<source>": "<sha>"}`), so every runner builds the same commit
 * whatever is pushed meanwhile.
 */
export function lockScript(): string {
  const followed = [
    'const fs = require("fs"); const out = {};',
    'for (const d of fs.readdirSync("packages").sort()) { const f = `packages/${d}/vllm.json`;',
    'if (fs.existsSync(f) && JSON.parse(fs.readFileSync(f, "utf8")).follow === true) out[d] = f; }',
    'console.log(JSON.stringify(out))',
  ].join(' ');
  const commits = [
    'const fs = require("fs"); const out = {};',
    'for (const [s, f] of Object.entries(JSON.parse(process.env.SOURCES))) out[s] = JSON.parse(fs.readFileSync(f, "utf8")).commit;',
    'console.log("commits=" + JSON.stringify(out))',
  ].join(' ');
  return [
    'set -euo pipefail',
    `sorted() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify(JSON.parse(s).sort())))'; }`,
    `followed=$(node -e '${followed}')`,
    'if [ "$followed" != "$SOURCES" ]; then',
    `  echo "::error::This workflow was generated for the followed sources $SOURCES, the workspace has $followed: run 'npx nx g nx-vllm-wheels:ci' and commit the result."`,
    '  exit 1',
    'fi',
    `tags=$(node -p 'Object.keys(JSON.parse(process.env.SOURCES)).map((s) => "tag:source:" + s).join(",")')`,
    'variants=$(npx nx show projects --withTarget=wheel --projects="$tags" --json | sorted)',
    'if [ "$variants" != "$VARIANTS" ]; then',
    `  echo "::error::This workflow was generated for the nightly variants $VARIANTS, the workspace has $variants: run 'npx nx g nx-vllm-wheels:ci' and commit the result."`,
    '  exit 1',
    'fi',
    `npx nx run-many -t lock --projects="$(node -p 'Object.keys(JSON.parse(process.env.SOURCES)).join(",")')" --outputStyle=static`,
    `node -e '${commits}' | tee -a "$GITHUB_OUTPUT"`,
    '',
  ].join('\n');
}

function lockJob(workspace: CiWorkspace, options: CiOptions): YamlMap {
  return {
    name: 'Lock the followed sources',
    'runs-on': options.runsOn,
    'timeout-minutes': 30,
    outputs: { commits: expr('steps.lock.outputs.commits') },
    steps: [
      ...setupSteps(workspace, options, { python: false }),
      commented('Once per run: every build job locks the commit resolved here, whatever is pushed meanwhile.', {
        id: 'lock',
        name: 'Lock each followed source to the head of its branch',
        env: { SOURCES: sourcesJson(workspace), VARIANTS: JSON.stringify(nightlyVariants(workspace)) },
        run: lockScript(),
      }),
    ],
  };
}

function wheelJob(workspace: CiWorkspace, options: CiOptions): YamlMap {
  const variant = expr('matrix.variant');
  const commit = expr('fromJSON(needs.lock.outputs.commits)[matrix.source]');
  const cache = remoteCacheEnv(options, mainRun(options), `scheduled and manual runs on ${options.mainBranch}`);
  const build: YamlMap = { name: 'Build the wheel', env: { VARIANT: variant, ...(cache?.env ?? {}) }, run: 'npx nx run "$VARIANT:wheel" --outputStyle=static' };
  const cacheKey = `vllm-wheels-nightly-${expr('runner.os')}-${variant}-`;
  const include = (workspace.followed ?? []).flatMap((s) => s.variants.map((v) => ({ variant: v, source: s.name }))).sort((a, b) => (a.variant < b.variant ? -1 : 1));
  return {
    name: variant,
    needs: 'lock',
    'runs-on': variantRunner(workspace, options, nightlyVariants(workspace)),
    'timeout-minutes': options.timeoutMinutes,
    strategy: { 'fail-fast': false, matrix: { include } },
    steps: [
      ...setupSteps(workspace, options),
      cpuSystemLibrariesStep(workspace, nightlyVariants(workspace)),
      { name: 'Machine cache location', run: `echo "VLLM_WHEELS_CACHE_DIR=$HOME/.cache/vllm-wheels" >> "$GITHUB_ENV"` },
      commented('The vLLM mirror and ccache, per variant and commit: a new commit of the branch compiles only what changed.', {
        name: 'Machine cache',
        uses: ACTIONS.cache,
        with: { path: `${MACHINE_CACHE}/git\n${MACHINE_CACHE}/ccache\n`, key: `${cacheKey}${commit}`, 'restore-keys': cacheKey },
      }),
      {
        name: 'Lock the commit the lock job resolved',
        env: { SOURCE: expr('matrix.source'), COMMIT: commit },
        run: 'npx nx run "$SOURCE:lock" --commit="$COMMIT" --outputStyle=static',
      },
      commented(
        'Keyed on the commit: an unchanged branch is a remote-cache hit, built nothing, and the same wheel again.' + (cache ? `\n${cache.comment}` : ''),
        build,
      ),
      { name: 'Upload the wheel', uses: ACTIONS.upload, with: { name: `${ARTIFACT_PREFIX}${variant}`, path: `dist/wheels/${variant}`, 'if-no-files-found': 'error' } },
    ],
  };
}

function publishJob(workspace: CiWorkspace, options: CiOptions): YamlMap {
  const nightly = nightlyVariants(workspace);
  const steps: YamlValue[] = [
    ...setupSteps(workspace, options),
    ...downloadWheelsSteps(ARTIFACT_PREFIX),
    commented(
      [
        'The wheels the matrix built, not a rebuild. A wheel already on the index with the same sha256 is skipped (a rerun on',
        'an unchanged branch publishes nothing); the same file name with other bytes is refused before anything is uploaded.',
      ].join('\n'),
      {
        name: 'Publish the nightly wheels to PyPI',
        env: { PYPI_TOKEN: expr(`secrets.${CI_SECRETS.pypi}`) },
        run: `npx nx run-many -t publish --projects="${nightly.join(',')}" --excludeTaskDependencies --outputStyle=static`,
      },
    ),
  ];
  if (options.publishIndex) {
    for (const index of workspace.indexes) {
      const members = indexMembersAmong(workspace, index, nightly);
      if (!members.length) continue;
      steps.push(
        commented(
          `Only the nightly variants: the index is merged with what is published. index.json "retain" keeps the newest versions;\n--prune deletes older files one publish after the pages that listed them were replaced.`,
          indexPublishStep(index, members, true),
        ),
      );
    }
  }
  return {
    name: 'Publish',
    needs: ['lock', 'wheel'],
    if: `github.ref == 'refs/heads/${options.mainBranch}'`,
    'runs-on': options.runsOn,
    'timeout-minutes': 60,
    steps,
  };
}

function header(workspace: CiWorkspace, options: CiOptions): string {
  return [
    `Nightly: locks ${(workspace.followed ?? []).map((s) => s.name).join(', ')} to the head of the branch each follows, builds`,
    `${nightlyVariants(workspace).join(', ')} at that commit and publishes them (${options.nightlyCron}, UTC; or by hand).`,
    'Generated by `nx g nx-vllm-wheels:ci` with the main workflow; edited by hand, it is left alone (unless --force).',
    ...secretsRead(workspace, options, 'publishing'),
  ].join('\n');
}

/** The nightly workflow's text (deterministic, stamped like the main one); only for a workspace with followed sources. */
export function renderNightlyWorkflow(workspace: CiWorkspace, options: CiOptions): string {
  const ws = { ...workspace, variants: [...workspace.variants].sort(), indexes: [...workspace.indexes].sort() };
  const jobs: YamlMap = { lock: lockJob(ws, options), wheel: wheelJob(ws, options), ...(options.publish ? { publish: publishJob(ws, options) } : {}) };
  const body = toYaml(
    spaced({
      name: 'vLLM nightly wheels',
      on: { schedule: [{ cron: options.nightlyCron }], workflow_dispatch: null },
      permissions: { contents: 'read' },
      // Runs never overlap: two runs publishing one version at once would race for its file.
      concurrency: { group: expr('github.workflow'), 'cancel-in-progress': false },
      jobs: spaced(jobs),
    }),
  );
  return stamped(header(ws, options), body);
}
