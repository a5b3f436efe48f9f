import type { ExecutorContext } from '@nx/devkit';
import { checkoutSource } from '../../lib/pipeline/source';
import { loadSource, loadUnlockedSource, runStep, type CommonOptions } from '../shared';

export interface CloneCacheOptions extends CommonOptions {
  config: string;
}

export default async function cloneCache(options: CloneCacheOptions, context: ExecutorContext) {
  return runStep(context, options, async (ctx) => {
    // Nothing to check out yet; a target that needs the commit (build, install) says how to lock it.
    const unlocked = loadUnlockedSource(context, options.config);
    if (unlocked.config.commit === undefined) {
      ctx.log.warn(`${options.config} is not locked: nothing to check out until \`nx run ${unlocked.name}:lock\` pins "ref" (${unlocked.config.ref}).`);
      return;
    }
    await checkoutSource(loadSource(context, options.config), ctx);
  });
}
