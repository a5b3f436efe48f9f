import { z } from 'zod';
import { relativePathSchema } from './vllm';

export const PYTORCH_CPU_INDEX = 'https://download.pytorch.org/whl/cpu';
export const DEFAULT_REQUIREMENTS = ['requirements/cpu-build.txt', 'requirements/build/cpu.txt'];

const INDEX_URL = 'must be an http(s):// or file:// URL of a PEP 503 simple index';
export const indexUrlSchema = z.string(INDEX_URL).refine((u) => /^(https?|file):\/\//.test(u), { message: INDEX_URL });
const PYTHON = 'must be a Python minor version as a string, such as "3.11"';

/** `packages/torch-cpu/torch.json`: the CPU torch build environment. */
export const torchConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  python: z.string(PYTHON).regex(/^3\.\d{1,2}$/, PYTHON),
  torchIndexUrl: indexUrlSchema.default(PYTORCH_CPU_INDEX),
  indexUrl: indexUrlSchema.optional(),
  extraIndexUrls: z.array(indexUrlSchema).default([]),
  requirements: z.array(relativePathSchema).min(1, 'must list at least one requirements file').default(DEFAULT_REQUIREMENTS),
  installer: z.enum(['auto', 'uv', 'pip'], 'must be "auto", "uv" or "pip"').default('auto'),
});

export type TorchConfig = z.output<typeof torchConfigSchema>;

/** Fields of torch.json that decide what gets built. Index URLs do not: the pin says what torch is. */
export const TORCH_BUILD_FIELDS = ['python', 'requirements'] as const satisfies readonly (keyof TorchConfig)[];

/** Fields of torch.json that the index shows users (its landing page's install commands). */
export const TORCH_INDEX_FIELDS = ['torchIndexUrl'] as const satisfies readonly (keyof TorchConfig)[];

/**
 * Fields of torch.json that decide a wheelhouse: the interpreter it is resolved for and where packages
 * come from (the build's `requirements` do not: the wheel's own Requires-Dist says which torch it needs).
 */
export const TORCH_RESOLUTION_FIELDS = ['python', 'torchIndexUrl', 'indexUrl', 'extraIndexUrls'] as const satisfies readonly (keyof TorchConfig)[];
