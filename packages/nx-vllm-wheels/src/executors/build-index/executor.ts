import type { ExecutorContext } from '@nx/devkit';
import { buildWheelIndex } from '../../lib/pipeline/build-index';
import { loadIndex, loadTorch, runStep, type CommonOptions } from '../shared';

export interface BuildIndexOptions extends CommonOptions {
  config: string;
  variants: string[];
  torchConfig?: string;
  codeFingerprint?: string;
}

export default async function buildIndexExecutor(options: BuildIndexOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) =>
    buildWheelIndex(loadIndex(context, options.config, options.variants), options.torchConfig ? loadTorch(context, options.torchConfig) : undefined, ctx),
  );
}
