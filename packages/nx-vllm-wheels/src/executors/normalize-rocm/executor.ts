import type { ExecutorContext } from '@nx/devkit';
import { normalizeRocmVariant } from '../../lib/rocm';
import { loadRocmVariant, runStep, type CommonOptions } from '../shared';

export interface NormalizeRocmOptions extends CommonOptions {
  config: string;
  codeFingerprint?: string;
}

export default async function normalizeRocm(options: NormalizeRocmOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => normalizeRocmVariant(loadRocmVariant(context, options.config), ctx));
}
