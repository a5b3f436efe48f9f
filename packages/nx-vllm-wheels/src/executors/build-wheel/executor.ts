import type { ExecutorContext } from '@nx/devkit';
import { buildVariant } from '../../lib/pipeline/build';
import { loadSource, loadTorch, loadVariant, runStep, type CommonOptions } from '../shared';

export interface BuildWheelOptions extends CommonOptions {
  config: string;
  sourceConfig: string;
  torchConfig: string;
  /** Set by inference: hash of the plugin code that shapes the output (part of the cache key). */
  codeFingerprint?: string;
}

export default async function buildWheel(options: BuildWheelOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) =>
    buildVariant(loadSource(context, options.sourceConfig), loadTorch(context, options.torchConfig), loadVariant(context, options.config), ctx),
  );
}
