import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseConfigFile } from '../../config/parse';
import { BUILD_FAMILIES } from '../build/commit-profile';
import { VllmWheelsError } from '../errors';
import { ACL_DISPATCHED, UNIFIED_X86_DISPATCH, type CpuIsa, type DispatchedCode, type LibraryCeiling } from '../isa/model';
import type { VariantSpec } from './context';

export const BUILD_INFO_FILE = 'build-info.json';

/**
 * What the `wheel` step reads of the record `build` writes beside the raw wheel (dist/raw/<variant>): the
 * build family of the commit it was built from and its timestamp. It travels with the raw wheel through
 * Nx's caches, so the wheel step never needs the vLLM mirror (a remote cache hit for `build` leaves none).
 */
export const rawBuildInfoSchema = z.looseObject({
  family: z.enum(BUILD_FAMILIES, `must be one of ${BUILD_FAMILIES.join(', ')}: the build family of the vLLM commit the raw wheel was built from, which decides the ISA audit's rules`),
  libraries: z
    .array(z.string('must be an extension library name such as "_C_AVX512"'), 'must be the list of the extension libraries vLLM picks from at run time')
    .optional()
    .describe('the dispatch libraries the commit builds (vLLM 0.17.0: _C, _C_AVX2; later: also _C_AVX512); absent: all three'),
  sourceDateEpoch: z.number('must be a number of seconds since 1970').int('must be a whole number of seconds').nonnegative('must not be negative').optional(),
});
export type RawBuildInfo = z.output<typeof rawBuildInfoSchema>;

/** The build record in `dir`; an error naming the file (and the field) when it is missing or invalid. */
export function readRawBuildInfo(dir: string, variant: string): RawBuildInfo {
  const file = join(dir, BUILD_INFO_FILE);
  if (!existsSync(file)) {
    throw new VllmWheelsError(`${file} is missing: \`nx run ${variant}:build\` writes it beside the raw wheel, and the wheel step takes the build family (which ISA rules the audit applies) from it. Run the build again.`);
  }
  return parseConfigFile(rawBuildInfoSchema, file);
}

export interface AuditRules {
  /** The variant's level: the ceiling of every library no dispatch rule names, and a floor. */
  declared: CpuIsa;
  dispatch: readonly LibraryCeiling[];
  /** Code counted apart because it picks its instructions at run time (aarch64: the Arm Compute Library). */
  dispatchedCode?: readonly DispatchedCode[];
  /** One line for the log. */
  description: string;
}

/**
 * The ISA audit's rules for a raw wheel, by the family of the commit it was built from: vLLM >= 0.17 on
 * x86_64 picks `_C`, `_C_AVX512` or `_C_AVX2` at run time (each its own ceiling and floor), so its wheel is
 * audited with UNIFIED_X86_DISPATCH; an ISA variant holds one `_C` and everything is held to its `isa`.
 */
export function auditRules(info: Pick<RawBuildInfo, 'family' | 'libraries'>, variant: VariantSpec): AuditRules {
  const { isa, arch } = variant.config;
  const { family } = info;
  if (family === 'unified' && arch === 'x86_64') {
    // A library the commit does not build (0.17.0 has no _C_AVX512) is not required; one it builds is.
    const dispatch = UNIFIED_X86_DISPATCH.filter((r) => !info.libraries || r.name === undefined || info.libraries.includes(r.name));
    const rules = dispatch.map((r) => `${r.library} <= ${r.max}${r.min && r.min !== r.max ? ` (>= ${r.min})` : ''}`).join(', ');
    return { declared: isa, dispatch, description: `${family} build: ${rules}, every other library <= ${isa}` };
  }
  if (arch === 'aarch64') {
    // vLLM links the Arm Compute Library into _C on aarch64 (both families); its kernels are chosen at run time.
    return {
      declared: isa,
      dispatch: [],
      dispatchedCode: [ACL_DISPATCHED],
      description: `${family} build: every library <= ${isa}, and one reaches it; the ${ACL_DISPATCHED.name} picks its kernels at run time and is counted apart`,
    };
  }
  return { declared: isa, dispatch: [], description: `${family} build: every library <= ${isa}, and one reaches it` };
}
