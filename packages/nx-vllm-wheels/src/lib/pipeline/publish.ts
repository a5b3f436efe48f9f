import { publishWheel, resolveUploadTarget, type PublishOutcome } from '../pypi';
import { ensureToolsVenv } from '../tools';
import { findVariantWheel } from './build-index';
import type { StepContext, VariantSpec } from './context';

export interface PublishOverrides {
  /** Another upload URL than wheel.json's (a private server, a test): wheel.json's indexUrl is then not used. */
  readonly repositoryUrl?: string;
  readonly indexUrl?: string;
}

/** `<variant>:publish`: upload the variant's wheel to wheel.json's repository (or the override). */
export async function publishVariant(variant: VariantSpec, ctx: StepContext, overrides: PublishOverrides = {}): Promise<PublishOutcome> {
  const config = variant.config.publish;
  const target = resolveUploadTarget(
    overrides.repositoryUrl ?? config.repositoryUrl,
    overrides.indexUrl ?? (overrides.repositoryUrl ? undefined : config.indexUrl),
  );
  return publishWheel({
    wheel: findVariantWheel(ctx, variant.name) as string,
    project: variant.config.distribution,
    target,
    maxFileSizeMiB: config.maxFileSizeMiB,
    configFile: variant.configFile,
    variant: variant.name,
    twine: async () => (await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: ctx.dryRun })).bin('twine'),
    cwd: ctx.workspaceRoot,
    env: ctx.env,
    log: ctx.log,
    dryRun: ctx.dryRun,
  });
}
