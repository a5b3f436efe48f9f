import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfigText } from '../../config';
import { actionlint } from '../../test-support/actionlint';
import { evaluateTemplate, type Context } from '../../test-support/gh-expression';
import { tempDir } from '../../test-support/temp';
import { renderNightlyWorkflow } from './nightly';
import { ciOptionsSchema, type CiOptionsInput } from './options';
import { CI_SECRETS, renderWorkflow, workflowOrigin, type CiWorkspace } from './workflow';

const NIGHTLY = 'vllm-cpu-nightly@vllm-main';
const WORKSPACE: CiWorkspace = {
  variants: ['vllm-cpu', NIGHTLY, 'vllm-cpu@vllm-0.34'],
  indexes: ['wheel-index'],
  python: '3.11',
  cacheKeyFiles: ['packages/vllm/vllm.json', 'packages/vllm-main/vllm.json', 'packages/torch-cpu/torch.json'],
  npmLockfile: true,
  followed: [{ name: 'vllm-main', config: 'packages/vllm-main/vllm.json', variants: [NIGHTLY] }],
  indexMembers: { 'wheel-index': ['vllm-cpu', NIGHTLY, 'vllm-cpu@vllm-0.34'] },
};

const options = (o: CiOptionsInput = {}) => ciOptionsSchema.parse(o);
const render = (o: CiOptionsInput = {}, workspace: CiWorkspace = WORKSPACE) => renderNightlyWorkflow(workspace, options(o));

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  strategy?: { matrix: { include: { variant: string; source: string }[] } };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency: Record<string, unknown>;
  jobs: Record<string, Job>;
}
const read = (text: string) => parse(text) as Workflow;
const step = (job: Job, name: string) => {
  const found = job.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
};
const ALL_SECRETS: Record<string, string> = Object.fromEntries(Object.values(CI_SECRETS).map((s) => [s, `value-of-${s}`]));
const context = (event: string, ref: string): Context => ({ github: { event_name: event, ref }, secrets: ALL_SECRETS, vars: { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: 'https://cache.example' } });

describe('renderNightlyWorkflow', () => {
  it('runs on the cron schedule (and by hand), never two at once: lock once, build each nightly variant at that commit, publish', () => {
    const wf = read(render({ nightlyCron: '30 2 * * 1-5' }));
    expect(wf.on).toEqual({ schedule: [{ cron: '30 2 * * 1-5' }], workflow_dispatch: null });
    expect(read(render()).on.schedule).toEqual([{ cron: '0 3 * * *' }]);
    expect(wf.permissions).toEqual({ contents: 'read' });
    expect(wf.concurrency).toEqual({ group: '${{ github.workflow }}', 'cancel-in-progress': false });
    expect(Object.keys(wf.jobs)).toEqual(['lock', 'wheel', 'publish']);

    const lock = step(wf.jobs.lock, 'Lock each followed source to the head of its branch');
    expect(lock.env).toEqual({ SOURCES: '{"vllm-main":"packages/vllm-main/vllm.json"}', VARIANTS: JSON.stringify([NIGHTLY]) });
    expect(wf.jobs.lock.outputs).toEqual({ commits: '${{ steps.lock.outputs.commits }}' });

    const wheel = wf.jobs.wheel;
    expect(wheel.needs).toBe('lock');
    expect(wheel.strategy?.matrix.include).toEqual([{ variant: NIGHTLY, source: 'vllm-main' }]);
    const names = wheel.steps.map((s) => s.name);
    // Every runner locks the one commit the lock job resolved before it builds.
    expect(names.indexOf('Lock the commit the lock job resolved')).toBeLessThan(names.indexOf('Build the wheel'));
    expect(step(wheel, 'Lock the commit the lock job resolved')).toEqual({
      name: 'Lock the commit the lock job resolved',
      env: { SOURCE: '${{ matrix.source }}', COMMIT: '${{ fromJSON(needs.lock.outputs.commits)[matrix.source] }}' },
      run: 'npx nx run "$SOURCE:lock" --commit="$COMMIT" --outputStyle=static',
    });
    expect(step(wheel, 'Machine cache').with?.key).toBe('vllm-wheels-nightly-${{ runner.os }}-${{ matrix.variant }}-${{ fromJSON(needs.lock.outputs.commits)[matrix.source] }}');
    expect(step(wheel, 'Build the wheel').run).toBe('npx nx run "$VARIANT:wheel" --outputStyle=static');
    expect(step(wheel, 'Upload the wheel').with).toEqual({ name: 'nightly-wheels-${{ matrix.variant }}', path: 'dist/wheels/${{ matrix.variant }}', 'if-no-files-found': 'error' });
  });

  it('builds an aarch64 nightly variant on the aarch64 runner, the other jobs on runsOn', () => {
    const ARM = 'vllm-cpu-nightly-aarch64@vllm-main';
    const arm: CiWorkspace = {
      ...WORKSPACE,
      variants: [...WORKSPACE.variants, ARM],
      followed: [{ name: 'vllm-main', config: 'packages/vllm-main/vllm.json', variants: [NIGHTLY, ARM] }],
      aarch64: [ARM, 'vllm-cpu-aarch64@vllm-0.34'], // the second is no nightly: not in this workflow
    };
    const wf = read(render({ runsOnAarch64: 'arm-big' }, arm));
    const runsOn = (wf.jobs.wheel as unknown as Record<string, string>)['runs-on'];
    expect(runsOn).toBe(`\${{ contains(fromJSON('["${ARM}"]'), matrix.variant) && 'arm-big' || 'ubuntu-latest' }}`);
    expect(evaluateTemplate(runsOn, { matrix: { variant: ARM } })).toBe('arm-big');
    expect(evaluateTemplate(runsOn, { matrix: { variant: NIGHTLY } })).toBe('ubuntu-latest');
    expect((wf.jobs.lock as unknown as Record<string, string>)['runs-on']).toBe('ubuntu-latest');
    expect((wf.jobs.publish as unknown as Record<string, string>)['runs-on']).toBe('ubuntu-latest');
    expect((read(render()).jobs.wheel as unknown as Record<string, string>)['runs-on']).toBe('ubuntu-latest');
  });

  it('writes the remote cache only on scheduled or manual runs of the main branch', () => {
    const env = step(read(render({ mainBranch: 'trunk' })).jobs.wheel, 'Build the wheel').env!;
    const token = (ctx: Context) => evaluateTemplate(env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN, ctx);
    expect(token(context('schedule', 'refs/heads/trunk'))).toBe(`value-of-${CI_SECRETS.cacheReadWrite}`);
    expect(token(context('workflow_dispatch', 'refs/heads/trunk'))).toBe(`value-of-${CI_SECRETS.cacheReadWrite}`);
    expect(token(context('workflow_dispatch', 'refs/heads/feature'))).toBe(`value-of-${CI_SECRETS.cacheReadOnly}`);
    expect(token(context('pull_request', 'refs/heads/trunk'))).toBe(`value-of-${CI_SECRETS.cacheReadOnly}`);
    const cloud = step(read(render({ remoteCache: 'nx-cloud' })).jobs.wheel, 'Build the wheel').env!;
    expect(evaluateTemplate(cloud.NX_CLOUD_ACCESS_TOKEN, context('schedule', 'refs/heads/main'))).toBe(`value-of-${CI_SECRETS.nxCloudReadWrite}`);
    expect(step(read(render({ remoteCache: 'none' })).jobs.wheel, 'Build the wheel').env).toEqual({ VARIANT: '${{ matrix.variant }}' });
  });

  it('publishes from the main branch only: the nightly variants to PyPI, and the index over them with --prune', () => {
    const publish = read(render()).jobs.publish;
    expect(publish.needs).toEqual(['lock', 'wheel']);
    const runs = (ref: string) => evaluateTemplate(`\${{ ${publish.if} }}`, context('schedule', ref));
    expect(runs('refs/heads/main')).toBe(true);
    expect(runs('refs/heads/feature')).toBe(false);
    expect(step(publish, 'Download the wheels').with).toEqual({ pattern: 'nightly-wheels-*', path: 'dist/artifacts' });
    expect(step(publish, 'Publish the nightly wheels to PyPI')).toEqual({
      name: 'Publish the nightly wheels to PyPI',
      env: { PYPI_TOKEN: '${{ secrets.PYPI_TOKEN }}' },
      run: `npx nx run-many -t publish --projects="${NIGHTLY}" --excludeTaskDependencies --outputStyle=static`,
    });
    expect(step(publish, 'Build and publish wheel-index (S3)').run).toBe(
      `npx nx run wheel-index:index --variants=${NIGHTLY} --excludeTaskDependencies --skipNxCache --outputStyle=static\nnpx nx run wheel-index:publish --prune --excludeTaskDependencies --outputStyle=static\n`,
    );
    // An index that does not list a nightly variant is not the nightly's to publish.
    const elsewhere = read(render({}, { ...WORKSPACE, indexMembers: { 'wheel-index': ['vllm-cpu'] } })).jobs.publish;
    expect(elsewhere.steps.map((s) => s.name)).not.toContain('Build and publish wheel-index (S3)');
    expect(read(render({ publishIndex: false })).jobs.publish.steps.map((s) => s.name)).not.toContain('Build and publish wheel-index (S3)');
    expect(read(render({ publish: false })).jobs.publish).toBeUndefined();
  });

  it('takes secrets only in the env of the steps that need them, as ${{ secrets.X }}', () => {
    for (const o of [{}, { remoteCache: 'nx-cloud' as const }]) {
      const text = render(o);
      for (const job of Object.values(read(text).jobs)) {
        expect(JSON.stringify({ ...job, steps: undefined })).not.toContain('secrets.');
        for (const s of job.steps) {
          expect(s.run ?? '').not.toMatch(/secrets\.|\$\{?(PYPI_TOKEN|AWS_SECRET_ACCESS_KEY|NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN|NX_CLOUD_ACCESS_TOKEN)/);
          expect(JSON.stringify(s.with ?? {})).not.toContain('secrets.');
          for (const value of Object.values(s.env ?? {})) if (value.includes('secrets.')) expect(value).toMatch(/^\$\{\{ [^}]*\}\}$/);
        }
      }
    }
  });

  it('is deterministic and stamped like the main workflow', () => {
    const text = render();
    expect(render({}, { ...WORKSPACE, variants: [...WORKSPACE.variants].reverse() })).toBe(text);
    expect(workflowOrigin(text)).toBe('generated');
    expect(workflowOrigin(text.replace("cron: '0 3 * * *'", "cron: '0 4 * * *'").replace('cron: 0 3 * * *', 'cron: 0 4 * * *'))).toBe('edited');
  });

  it('refuses a bad schedule or a name taken by the main workflow, naming the option', () => {
    const parseOptions = (o: unknown) => parseConfigText(ciOptionsSchema, 'options', JSON.stringify(o));
    expect(() => parseOptions({ nightlyCron: 'daily' })).toThrow('nightlyCron: must be a cron schedule of five fields (minute hour day month weekday, UTC), e.g. "0 3 * * *"');
    expect(() => parseOptions({ nightlyCron: '0 3 * *' })).toThrow('nightlyCron: must be a cron schedule of five fields');
    expect(() => parseOptions({ nightlyName: 'vllm-wheels.yml' })).toThrow('nightlyName: must differ from name: the nightly workflow is a file of its own');
    expect(() => parseOptions({ nightlyName: '../x.yml' })).toThrow('nightlyName: must be a file name ending in .yml or .yaml');
  });
});

describe('the main workflow beside a nightly one', () => {
  it('publishes on v* tags every variant but the nightly ones, and indexes only those', () => {
    const wf = parse(renderWorkflow(WORKSPACE, options())) as Workflow;
    const publish = wf.jobs.publish;
    expect(step(publish, 'Publish the wheels to PyPI').run).toBe(
      `npx nx run-many -t publish --projects="tag:vllm-wheels:variant" --exclude="${NIGHTLY}" --excludeTaskDependencies --outputStyle=static`,
    );
    expect(step(publish, 'Build and publish wheel-index (S3)').run).toBe(
      'npx nx run wheel-index:index --variants=vllm-cpu,vllm-cpu@vllm-0.34 --excludeTaskDependencies --skipNxCache --outputStyle=static\nnpx nx run wheel-index:publish --excludeTaskDependencies --outputStyle=static\n',
    );
    // Pull requests and pushes still build the nightly variants at the committed lock (the matrix is every variant).
    expect(JSON.parse(step(wf.jobs.plan, 'List the variants').env!.VARIANTS)).toContain(NIGHTLY);
    // An index of nightly variants only is the nightly workflow's.
    const onlyNightly = parse(renderWorkflow({ ...WORKSPACE, indexMembers: { 'wheel-index': [NIGHTLY] } }, options())) as Workflow;
    expect(onlyNightly.jobs.publish.steps.map((s) => s.name)).not.toContain('Build and publish wheel-index (S3)');
  });
});

describe('actionlint', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('actionlint-nightly');
  });

  it.each<[string, CiOptionsInput]>([
    ['defaults', {}],
    ['Nx Cloud, another schedule', { remoteCache: 'nx-cloud', nightlyCron: '*/30 4 * * 1-5' }],
    ['no remote cache, no publishing', { remoteCache: 'none', publish: false }],
  ])('accepts the nightly workflow (%s)', async (_, o) => {
    const file = join(dir, 'nightly.yml');
    writeFileSync(file, render(o));
    const result = await actionlint(file);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('accepts the main workflow beside it', async () => {
    const file = join(dir, 'main.yml');
    writeFileSync(file, renderWorkflow(WORKSPACE, options()));
    const result = await actionlint(file);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
