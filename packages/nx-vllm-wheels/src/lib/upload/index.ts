/**
 * Publishing: the index to S3 (no Nx here).
 */
export { S3PublishError } from './s3-errors';
export { createIndexS3Client, describeS3Error, s3HttpUrl } from './s3-client';
export type { S3Location, RetryOptions } from './s3-client';
export { publishIndexToS3 } from './s3-index';
export type { PublishIndexOptions, PublishIndexResult } from './s3-index';
