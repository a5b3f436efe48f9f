import type { ExecutorContext } from '@nx/devkit';
import { checkoutSource } from '../../lib/pipeline/source';
import { loadSource, runStep, type CommonOptions } from '../shared';

export interface CloneCacheOptions extends CommonOptions {
  config: string;
}

export default async function cloneCache(options: CloneCacheOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => checkoutSource(loadSource(context, options.config), ctx));
}
