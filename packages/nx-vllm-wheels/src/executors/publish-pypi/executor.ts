import type { ExecutorContext } from '@nx/devkit';
import { publishVariant } from '../../lib/pipeline/publish';
import { loadVariant, runStep, type CommonOptions } from '../shared';

export interface PublishPypiOptions extends CommonOptions {
  config: string;
  repositoryUrl?: string;
  indexUrl?: string;
}

export default async function publishPypi(options: PublishPypiOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) =>
    publishVariant(loadVariant(context, options.config), ctx, { repositoryUrl: options.repositoryUrl, indexUrl: options.indexUrl }),
  );
}
