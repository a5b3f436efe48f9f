import { z } from 'zod';
import { relativePathSchema } from './vllm';

export const PYTORCH_CPU_INDEX = 'https://download.pytorch.org/whl/cpu';
export const DEFAULT_REQUIREMENTS = ['requirements/cpu-build.txt', 'requirements/build/cpu.txt'];

const urlSchema = z
  .string()
  .refine((u) => /^(https?|file):\/\//.test(u), { message: 'must be an http(s):// or file:// URL of a PEP 503 simple index' });

/** `packages/torch-cpu/torch.json`: the CPU torch build environment. */
export const torchConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  python: z.string().regex(/^3\.\d{1,2}$/, 'must be a Python minor version such as "3.11"'),
  torchIndexUrl: urlSchema.default(PYTORCH_CPU_INDEX),
  indexUrl: urlSchema.optional(),
  extraIndexUrls: z.array(urlSchema).default([]),
  requirements: z.array(relativePathSchema).min(1, 'must list at least one requirements file').default(DEFAULT_REQUIREMENTS),
  installer: z.enum(['auto', 'uv', 'pip']).default('auto'),
});

export type TorchConfig = z.output<typeof torchConfigSchema>;

/** Fields of torch.json that decide what gets built. Index URLs do not: the pin says what torch is. */
export const TORCH_BUILD_FIELDS = ['python', 'requirements'] as const satisfies readonly (keyof TorchConfig)[];

/** Fields of torch.json that the index shows users (its landing page's install commands). */
export const TORCH_INDEX_FIELDS = ['torchIndexUrl'] as const satisfies readonly (keyof TorchConfig)[];
