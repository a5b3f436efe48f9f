import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { rejection } from '../../test-support/rejection';
import { V0_34_0_THIRD_PARTY } from '../../test-support/upstream-third-party';
import { machineCache } from '../cache-dir';
import { ConfigError, SourceError } from '../errors';
import { recordingLogger } from '../log';
import { run } from '../process';
import type { WheelConfig } from '../../config';
import type { SourceSpec, StepContext, VariantSpec } from './context';
import { checkoutSource } from './source';
import { prepareThirdParty, thirdPartyKey, variantThirdParty, type ThirdPartyRequest } from './third-party';

// Real git, isolated from the machine's configuration; GitHub is reached only through the redirect below.
const HOME = tempDir('third-party-home');
const ENV: Record<string, string | undefined> = {
  PATH: process.env.PATH,
  HOME,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  LC_ALL: 'C',
};

const ONEDNN = 'https://github.com/oneapi-src/oneDNN.git';
const ACL = 'https://github.com/ARM-software/ComputeLibrary.git';
/** v0.34.0's pinned Arm oneDNN commit; the tests put their own repository's commit in its place. */
const UPSTREAM_ARM_ONEDNN = '9c5be1cc59e368aebf0909e6cf20f981ea61462a';

async function git(cwd: string, args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env: ENV, timeoutMs: 30_000 })).stdout.trim();
}

interface Upstream {
  /** Stands for https://github.com/ (holds oneapi-src/oneDNN.git and ARM-software/ComputeLibrary.git, bare). */
  base: string;
  work: string;
  v313: string;
  v310: string;
  acl: string;
}

/** A tiny oneDNN (v3.10, v3.13 annotated tags, branch rls-v3.13, main one commit past v3.13) and ComputeLibrary (v52.6.0), as bare repositories under `base`. */
async function makeUpstream(): Promise<Upstream> {
  const root = tempDir('third-party-upstream');
  const work = join(root, 'onednn-work');
  mkdirSync(work);
  await git(work, ['init', '--quiet', '-b', 'main']);
  const commit = async (version: string) => {
    writeFileSync(join(work, 'VERSION'), `${version}\n`);
    await git(work, ['add', '-A']);
    await git(work, ['commit', '--quiet', '-m', version]);
    await git(work, ['tag', '-a', `v${version}`, '-m', `v${version}`]);
    return git(work, ['rev-parse', 'HEAD']);
  };
  const v310 = await commit('3.10');
  const v313 = await commit('3.13');
  await git(work, ['branch', 'rls-v3.13']);
  writeFileSync(join(work, 'VERSION'), '3.14-dev\n'); // main moves on: a checkout of the default branch is not v3.13
  await git(work, ['commit', '--quiet', '-am', 'development']);
  const base = join(root, 'github');
  mkdirSync(join(base, 'oneapi-src'), { recursive: true });
  await git(root, ['clone', '--quiet', '--bare', work, join(base, 'oneapi-src', 'oneDNN.git')]);
  const aclWork = join(root, 'acl-work');
  mkdirSync(aclWork);
  await git(aclWork, ['init', '--quiet', '-b', 'main']);
  writeFileSync(join(aclWork, 'SConstruct'), '# ACL\n');
  await git(aclWork, ['add', '-A']);
  await git(aclWork, ['commit', '--quiet', '-m', 'v52.6.0']);
  await git(aclWork, ['tag', 'v52.6.0']);
  const acl = await git(aclWork, ['rev-parse', 'HEAD']);
  mkdirSync(join(base, 'ARM-software'));
  await git(root, ['clone', '--quiet', '--bare', aclWork, join(base, 'ARM-software', 'ComputeLibrary.git')]);
  return { base, work, v313, v310, acl };
}

let up: Upstream;
beforeAll(async () => {
  up = await makeUpstream();
});

/** The user's git environment: GitHub redirected to `base` (as a firewalled user's url.<mirror>.insteadOf does). */
const redirectedTo = (base: string) => ({ ...ENV, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${base}/.insteadOf`, GIT_CONFIG_VALUE_0: 'https://github.com/' });

function context(cacheRoot: string, env = redirectedTo(up.base), dryRun = false): StepContext & { log: ReturnType<typeof recordingLogger> } {
  return { workspaceRoot: tempDir('third-party-ws'), env, cache: machineCache({ VLLM_WHEELS_CACHE_DIR: cacheRoot }), log: recordingLogger(), dryRun };
}

function request(ctx: StepContext, overrides: Partial<ThirdPartyRequest> = {}): ThirdPartyRequest {
  return {
    cmake: V0_34_0_THIRD_PARTY,
    where: 'cmake/cpu_extension.cmake at 0123456789ab',
    arch: 'x86_64',
    label: 'vllm-cpu',
    variant: { name: 'vllm-cpu', configFile: 'packages/vllm-cpu/wheel.json', env: {} },
    ctx,
    ...overrides,
  };
}

const oneDnnKey = thirdPartyKey({ name: 'oneDNN', repository: ONEDNN });
const aclKey = thirdPartyKey({ name: 'arm_compute', repository: ACL });

/** Every path under `dir` with its mtime: equal snapshots mean nothing was written. */
function snapshot(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    out[d] = lstatSync(d).mtimeMs;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out[p] = lstatSync(p).mtimeMs;
    }
  };
  walk(dir);
  return out;
}

describe('prepareThirdParty (x86_64, vLLM v0.34.0: oneDNN v3.13)', () => {
  it('mirrors the pinned tag once and points the build at a checkout of exactly that commit', async () => {
    const cacheRoot = tempDir('third-party-cache');
    const ctx = context(cacheRoot);
    const dir = ctx.cache.thirdPartySource(oneDnnKey, up.v313);
    expect(await prepareThirdParty(request(ctx))).toEqual({
      env: { FETCHCONTENT_SOURCE_DIR_ONEDNN: dir },
      cmakeDefines: { FETCHCONTENT_SOURCE_DIR_ONEDNN: dir },
      used: [{ name: 'oneDNN', repository: ONEDNN, ref: 'v3.13', commit: up.v313, variable: 'FETCHCONTENT_SOURCE_DIR_ONEDNN', dir }],
    });
    expect(dir).toBe(join(cacheRoot, 'third-party', oneDnnKey, up.v313));
    expect(await git(dir, ['rev-parse', 'HEAD'])).toBe(up.v313);
    expect(await git(dir, ['status', '--porcelain'])).toBe('');
    expect(readFileSync(join(dir, 'VERSION'), 'utf8')).toBe('3.13\n');
    const mirrorDir = ctx.cache.thirdPartyMirror(oneDnnKey);
    expect(mirrorDir).toBe(join(cacheRoot, 'git', 'third-party', `${oneDnnKey}.git`));
    expect(await git(mirrorDir, ['config', '--get', 'remote.origin.url'])).toBe(ONEDNN);
    expect(ctx.log.lines).toContain(`vllm-cpu: oneDNN v3.13 (${up.v313}) of ${ONEDNN}, from the machine cache: FETCHCONTENT_SOURCE_DIR_ONEDNN=${dir}`);
    expect(readdirSync(join(cacheRoot, 'third-party', oneDnnKey))).toEqual([up.v313]); // no temp dir left
  });

  it('needs no network once mirrored: GitHub unreachable, nothing cloned, fetched or written', async () => {
    const cacheRoot = tempDir('third-party-cache');
    const warm = await prepareThirdParty(request(context(cacheRoot)));
    const before = { git: snapshot(join(cacheRoot, 'git')), checkouts: snapshot(join(cacheRoot, 'third-party')) };
    const offline = context(cacheRoot, redirectedTo(join(tempDir('third-party-nowhere'), 'not-there')));
    expect(await prepareThirdParty(request(offline))).toEqual(warm);
    expect(offline.log.lines.filter((l) => /Cloning|Fetching|git (clone|fetch)/.test(l))).toEqual([]);
    expect({ git: snapshot(join(cacheRoot, 'git')), checkouts: snapshot(join(cacheRoot, 'third-party')) }).toEqual(before);
    // The redirect really is unreachable: a pin the mirror lacks cannot be fetched through it.
    const error = await rejection(prepareThirdParty(request(offline, { cmake: V0_34_0_THIRD_PARTY.replaceAll('v3.13', 'v3.14') })));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/^"v3\.14" is not in the mirror .* and fetching https:\/\/github\.com\/oneapi-src\/oneDNN\.git failed/s);
  });

  it('fetches only when the pinned ref is missing, and keeps each commit its own checkout', async () => {
    const cacheRoot = tempDir('third-party-cache');
    await prepareThirdParty(request(context(cacheRoot)));
    const origin = join(up.base, 'oneapi-src', 'oneDNN.git');
    writeFileSync(join(up.work, 'VERSION'), '3.14\n');
    await git(up.work, ['commit', '--quiet', '-am', '3.14']);
    await git(up.work, ['tag', '-a', 'v3.14', '-m', 'v3.14']);
    const v314 = await git(up.work, ['rev-parse', 'HEAD']);
    await git(up.work, ['push', '--quiet', origin, 'v3.14']);
    const ctx = context(cacheRoot);
    const { env } = await prepareThirdParty(request(ctx, { cmake: V0_34_0_THIRD_PARTY.replaceAll('v3.13', 'v3.14') }));
    expect(ctx.log.lines).toContain(`> Fetching ${ONEDNN} into ${ctx.cache.thirdPartyMirror(oneDnnKey)}`);
    expect(env.FETCHCONTENT_SOURCE_DIR_ONEDNN).toBe(ctx.cache.thirdPartySource(oneDnnKey, v314));
    expect(readFileSync(join(env.FETCHCONTENT_SOURCE_DIR_ONEDNN, 'VERSION'), 'utf8')).toBe('3.14\n');
    expect(readdirSync(join(cacheRoot, 'third-party', oneDnnKey)).sort()).toEqual([up.v313, v314].sort());
  });

  it('refuses a pin that is a branch, and a ref the repository does not have', async () => {
    const cacheRoot = tempDir('third-party-cache');
    const branch = await rejection(prepareThirdParty(request(context(cacheRoot), { cmake: V0_34_0_THIRD_PARTY.replaceAll('v3.13', 'rls-v3.13') })));
    expect(branch).toBeInstanceOf(SourceError);
    expect((branch as Error).message).toBe(
      `cmake/cpu_extension.cmake at 0123456789ab (line 39) pins ${ONEDNN} to "rls-v3.13", which is a branch, not a tag or a commit: what it builds changes whenever the branch moves, while the build's cache key (the vLLM commit) does not. ` +
        'Pin a tag or a full commit id instead, with a patch in vllm.json "patches" that changes that GIT_TAG.',
    );
    expect(existsSync(join(cacheRoot, 'third-party'))).toBe(false);
    const missing = await rejection(prepareThirdParty(request(context(cacheRoot), { cmake: V0_34_0_THIRD_PARTY.replaceAll('v3.13', 'v9.99') })));
    expect((missing as Error).message).toBe(`cmake/cpu_extension.cmake at 0123456789ab (line 39) pins ${ONEDNN} to "v9.99", which is neither a tag nor a commit of that repository.`);
  });

  it('refuses a wheel.json env that sets the variable the plugin sets, before fetching anything', async () => {
    const cacheRoot = tempDir('third-party-cache');
    const ctx = context(cacheRoot);
    const variant = { name: 'vllm-cpu', configFile: 'packages/vllm-cpu/wheel.json', env: { FETCHCONTENT_SOURCE_DIR_ONEDNN: '/src/oneDNN' } };
    const error = await rejection(prepareThirdParty(request(ctx, { variant })));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'packages/vllm-cpu/wheel.json is invalid:\n  - env.FETCHCONTENT_SOURCE_DIR_ONEDNN: is not allowed here: the plugin sets it to its mirrored checkout of oneDNN at the commit the vLLM commit pins',
    );
    expect(existsSync(cacheRoot) && readdirSync(cacheRoot)).toEqual([]);
  });

  it('dry run: says what it would clone and check out, and writes nothing (cold cache, then a missing tag)', async () => {
    const cacheRoot = join(tempDir('third-party-cache'), 'cache');
    const cold = context(cacheRoot, redirectedTo(up.base), true);
    const { env } = await prepareThirdParty(request(cold));
    expect(existsSync(cacheRoot)).toBe(false);
    const mirrorDir = cold.cache.thirdPartyMirror(oneDnnKey);
    expect(cold.log.lines.join('\n')).toContain(`> Cloning ${ONEDNN} into the mirror ${mirrorDir}`);
    expect(cold.log.lines.join('\n')).toMatch(/\[dry-run\] would run \(cwd \S+\): git clone --mirror -- https:\/\/github\.com\/oneapi-src\/oneDNN\.git /);
    const planned = cold.cache.thirdPartySource(oneDnnKey, '<commit of v3.13>');
    expect(cold.log.lines).toContain(`[dry-run] would check out v3.13 of ${mirrorDir} into ${planned}`);
    expect(env).toEqual({ FETCHCONTENT_SOURCE_DIR_ONEDNN: planned });

    await prepareThirdParty(request(context(cacheRoot)));
    const before = snapshot(cacheRoot);
    const warm = context(cacheRoot, redirectedTo(up.base), true);
    await prepareThirdParty(request(warm, { cmake: V0_34_0_THIRD_PARTY.replaceAll('v3.13', 'v3.10') })); // in the mirror: only a checkout is missing
    await prepareThirdParty(request(warm, { cmake: V0_34_0_THIRD_PARTY.replaceAll('v3.13', 'v4.0') })); // not in the mirror: a fetch is needed
    expect(snapshot(cacheRoot)).toEqual(before);
    expect(warm.log.lines).toContain(`[dry-run] would check out ${up.v310.slice(0, 12)} of ${mirrorDir} into ${warm.cache.thirdPartySource(oneDnnKey, up.v310)}`);
    expect(warm.log.lines.join('\n')).toMatch(/\[dry-run\] would run \(cwd \S+\): git fetch --prune --tags origin/);
  });

  it('refuses a machine cache path with whitespace, which CMAKE_ARGS cannot carry', async () => {
    const cacheRoot = join(tempDir('third-party-cache'), 'my cache');
    const ctx = context(cacheRoot);
    const error = await rejection(prepareThirdParty(request(ctx)));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(
      `The machine cache path ${ctx.cache.thirdPartySource(oneDnnKey, '')} contains whitespace, and vLLM's setup.py splits CMAKE_ARGS (which carries -DFETCHCONTENT_SOURCE_DIR_ONEDNN=…) on whitespace. Set VLLM_WHEELS_CACHE_DIR to a directory whose path has none.`,
    );
    expect(existsSync(cacheRoot)).toBe(false);
  });

  it('two first calls at once clone once: the second waits for the mirror lock', async () => {
    const cacheRoot = tempDir('third-party-cache');
    const [a, b] = [context(cacheRoot), context(cacheRoot)];
    const [ra, rb] = await Promise.all([prepareThirdParty(request(a)), prepareThirdParty(request(b))]);
    expect(ra).toEqual(rb);
    const lines = [...a.log.lines, ...b.log.lines];
    expect(lines.filter((l) => l.startsWith('> Cloning'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith(`Waiting for another process (pid ${process.pid}) to release third-party-${oneDnnKey}.lock`))).not.toHaveLength(0);
  });
});

describe('prepareThirdParty (aarch64, vLLM v0.34.0: oneDNN at a commit, ACL built in place)', () => {
  const armText = () => V0_34_0_THIRD_PARTY.replaceAll(UPSTREAM_ARM_ONEDNN, up.v310);

  it("gives each variant build its own ACL checkout, kept with what its build wrote, and shares oneDNN's", async () => {
    const cacheRoot = tempDir('third-party-cache');
    const ctx = context(cacheRoot);
    const arm = (name: string) => request(ctx, { cmake: armText(), arch: 'aarch64', label: name, variant: { name, configFile: `packages/${name}/wheel.json`, env: {} } });
    const first = await prepareThirdParty(arm('vllm-cpu-arm'));
    const aclDir = ctx.cache.thirdPartyBuildSource('vllm-cpu-arm', aclKey);
    expect(aclDir).toBe(join(cacheRoot, 'src', 'vllm-cpu-arm.third-party', aclKey));
    expect(first.env).toEqual({ ACL_ROOT_DIR: aclDir, FETCHCONTENT_SOURCE_DIR_ONEDNN: ctx.cache.thirdPartySource(oneDnnKey, up.v310) });
    // ACL_ROOT_DIR is read from the environment at every configure; only FetchContent's cache variable needs -D.
    expect(first.cmakeDefines).toEqual({ FETCHCONTENT_SOURCE_DIR_ONEDNN: first.env.FETCHCONTENT_SOURCE_DIR_ONEDNN });
    expect(first.used.map((u) => [u.name, u.ref, u.commit])).toEqual([
      ['arm_compute', 'v52.6.0', up.acl],
      ['oneDNN', up.v310, up.v310],
    ]);
    expect(ctx.log.lines).toContain(`vllm-cpu-arm: oneDNN at ${up.v310} of ${ONEDNN}, from the machine cache: FETCHCONTENT_SOURCE_DIR_ONEDNN=${first.env.FETCHCONTENT_SOURCE_DIR_ONEDNN}`);
    expect(await git(aclDir, ['rev-parse', 'HEAD'])).toBe(up.acl);
    mkdirSync(join(aclDir, 'build'));
    writeFileSync(join(aclDir, 'build', 'libarm_compute.a'), 'built in place');

    expect(await prepareThirdParty(arm('vllm-cpu-arm'))).toEqual(first);
    expect(readFileSync(join(aclDir, 'build', 'libarm_compute.a'), 'utf8')).toBe('built in place');
    const other = await prepareThirdParty(arm('vllm-cpu-arm-bf16'));
    expect(other.env.ACL_ROOT_DIR).toBe(ctx.cache.thirdPartyBuildSource('vllm-cpu-arm-bf16', aclKey));
    expect(existsSync(join(other.env.ACL_ROOT_DIR, 'build'))).toBe(false);
    expect(other.env.FETCHCONTENT_SOURCE_DIR_ONEDNN).toBe(first.env.FETCHCONTENT_SOURCE_DIR_ONEDNN);
  });

  it('replaces a variant\'s ACL checkout when the pin moves to another commit', async () => {
    const cacheRoot = tempDir('third-party-cache');
    const ctx = context(cacheRoot);
    const aclRequest = (cmake: string) => request(ctx, { cmake, arch: 'aarch64', label: 'vllm-cpu-arm', variant: { name: 'vllm-cpu-arm', configFile: 'packages/vllm-cpu-arm/wheel.json', env: {} } });
    const { env } = await prepareThirdParty(aclRequest(armText()));
    writeFileSync(join(env.ACL_ROOT_DIR, 'stale-build-output'), 'x');
    const aclOrigin = join(up.base, 'ARM-software', 'ComputeLibrary.git');
    const scratch = join(tempDir('third-party-acl'), 'acl');
    await git(tempDir('third-party-acl-parent'), ['clone', '--quiet', aclOrigin, scratch]);
    writeFileSync(join(scratch, 'SConstruct'), '# ACL 52.7\n');
    await git(scratch, ['commit', '--quiet', '-am', 'v52.7.0']);
    await git(scratch, ['tag', 'v52.7.0']);
    await git(scratch, ['push', '--quiet', 'origin', 'v52.7.0']);
    await prepareThirdParty(aclRequest(armText().replaceAll('v52.6.0', 'v52.7.0')));
    expect(readFileSync(join(env.ACL_ROOT_DIR, 'SConstruct'), 'utf8')).toBe('# ACL 52.7\n');
    expect(existsSync(join(env.ACL_ROOT_DIR, 'stale-build-output'))).toBe(false);
  });

  it('vllm:checkout (no variant) mirrors ACL without a per-build copy and makes the shared oneDNN checkout', async () => {
    const cacheRoot = tempDir('third-party-cache');
    const ctx = context(cacheRoot);
    const result = await prepareThirdParty(request(ctx, { cmake: armText(), arch: 'aarch64', label: 'vllm', variant: undefined }));
    expect(Object.keys(result.env)).toEqual(['FETCHCONTENT_SOURCE_DIR_ONEDNN']);
    expect(await git(ctx.cache.thirdPartyMirror(aclKey), ['rev-parse', 'refs/tags/v52.6.0^{commit}'])).toBe(up.acl);
    expect(existsSync(join(cacheRoot, 'src'))).toBe(false);
    expect(ctx.log.lines).toContain(`vllm: arm_compute v52.6.0 (${up.acl}) of ${ACL} is in the mirror ${ctx.cache.thirdPartyMirror(aclKey)} (each aarch64 build checks out its own copy: it builds in it).`);
  });
});

describe('which cpu_extension.cmake is read', () => {
  /** A oneDNN download for every architecture, as v0.16.0 has it, pinned to `tag`. */
  const cmakePinning = (tag: string) =>
    [
      'set(FETCHCONTENT_SOURCE_DIR_ONEDNN "$ENV{FETCHCONTENT_SOURCE_DIR_ONEDNN}" CACHE PATH "Path to a local oneDNN source directory.")',
      'if(FETCHCONTENT_SOURCE_DIR_ONEDNN)',
      'else()',
      `  FetchContent_Declare(oneDNN GIT_REPOSITORY ${ONEDNN} GIT_TAG ${tag})`,
      'endif()',
      '',
    ].join('\n');

  /** A vLLM-shaped repository whose one commit pins oneDNN v3.13. */
  async function vllmSource(): Promise<SourceSpec> {
    const dir = join(tempDir('third-party-vllm'), 'vllm');
    mkdirSync(join(dir, 'cmake'), { recursive: true });
    await git(dir, ['init', '--quiet', '-b', 'main']);
    writeFileSync(join(dir, 'cmake', 'cpu_extension.cmake'), cmakePinning('v3.13'));
    await git(dir, ['add', '-A']);
    await git(dir, ['commit', '--quiet', '-m', 'vLLM']);
    const commit = await git(dir, ['rev-parse', 'HEAD']);
    return { name: 'vllm', configFile: 'packages/vllm/vllm.json', config: { repository: dir, ref: 'main', commit, patches: [] } };
  }

  const variant: VariantSpec = { name: 'vllm-cpu', configFile: 'packages/vllm-cpu/wheel.json', config: { arch: 'x86_64', env: {} } as unknown as WheelConfig };

  it('vllm:checkout mirrors what the locked commit pins, so that a build afterwards needs no network', async () => {
    const source = await vllmSource();
    const cacheRoot = tempDir('third-party-cache');
    const ctx = context(cacheRoot);
    await checkoutSource(source, ctx);
    const dir = ctx.cache.thirdPartySource(oneDnnKey, up.v313);
    expect(await git(dir, ['rev-parse', 'HEAD'])).toBe(up.v313);
    const offline = context(cacheRoot, redirectedTo(join(tempDir('third-party-nowhere'), 'not-there')));
    const sourceDir = tempDir('third-party-worktree');
    mkdirSync(join(sourceDir, 'cmake'));
    writeFileSync(join(sourceDir, 'cmake', 'cpu_extension.cmake'), cmakePinning('v3.13'));
    expect((await variantThirdParty(source, variant, sourceDir, offline.cache.mirror('vllm'), offline)).env).toEqual({ FETCHCONTENT_SOURCE_DIR_ONEDNN: dir });
  });

  it("a build reads its worktree's file (a patch may move the pin); a dry run, which has no worktree, the commit's", async () => {
    const source = await vllmSource();
    const cacheRoot = tempDir('third-party-cache');
    await checkoutSource(source, context(cacheRoot));
    const sourceDir = tempDir('third-party-worktree');
    mkdirSync(join(sourceDir, 'cmake'));
    writeFileSync(join(sourceDir, 'cmake', 'cpu_extension.cmake'), cmakePinning('v3.10'));
    const ctx = context(cacheRoot);
    const built = await variantThirdParty(source, variant, sourceDir, ctx.cache.mirror('vllm'), ctx);
    expect(built.used.map((u) => [u.ref, u.commit])).toEqual([['v3.10', up.v310]]);
    const dryCtx = context(cacheRoot, redirectedTo(up.base), true);
    const dry = await variantThirdParty(source, variant, sourceDir, dryCtx.cache.mirror('vllm'), dryCtx);
    expect(dry.used.map((u) => [u.ref, u.commit])).toEqual([['v3.13', up.v313]]);
  });
});
