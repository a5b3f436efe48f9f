import type { ExecutorContext } from '@nx/devkit';
import { lockedOrWarn } from '../../lib/pipeline/source';
import { installTorch } from '../../lib/pipeline/torch';
import { loadTorch, loadUnlockedSource, runStep, type CommonOptions } from '../shared';

export interface InstallTorchOptions extends CommonOptions {
  config: string;
  /** Every vLLM source of the workspace: one build venv each (sources with the same requirements share one). */
  sourceConfigs: string[];
}

export default async function installTorchCpu(options: InstallTorchOptions, context: ExecutorContext) {
  return runStep(context, options, async (ctx) => {
    const torch = loadTorch(context, options.config);
    for (const file of options.sourceConfigs) {
      // An unlocked source has no commit to read its requirements from: its builds refuse it anyway.
      const source = lockedOrWarn(loadUnlockedSource(context, file), 'no build environment for it', ctx);
      if (source) await installTorch(source, torch, ctx);
    }
  });
}
