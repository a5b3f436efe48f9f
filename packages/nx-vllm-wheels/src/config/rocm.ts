import { z } from 'zod';
import { indexUrlSchema } from './torch';
import { relativePathSchema } from './vllm';
import {
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_INFLATED_GIB,
  DISTRIBUTION,
  envSchemaWith,
  inflateLimitsSchema,
  metadataSchema,
  PYPI_DEFAULT_MAX_FILE_SIZE_MIB,
  PYPI_UPLOAD_URL,
  publishSchema,
  SONAME,
  SOURCE,
  SYSTEM_LIBRARY,
  versionSchema,
  wheelhouseSchema,
} from './wheel';

/** The wheels a ROCm base-wheel build gives, which vLLM for ROCm is built and installed against. */
export const DEFAULT_BASE_WHEELS = ['torch', 'triton', 'torchvision', 'amdsmi'] as const;

const PYTHON = 'must be a Python minor version as a string, such as "3.12"';
const ROCM_VERSION = 'must be a ROCm version as a string, such as "7.1" or "7.1.1"';
/** LLVM's AMDGPU processor names (gfx90a, gfx942, gfx1100), optionally with target features (gfx90a:xnack+). */
const GPU_ARCH = 'must be an AMD GPU architecture such as "gfx942", "gfx90a" or "gfx1100" (LLVM processor names; features as in "gfx90a:xnack+")';
const GFX = /^gfx[0-9]{2,3}[0-9a-f](:(xnack|sramecc)[+-])*$/;
const NAME = 'must be a distribution name such as "torch" or "pytorch-triton-rocm"';
const COMMAND = 'must be the command and its arguments as a JSON array of strings, e.g. ["bash", "build-base-wheels.sh"]';
const URL = 'must be an http(s):// or file:// URL of a page that links the wheel files (a PEP 503 project page, a directory listing)';
const SOURCES = 'exactly one of "command", "directory" or "url" says where the base wheels come from';

/**
 * Where the base wheels come from: a command that builds them (typically a ROCm container on a
 * self-hosted runner; it writes the wheels into $VLLM_WHEELS_BASE_WHEELS_OUT), a directory of the
 * project holding them, or a URL linking them. Whichever: their `+git…` local versions are stripped.
 */
const baseWheelsSchema = z
  .strictObject({
    command: z.array(z.string(COMMAND).min(1, COMMAND), COMMAND).min(1, COMMAND).optional(),
    timeoutMinutes: z.number('must be a positive number of minutes').positive('must be a positive number of minutes').default(360),
    directory: relativePathSchema.optional(),
    url: z.string(URL).refine((u) => /^(https?|file):\/\/\S+$/.test(u), { message: URL }).optional(),
    distributions: z
      .array(z.string(NAME).regex(/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/, NAME))
      .min(1, 'must list at least one distribution')
      .refine((names) => new Set(names.map((n) => n.toLowerCase().replace(/[-_.]+/g, '-'))).size === names.length, 'must not list a distribution twice')
      .default([...DEFAULT_BASE_WHEELS]),
  })
  .superRefine((v, ctx) => {
    const given = (['command', 'directory', 'url'] as const).filter((k) => v[k] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', path: given.length ? [given[1]] : [], message: given.length ? `${SOURCES}, not ${given.map((g) => `"${g}"`).join(' and ')}` : SOURCES });
  });

/**
 * `packages/<name>/rocm.json`: the ROCm build environment (ROCm version, GPU architectures, python) and
 * where its base wheels (torch, triton, torchvision, amdsmi built for it) come from.
 */
export const rocmConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  device: z.enum(['rocm'], 'must be "rocm": rocm.json is a ROCm build environment (the CPU one is torch.json)'),
  rocmVersion: z.string(ROCM_VERSION).regex(/^\d+\.\d+(\.\d+)?$/, ROCM_VERSION),
  gpuArchs: z
    .array(z.string(GPU_ARCH).regex(GFX, GPU_ARCH), 'must be a JSON array of AMD GPU architectures, e.g. ["gfx942"]')
    .min(1, 'must list at least one GPU architecture, e.g. ["gfx942"]')
    .refine((archs) => new Set(archs).size === archs.length, 'must not list an architecture twice'),
  python: z.string(PYTHON).regex(/^3\.\d{1,2}$/, PYTHON),
  baseWheels: baseWheelsSchema,
  /** Where the ROCm variants' dependencies come from (PyPI by default); the base wheels are never taken from them. */
  indexUrl: indexUrlSchema.optional(),
  extraIndexUrls: z.array(indexUrlSchema).default([]),
});

export type RocmConfig = z.output<typeof rocmConfigSchema>;

/** Fields of rocm.json that decide every ROCm build (the GPU archs and the ROCm version are build inputs). */
export const ROCM_BUILD_FIELDS = ['device', 'rocmVersion', 'gpuArchs', 'python'] as const satisfies readonly (keyof RocmConfig)[];

/** Fields of rocm.json that decide a ROCm variant's wheelhouse (with the base wheels' files): its interpreter and where dependencies come from. */
export const ROCM_RESOLUTION_FIELDS = ['python', 'indexUrl', 'extraIndexUrls'] as const satisfies readonly (keyof RocmConfig)[];

/** What decides the base wheels: the environment and where they come from (Nx's dotted fields); not the command's timeout. */
export const ROCM_BASE_WHEELS_FIELDS = [...ROCM_BUILD_FIELDS, 'baseWheels.command', 'baseWheels.directory', 'baseWheels.url', 'baseWheels.distributions'] as const;

const PLATFORM_TAG = 'must be "auto", "linux_x86_64" or "manylinux_X_Y_x86_64"';

/**
 * `packages/<variant>/wheel.json` with `"device": "rocm"`: vLLM for ROCm, built with
 * `VLLM_TARGET_DEVICE=rocm` and `PYTORCH_ROCM_ARCH` from rocm.json's gpuArchs, against its base wheels.
 */
export const rocmWheelConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  distribution: z.string(DISTRIBUTION).regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, DISTRIBUTION),
  source: z.string(SOURCE).regex(/^[A-Za-z0-9][\w.-]*$/, SOURCE).optional(),
  device: z.enum(['rocm'], 'must be "rocm"'),
  arch: z.enum(['x86_64'], 'must be "x86_64" (ROCm wheels are built for x86_64)').default('x86_64'),
  env: envSchemaWith(
    {
      PYTORCH_ROCM_ARCH: 'it is set from rocm.json "gpuArchs" (a build input)',
      ROCM_PATH: 'it is the ROCm installation of the build machine (set ROCM_PATH in the environment of `nx`)',
      ROCM_HOME: 'it is the ROCm installation of the build machine (set ROCM_PATH in the environment of `nx`)',
    },
    '{ "VLLM_ROCM_USE_AITER": "1" }',
  ).default({}),
  version: versionSchema.default({ local: 'strip' }),
  platformTag: z.string(PLATFORM_TAG).regex(/^(auto|linux_x86_64|manylinux_\d+_\d+_x86_64)$/, PLATFORM_TAG).default('auto'),
  metadata: metadataSchema.default({ keywords: [], urls: {} }),
  systemLibraries: z.array(z.string(SYSTEM_LIBRARY).regex(SONAME, SYSTEM_LIBRARY)).default([]),
  inflateLimits: inflateLimitsSchema.default({ maxInflatedGiB: DEFAULT_MAX_INFLATED_GIB, maxCompressionRatio: DEFAULT_MAX_COMPRESSION_RATIO }),
  publish: publishSchema.default({ repositoryUrl: PYPI_UPLOAD_URL, maxFileSizeMiB: PYPI_DEFAULT_MAX_FILE_SIZE_MIB }),
  wheelhouse: wheelhouseSchema.default({}),
});

export type RocmWheelConfig = z.output<typeof rocmWheelConfigSchema>;

export const ROCM_WHEEL_BUILD_FIELDS = ['distribution', 'source', 'device', 'arch', 'env'] as const satisfies readonly (keyof RocmWheelConfig)[];

/** Fields of a ROCm wheel.json the `wheel` step reads besides the build's (as the CPU wheel's WHEEL_NORMALIZE_FIELDS). */
export const ROCM_WHEEL_NORMALIZE_FIELDS = ['version', 'platformTag', 'metadata', 'systemLibraries', 'inflateLimits'] as const satisfies readonly (keyof RocmWheelConfig)[];

/** Whether a wheel.json's text asks for the ROCm schema (`"device": "rocm"`); invalid JSON is the CPU schema's to report. */
export function isRocmWheelConfigText(text: string): boolean {
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === 'object' && json !== null && (json as { device?: unknown }).device === 'rocm';
  } catch {
    return false;
  }
}
