import type { ExecutorContext } from '@nx/devkit';
import { publishWheelIndex } from '../../lib/pipeline/publish-index';
import { loadIndex, loadTorch, runStep, type CommonOptions } from '../shared';

export interface PublishS3Options extends CommonOptions {
  config: string;
  torchConfig?: string;
  prune?: boolean;
}

export default async function publishS3Executor(options: PublishS3Options, context: ExecutorContext) {
  return runStep(context, options, (ctx) =>
    // Publishing reads dist/index, not the member variants' wheels.
    publishWheelIndex(loadIndex(context, options.config, []), options.torchConfig ? loadTorch(context, options.torchConfig) : undefined, ctx, { prune: options.prune }),
  );
}
