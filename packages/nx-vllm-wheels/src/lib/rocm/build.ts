import { join } from 'node:path';
import type { RocmWheelConfig } from '../../config';
import { buildEnv, buildRawWheel, describedEnv, withBuildLock, type RecordBuildProcess } from '../build';
import { sourceVersionInputs } from '../pipeline/build';
import { rawDir, type SourceSpec, type StepContext } from '../pipeline/context';
import { ensureSourceCommit, prepareVariantSource } from '../pipeline/source';
import type { RocmSpec } from './base-wheels';
import { rocmBuildEnv } from './build-env';
import { ensureRocmBuildVenv } from './build-venv';
import { findRocmToolchain, requireRocmToolchain, type RocmToolchain } from './toolchain';

export interface RocmVariantSpec {
  name: string;
  configFile: string;
  config: RocmWheelConfig;
}

/**
 * `<rocm variant>:build`: vLLM for ROCm (VLLM_TARGET_DEVICE=rocm, PYTORCH_ROCM_ARCH from rocm.json's
 * gpuArchs) against the base wheels, into dist/raw/<variant> with build-info.json, the CPU build's way:
 * the locked commit in the mirror, the variant's worktree at it (+ patches) kept between builds and locked
 * for the build, a venv with the base wheels, `setup.py bdist_wheel` streamed. It needs ROCm with hipcc:
 * without it the step fails at once, saying what it needs and where it looked, before anything is
 * fetched; `--dry-run` previews it anyway.
 */
export async function buildRocmVariant(source: SourceSpec, rocm: RocmSpec, variant: RocmVariantSpec, ctx: StepContext): Promise<string | undefined> {
  const { rocmVersion } = rocm.config;
  const toolchain = findRocmToolchain(ctx.env, rocmVersion);
  const what = `${variant.name}:build (vLLM ${source.config.ref} for ROCm ${rocmVersion}, ${rocm.config.gpuArchs.join(', ')})`;
  if (ctx.dryRun) {
    if (toolchain.problems.length) ctx.log.info(`[dry-run] ${variant.name}: the real run would fail here, this machine lacks ROCm:\n${toolchain.problems.map((p) => `[dry-run]   - ${p}`).join('\n')}`);
    else ctx.log.info(`[dry-run] ${variant.name}: ROCm ${toolchain.version} at ${toolchain.root}, hipcc ${toolchain.hipcc}`);
    const available = await ensureSourceCommit(source, ctx);
    return prepareAndBuild(source, rocm, variant, toolchain, ctx, available, () => undefined);
  }
  requireRocmToolchain(toolchain, rocmVersion, what);
  // The build fetches its own commit (a no-op when the mirror has it), as the CPU build does (decision 55).
  await ensureSourceCommit(source, ctx);
  return withBuildLock({ lockDir: ctx.cache.lock(`build-${variant.name}`), what: `the worktree ${ctx.cache.worktree(variant.name)}`, log: ctx.log }, (record) =>
    prepareAndBuild(source, rocm, variant, toolchain, ctx, true, record),
  );
}

async function prepareAndBuild(
  source: SourceSpec,
  rocm: RocmSpec,
  variant: RocmVariantSpec,
  toolchain: RocmToolchain,
  ctx: StepContext,
  available: boolean,
  record: RecordBuildProcess,
): Promise<string | undefined> {
  ctx.log.step(`${variant.name}: preparing the source at ${source.config.commit.slice(0, 12)}`);
  const sourceDir = await prepareVariantSource(source, variant, ctx, false);
  ctx.log.step(`${variant.name}: build environment (python ${rocm.config.python}, the base wheels first)`);
  const venv = await ensureRocmBuildVenv(source, rocm, ctx, available);
  const { sourceDateEpoch, pretendVersion } = await sourceVersionInputs(source, ctx, available);
  const variantEnv = rocmBuildEnv(rocm.config, variant.config, toolchain.root);
  const env = buildEnv({
    base: ctx.env,
    variantEnv,
    device: 'rocm',
    venvPython: venv.python,
    sourceDir,
    sourceDateEpoch,
    ccacheDir: ctx.cache.ccache,
    pretendVersion,
  });
  ctx.log.step(`${variant.name}: building vLLM for ROCm ${toolchain.version ?? rocm.config.rocmVersion} (PYTORCH_ROCM_ARCH=${variantEnv.PYTORCH_ROCM_ARCH}, MAX_JOBS=${env.MAX_JOBS ?? 'all cores'})`);
  return buildRawWheel({
    sourceDir,
    venvPython: venv.python,
    env,
    shownEnv: describedEnv(env, variantEnv, ctx.env),
    outDir: rawDir(ctx, variant.name),
    buildInfo: {
      variant: variant.name,
      device: 'rocm',
      commit: source.config.commit,
      patches: source.config.patches.map((p) => join(source.configFile, '..', p)),
      rocmVersion: rocm.config.rocmVersion,
      // What the machine has (its ROCm patch release), never where it is installed.
      rocmInstalled: toolchain.version,
      gpuArchs: rocm.config.gpuArchs,
      // The builds of torch, triton… it is compiled against: the wheel step pins them (requiresDistWithBaseSet).
      baseWheels: venv.baseWheels,
      sourceDateEpoch,
      env: variant.config.env,
    },
    log: ctx.log,
    dryRun: ctx.dryRun,
    onSpawn: record,
  });
}
