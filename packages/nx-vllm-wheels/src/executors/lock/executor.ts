import type { ExecutorContext } from '@nx/devkit';
import { lockSource } from '../../lib/pipeline/source';
import { loadUnlockedSource, runStep, type CommonOptions } from '../shared';

export interface LockOptions extends CommonOptions {
  config: string;
}

export default async function lock(options: LockOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => lockSource(loadUnlockedSource(context, options.config), ctx));
}
