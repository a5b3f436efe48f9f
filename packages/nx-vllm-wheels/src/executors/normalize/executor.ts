import type { ExecutorContext } from '@nx/devkit';
import { normalizeVariant } from '../../lib/pipeline/normalize';
import { loadVariant, runStep, type CommonOptions } from '../shared';

export interface NormalizeOptions extends CommonOptions {
  config: string;
  codeFingerprint?: string;
}

export default async function normalize(options: NormalizeOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => normalizeVariant(loadVariant(context, options.config), ctx));
}
