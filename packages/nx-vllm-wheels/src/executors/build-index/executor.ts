import type { ExecutorContext } from '@nx/devkit';
import { buildWheelIndex } from '../../lib/pipeline/build-index';
import { buildRocmIndex } from '../../lib/rocm/index-build';
import { loadIndex, loadRocm, loadRocmVariants, loadTorch, runStep, type CommonOptions } from '../shared';

export interface BuildIndexOptions extends CommonOptions {
  config: string;
  variants: string[];
  torchConfig?: string;
  /** Set by inference for an index over ROCm variants: it is made from their wheelhouses. */
  rocmConfig?: string;
  codeFingerprint?: string;
}

export default async function buildIndexExecutor(options: BuildIndexOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => {
    const index = loadIndex(context, options.config, options.variants);
    if (options.rocmConfig) return buildRocmIndex(index, loadRocmVariants(context, options.variants), loadRocm(context, options.rocmConfig), ctx);
    return buildWheelIndex(index, options.torchConfig ? loadTorch(context, options.torchConfig) : undefined, ctx);
  });
}
