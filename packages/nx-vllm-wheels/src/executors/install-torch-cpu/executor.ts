import type { ExecutorContext } from '@nx/devkit';
import { installTorch } from '../../lib/pipeline/torch';
import { loadSource, loadTorch, loadUnlockedSource, runStep, type CommonOptions } from '../shared';

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
      const unlocked = loadUnlockedSource(context, file);
      if (unlocked.config.commit === undefined) {
        ctx.log.warn(`${file} is not locked: no build environment for it until \`nx run ${unlocked.name}:lock\` pins "ref" (${unlocked.config.ref}).`);
        continue;
      }
      await installTorch(loadSource(context, file), torch, ctx);
    }
  });
}
