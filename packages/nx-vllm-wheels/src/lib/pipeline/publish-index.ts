import type { IndexConfig } from '../../config';
import { ConfigError } from '../errors';
import { publishIndexToS3, type PublishIndexResult } from '../upload';
import type { PageOptions } from '../index';
import { indexDir, indexPageOptions } from './build-index';
import type { StepContext, TorchSpec } from './context';

export interface PublishIndexStepOptions {
  /** Delete objects under the prefix that the merged index does not hold. */
  prune?: boolean;
  /** The built index (default dist/index) and its landing page (default the CPU index's), for the ROCm index. */
  dir?: string;
  pages?: PageOptions;
}

/**
 * `wheel-index:publish`: uploads `dist/index` to index.json's S3 target, merged with what is published
 * there. Credentials come only from the AWS SDK chain (environment, profile, SSO, instance role); the
 * secret key and session token are kept out of every message.
 */
export async function publishWheelIndex(
  index: { configFile: string; config: IndexConfig },
  torch: TorchSpec | undefined,
  ctx: StepContext,
  options: PublishIndexStepOptions = {},
): Promise<PublishIndexResult> {
  const s3 = index.config.s3;
  if (!s3) {
    throw new ConfigError(
      `${index.configFile} is invalid:\n  - s3: required to publish the index, e.g. "s3": { "bucket": "my-wheels", "prefix": "vllm/cpu", "region": "us-east-1" } ` +
        '(and "endpoint" + "forcePathStyle": true for MinIO/R2); credentials come from the AWS environment, never from this file',
    );
  }
  return publishIndexToS3({
    indexDir: options.dir ?? indexDir(ctx),
    location: { bucket: s3.bucket, prefix: s3.prefix, region: s3.region, forcePathStyle: s3.forcePathStyle, ...(s3.endpoint !== undefined && { endpoint: s3.endpoint }) },
    pages: options.pages ?? indexPageOptions(index.config, torch),
    dryRun: ctx.dryRun,
    prune: options.prune === true,
    retain: index.config.retain,
    log: ctx.log,
    env: ctx.env,
    secrets: [ctx.env.AWS_SECRET_ACCESS_KEY, ctx.env.AWS_SESSION_TOKEN].filter((s): s is string => !!s),
  });
}
