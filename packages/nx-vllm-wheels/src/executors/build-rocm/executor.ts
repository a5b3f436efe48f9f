import type { ExecutorContext } from '@nx/devkit';
import { buildRocmVariant } from '../../lib/rocm';
import { loadRocm, loadRocmVariant, loadSource, runStep, type CommonOptions } from '../shared';

export interface BuildRocmOptions extends CommonOptions {
  config: string;
  sourceConfig: string;
  rocmConfig: string;
  codeFingerprint?: string;
}

export default async function buildRocm(options: BuildRocmOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) =>
    buildRocmVariant(loadSource(context, options.sourceConfig), loadRocm(context, options.rocmConfig), loadRocmVariant(context, options.config), ctx),
  );
}
