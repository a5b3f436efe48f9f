import { z } from 'zod';
import { CPU_ISAS, CPU_ISAS_BY_ARCH, ISA_ARCHS } from '../isa/model';
import { DEFAULT_REPOSITORY, FAMILIES } from './templates';

const NAME = 'must be a lowercase project name: letters, digits, ".", "-" or "_", starting with a letter or digit';
const projectName = z.string(NAME).regex(/^[a-z0-9][a-z0-9._-]*$/, NAME);
const PYTHON = 'must be a Python minor version such as "3.12"';

/**
 * Nx's command line reads `--python=3.11` as the number 3.11, and 3.10 as 3.1: a number is taken back to
 * text, and 3.1 read as 3.10 (Python 3.1 has no torch, so nobody means it).
 */
const pythonVersion = z.preprocess(
  (v) => (typeof v === 'number' ? (String(v) === '3.1' ? '3.10' : String(v)) : v),
  z.string(PYTHON).regex(/^3\.\d{1,2}$/, PYTHON),
);

export const PRESETS = ['unified', 'isa-variants', 'none'] as const;

export const initOptionsSchema = z.strictObject({
  repository: z.string().min(1, 'must be a git URL or a local path').default(DEFAULT_REPOSITORY),
  ref: z.string().min(1, 'must name a tag or branch, e.g. "v0.16.0"').optional(),
  source: projectName.default('vllm'),
  python: pythonVersion.default('3.12'),
  torchIndexUrl: z.string().regex(/^(https?|file):\/\//, 'must be an http(s):// or file:// URL').optional(),
  preset: z.enum(PRESETS, `must be one of ${PRESETS.join(', ')}`).default('unified'),
  force: z.boolean().default(false),
});
export type InitOptions = z.output<typeof initOptionsSchema>;

export const variantOptionsSchema = z
  .strictObject({
    source: projectName.optional(),
    name: projectName.optional(),
    arch: z.enum(ISA_ARCHS, `must be one of ${ISA_ARCHS.join(', ')}`).default('x86_64'),
    isa: z.enum(CPU_ISAS, `must be one of ${CPU_ISAS.join(', ')}`),
    family: z.enum(FAMILIES, `must be one of ${FAMILIES.join(', ')}`).optional(),
    flat: z.boolean().default(false),
    description: z.string().optional(),
    force: z.boolean().default(false),
  })
  .superRefine((v, ctx) => {
    const levels: readonly string[] = CPU_ISAS_BY_ARCH[v.arch];
    if (!levels.includes(v.isa)) ctx.addIssue({ code: 'custom', path: ['isa'], message: `must be one of ${levels.join(', ')} (arch "${v.arch}")` });
  });
export type VariantOptions = z.output<typeof variantOptionsSchema>;

export const importOptionsSchema = z.strictObject({
  buildConfig: z.string().min(1, 'must be the path of the old builder\'s build_config.json'),
  source: projectName.optional(),
  force: z.boolean().default(false),
});
export type ImportOptions = z.output<typeof importOptionsSchema>;
