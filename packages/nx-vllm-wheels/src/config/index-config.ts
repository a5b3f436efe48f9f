import { z } from 'zod';
import { relativePathSchema } from './vllm';

const httpUrlSchema = z.string().refine((u) => /^https?:\/\/[^/\s]+/.test(u), { message: 'must be an http:// or https:// URL' });

/** Where `wheel-index:publish` uploads the index. Credentials never live here: they come from the AWS environment. */
export const s3TargetSchema = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 characters: lowercase letters, digits, "." and "-")'),
  prefix: z
    .string()
    .default('')
    .refine((p) => p === '' || (!p.startsWith('/') && !p.split('/').includes('..')), { message: 'must be a key prefix such as "vllm/cpu" (no leading "/", no "..")' })
    .transform((p) => p.replace(/\/+$/, '')),
  region: z.string().min(1).default('us-east-1'),
  endpoint: httpUrlSchema.optional().describe('S3-compatible endpoint (MinIO, R2, ...); AWS when absent'),
  forcePathStyle: z.boolean().default(false),
});

/** `packages/wheel-index/index.json`: the PEP 503 index over the variants, and where it is published. */
export const indexConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  variants: z
    .array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be variant project names'))
    .optional()
    .describe('variants to index; all wheel.json projects when absent'),
  title: z.string().min(1).default('vLLM CPU wheels'),
  publicUrl: httpUrlSchema.optional().describe('where the index root is served (the landing page shows install commands with it)'),
  extraWheels: z.array(relativePathSchema).default([]).describe('more wheels to index (e.g. CPU torch for a self-contained index), relative to this folder'),
  s3: s3TargetSchema.optional(),
});

export type IndexConfig = z.output<typeof indexConfigSchema>;
export type S3Target = z.output<typeof s3TargetSchema>;

/** Fields of index.json that shape the built index (the S3 target only shapes where it is uploaded). */
export const INDEX_CONTENT_FIELDS = ['variants', 'title', 'publicUrl', 'extraWheels'] as const satisfies readonly (keyof IndexConfig)[];
