import type { RocmWheelConfig } from '../../config';
import { ToolError } from '../errors';
import { rawDir, type SourceSpec, type StepContext } from '../pipeline/context';
import { formatPlannedCommand } from '../process';
import { baseWheelsDir, type RocmSpec } from './base-wheels';
import { rocmBuildEnv } from './build-env';
import { findRocmToolchain, requireRocmToolchain } from './toolchain';

export interface RocmVariantSpec {
  name: string;
  configFile: string;
  config: RocmWheelConfig;
}

/**
 * `<rocm variant>:build`: vLLM for ROCm (VLLM_TARGET_DEVICE=rocm, PYTORCH_ROCM_ARCH from rocm.json's
 * gpuArchs) against the base wheels. It needs ROCm with hipcc: without it the step fails at once,
 * saying what it needs and where it looked, before anything is fetched; `--dry-run` previews it anyway.
 * The build itself is not written yet (issue 14, in progress): with ROCm present it says so.
 */
export async function buildRocmVariant(source: SourceSpec, rocm: RocmSpec, variant: RocmVariantSpec, ctx: StepContext): Promise<string | undefined> {
  const { rocmVersion } = rocm.config;
  const toolchain = findRocmToolchain(ctx.env, rocmVersion);
  const what = `${variant.name}:build (vLLM ${source.config.ref} for ROCm ${rocmVersion}, ${rocm.config.gpuArchs.join(', ')})`;
  if (ctx.dryRun) {
    if (toolchain.problems.length) ctx.log.info(`[dry-run] ${variant.name}: the real run would fail here, this machine lacks ROCm:\n${toolchain.problems.map((p) => `[dry-run]   - ${p}`).join('\n')}`);
    else ctx.log.info(`[dry-run] ${variant.name}: ROCm ${toolchain.version} at ${toolchain.root}, hipcc ${toolchain.hipcc}`);
    ctx.log.info(`[dry-run] would prepare the worktree ${ctx.cache.worktree(variant.name)} at ${source.config.commit} (${source.config.patches.length} patch(es))`);
    ctx.log.info(`[dry-run] would make a build venv (python ${rocm.config.python}) with the base wheels of ${baseWheelsDir(ctx, rocm)} installed first`);
    ctx.log.info(
      formatPlannedCommand({
        command: '<build venv>/bin/python',
        args: ['setup.py', 'bdist_wheel', '--dist-dir', rawDir(ctx, variant.name)],
        cwd: ctx.cache.worktree(variant.name),
        env: rocmBuildEnv(rocm.config, variant.config, toolchain.root),
      }),
    );
    return undefined;
  }
  requireRocmToolchain(toolchain, rocmVersion, what);
  throw new ToolError(
    `${what}: ROCm ${toolchain.version} and hipcc were found (${toolchain.hipcc}), but this version of the plugin does not build vLLM for ROCm yet ` +
      '(the ROCm pipeline is in progress: base wheels and version normalization work, see README "ROCm (in progress)").',
  );
}
