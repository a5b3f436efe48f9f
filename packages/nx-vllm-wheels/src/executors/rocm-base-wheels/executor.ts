import type { ExecutorContext } from '@nx/devkit';
import { collectBaseWheels } from '../../lib/rocm';
import { loadRocm, runStep, type CommonOptions } from '../shared';

export interface RocmBaseWheelsOptions extends CommonOptions {
  config: string;
  codeFingerprint?: string;
}

export default async function rocmBaseWheels(options: RocmBaseWheelsOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => collectBaseWheels(loadRocm(context, options.config), ctx));
}
