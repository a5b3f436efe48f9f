import type { ExecutorContext } from '@nx/devkit';
import { checkoutSource, lockedOrWarn } from '../../lib/pipeline/source';
import { loadUnlockedSource, runStep, type CommonOptions } from '../shared';

export interface CloneCacheOptions extends CommonOptions {
  config: string;
}

export default async function cloneCache(options: CloneCacheOptions, context: ExecutorContext) {
  return runStep(context, options, async (ctx) => {
    // Nothing to check out yet; a target that needs the commit (build, install) says how to lock it.
    const source = lockedOrWarn(loadUnlockedSource(context, options.config), 'nothing to check out', ctx);
    if (source) await checkoutSource(source, ctx);
  });
}
