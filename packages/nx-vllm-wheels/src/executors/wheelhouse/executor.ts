import type { ExecutorContext } from '@nx/devkit';
import { buildVariantWheelhouse } from '../../lib/pipeline/wheelhouse';
import { loadTorch, loadVariant, runStep, type CommonOptions } from '../shared';

export interface WheelhouseOptions extends CommonOptions {
  config: string;
  torchConfig: string;
  codeFingerprint?: string;
}

export default async function wheelhouse(options: WheelhouseOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => buildVariantWheelhouse(loadVariant(context, options.config), loadTorch(context, options.torchConfig), ctx));
}
