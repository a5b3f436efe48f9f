import { z } from 'zod';

/** `packages/wheel-index/index.json`: the PEP 503 index over the variants. */
export const indexConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  variants: z
    .array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be variant project names'))
    .optional()
    .describe('variants to index; all wheel.json projects when absent'),
});

export type IndexConfig = z.output<typeof indexConfigSchema>;
