import type { ExecutorContext } from '@nx/devkit';
import { buildRocmWheelhouse } from '../../lib/rocm';
import { loadRocm, loadRocmVariant, runStep, type CommonOptions } from '../shared';

export interface RocmWheelhouseOptions extends CommonOptions {
  config: string;
  rocmConfig: string;
  codeFingerprint?: string;
}

export default async function rocmWheelhouse(options: RocmWheelhouseOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => buildRocmWheelhouse(loadRocmVariant(context, options.config), loadRocm(context, options.rocmConfig), ctx));
}
