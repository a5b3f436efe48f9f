/**
 * The nightly channel end to end, with real nx, git and builds: a source that follows a branch of a
 * clone of the fixture (its tags untouched, commits added after them on different days), the lock step
 * of the generated nightly workflow run as GitHub runs it, the build jobs' `lock --commit`, and a
 * variant whose version is <setuptools-scm base>.dev<commit time>. The tests run in order.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compareVersions } from '../src/lib/wheel';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt, REPO_ROOT } from './support/paths';
import { cleanEnv, createTestWorkspace, taskOutcomes, type TestWorkspace } from './support/workspace';

const VARIANT = 'vllm-cpu';
const NIGHTLY_WORKFLOW = '.github/workflows/vllm-wheels-nightly.yml';

/** git in the upstream clone, committing as one fixed identity at `date`. */
const git = (cwd: string, args: string[], date = '2026-11-20T00:00:00+00:00') =>
  execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: {
      ...cleanEnv(),
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Nightly',
      GIT_AUTHOR_EMAIL: 'nightly@example.invalid',
      GIT_COMMITTER_NAME: 'Nightly',
      GIT_COMMITTER_EMAIL: 'nightly@example.invalid',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  }).trim();

interface Step {
  id?: string;
  env: Record<string, string>;
  run: string;
}

describe('the nightly channel through nx', () => {
  let fixture: SharedFixture;
  let tmp: string;
  let upstream: string;
  let ws: TestWorkspace;
  const commits: string[] = [];

  /** Adds a commit to upstream's main at `date` (a doc line: the extension does not change). */
  const commit = (date: string, line: string) => {
    writeFileSync(join(upstream, 'README.md'), `${readFileSync(join(upstream, 'README.md'), 'utf8')}\n${line}\n`);
    git(upstream, ['commit', '-qam', line], date);
    commits.push(git(upstream, ['rev-parse', 'HEAD']));
    return commits[commits.length - 1];
  };
  const wheelFile = () => readdirSync(join(ws.root, 'dist/wheels', VARIANT)).find((f) => f.endsWith('.whl'))!;
  const versionOf = (file: string) => file.split('-')[1];
  const lockedCommit = () => ws.readJson<{ commit?: string }>('packages/vllm/vllm.json').commit;

  /** The lock job's step of the generated nightly workflow, run as GitHub runs it (bash -e, its env, GITHUB_OUTPUT). */
  const runLockJob = () => {
    const wf = parse(readFileSync(join(ws.root, NIGHTLY_WORKFLOW), 'utf8'));
    const step = (wf.jobs.lock.steps as Step[]).find((s) => s.id === 'lock')!;
    const output = join(tmp, `github-output-${Date.now()}`);
    writeFileSync(output, '');
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], {
      cwd: ws.root,
      env: { ...ws.env, ...step.env, GITHUB_OUTPUT: output },
      encoding: 'utf8',
      timeout: 5 * 60_000,
    });
    return { code: r.status, log: `${r.stdout}${r.stderr}`, output: readFileSync(output, 'utf8') };
  };

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('nightly');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    // "Upstream" is a clone of the fixture: its tags keep their ids, main gains commits after v0.34.0
    // (the unified family, which needs GCC >= 12.3: the fixture's compiler gate is told 13.2).
    upstream = join(tmp, 'upstream');
    git(tmp, ['clone', '-q', fixture.repo.path, upstream]);
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: [VARIANT], host: 'avx512', cxxVersion: '13.2.0' });
    ws.writeJson('packages/vllm/vllm.json', { repository: upstream, ref: 'main', follow: true });
    // The root workspace's unified vllm-cpu, as a nightly.
    copyFileSync(join(REPO_ROOT, 'packages/vllm-0.34/vllm-cpu/README.md'), join(ws.root, 'packages', VARIANT, 'README.md'));
    const wheel = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/vllm-0.34/vllm-cpu/wheel.json'), 'utf8')) as Record<string, unknown>;
    ws.writeJson(`packages/${VARIANT}/wheel.json`, { ...wheel, version: { local: 'strip', dev: 'commit-time' } });
  });

  it('the generator writes the nightly workflow; its lock job locks the followed source to the head of main and hands the commit on', async () => {
    const day1 = commit('2026-11-20T09:05:59+00:00', 'nightly: day 1');
    expect(await ws.nxOk(['g', 'nx-vllm-wheels:ci'])).toContain(`${NIGHTLY_WORKFLOW}: created (sources vllm).`);
    const job = runLockJob();
    expect([job.code, job.output]).toEqual([0, `commits={"vllm":"${day1}"}\n`]);
    expect(lockedCommit()).toBe(day1);
  });

  it('the build job locks that commit and builds <base>.dev<YYYYMMDDHHMM> (UTC committer time), base as setuptools-scm computes it', async () => {
    // What a build runner does: lock the commit the lock job resolved (a no-op here), then build.
    await ws.nxOk(['run', 'vllm:lock', `--commit=${commits[0]}`, '--outputStyle=static']);
    await ws.nxOk(['run', `${VARIANT}:wheel`, '--outputStyle=static']);
    // setuptools-scm: one commit after v0.34.0 -> 0.34.1.dev1+g<sha>, then ".cpu" (no ISA pin on the unified x86 build: a clean tree).
    const raw = readdirSync(join(ws.root, 'dist/raw', VARIANT)).find((f) => f.endsWith('.whl'))!;
    expect(raw).toMatch(new RegExp(`^vllm-0\\.34\\.1\\.dev1\\+g${commits[0].slice(0, 9)}\\.cpu-cp38-abi3-linux_x86_64\\.whl$`));
    expect(wheelFile()).toMatch(/^vllm_cpu-0\.34\.1\.dev202611200905-cp38-abi3-manylinux_2_\d+_x86_64(\.[a-z0-9_]+)*\.whl$/);
  });

  it('a rerun on an unchanged main locks nothing new and builds nothing', async () => {
    const file = join(ws.root, 'packages/vllm/vllm.json');
    const before = { text: readFileSync(file, 'utf8'), mtime: statSync(file).mtimeMs, wheel: wheelFile() };
    expect(runLockJob()).toMatchObject({ code: 0, output: `commits={"vllm":"${commits[0]}"}\n` });
    expect({ text: readFileSync(file, 'utf8'), mtime: statSync(file).mtimeMs }).toEqual({ text: before.text, mtime: before.mtime });
    ws.takeCompilerCalls();
    const { ran, cached } = taskOutcomes(await ws.nxOk(['run', `${VARIANT}:wheel`, '--outputStyle=static']));
    expect(cached).toEqual([`${VARIANT}:build`, `${VARIANT}:wheel`]);
    expect(ran).toEqual([]);
    expect(ws.takeCompilerCalls()).toEqual([]);
    expect(wheelFile()).toBe(before.wheel);
  });

  it('a commit on the next day moves the lock and gives a newer nightly version', async () => {
    const previous = versionOf(wheelFile());
    // 08:00 at UTC+2 is 06:00 UTC: the version is in UTC.
    const day2 = commit('2026-11-21T08:00:00+02:00', 'nightly: day 2');
    expect(runLockJob()).toMatchObject({ code: 0, output: `commits={"vllm":"${day2}"}\n` });
    // Meanwhile another commit lands: a build runner still builds the commit the lock job handed on.
    commit('2026-11-21T09:00:00+00:00', 'nightly: pushed during the run');
    await ws.nxOk(['run', 'vllm:lock', `--commit=${day2}`, '--outputStyle=static']);
    expect(lockedCommit()).toBe(day2);
    await ws.nxOk(['run', `${VARIANT}:wheel`, '--outputStyle=static']);
    const version = versionOf(wheelFile());
    expect(version).toBe('0.34.1.dev202611210600');
    expect(compareVersions(previous, version)).toBe(-1);
  });

  it("the lock job fails, saying what to do, when the workflow no longer matches the workspace's followed sources", () => {
    ws.writeJson('packages/vllm/vllm.json', { ...ws.readJson<Record<string, unknown>>('packages/vllm/vllm.json'), follow: false });
    const job = runLockJob();
    expect(job.code).toBe(1);
    expect(job.output).toBe('');
    expect(job.log).toContain(
      `::error::This workflow was generated for the followed sources {"vllm":"packages/vllm/vllm.json"}, the workspace has {}: run 'npx nx g nx-vllm-wheels:ci' and commit the result.`,
    );
  });
});
