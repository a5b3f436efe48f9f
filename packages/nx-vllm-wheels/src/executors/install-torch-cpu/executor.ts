import type { ExecutorContext } from '@nx/devkit';
import { installTorch } from '../../lib/pipeline/torch';
import { loadSource, loadTorch, runStep, type CommonOptions } from '../shared';

export interface InstallTorchOptions extends CommonOptions {
  config: string;
  sourceConfig: string;
}

export default async function installTorchCpu(options: InstallTorchOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => installTorch(loadSource(context, options.sourceConfig), loadTorch(context, options.config), ctx));
}
