import type { ExecutorContext } from '@nx/devkit';
import { devVariant } from '../../lib/pipeline/dev';
import { loadSource, loadTorch, loadVariant, runStep, type CommonOptions } from '../shared';

export interface DevPresetsOptions extends CommonOptions {
  config: string;
  sourceConfig: string;
  torchConfig: string;
  force?: boolean;
}

export default async function devPresets(options: DevPresetsOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) =>
    devVariant(loadSource(context, options.sourceConfig), loadTorch(context, options.torchConfig), loadVariant(context, options.config), ctx, { force: options.force === true }),
  );
}
