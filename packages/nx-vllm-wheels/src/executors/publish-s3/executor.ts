import type { ExecutorContext } from '@nx/devkit';
import { publishWheelIndex } from '../../lib/pipeline/publish-index';
import { rocmIndexDir, rocmIndexPageOptions } from '../../lib/rocm/index-build';
import { loadIndex, loadRocmVariants, loadTorch, runStep, type CommonOptions } from '../shared';

export interface PublishS3Options extends CommonOptions {
  config: string;
  torchConfig?: string;
  /** Set by inference for a ROCm index: its folder and landing page. */
  rocmConfig?: string;
  variants?: string[];
  prune?: boolean;
}

export default async function publishS3Executor(options: PublishS3Options, context: ExecutorContext) {
  return runStep(context, options, (ctx) => {
    // Publishing reads the built index, not the member variants' wheels.
    const index = loadIndex(context, options.config, []);
    const rocm = options.rocmConfig
      ? { dir: rocmIndexDir(ctx, index), pages: rocmIndexPageOptions(index.config, loadRocmVariants(context, options.variants ?? [])) }
      : {};
    return publishWheelIndex(index, options.torchConfig ? loadTorch(context, options.torchConfig) : undefined, ctx, { prune: options.prune, ...rocm });
  });
}
