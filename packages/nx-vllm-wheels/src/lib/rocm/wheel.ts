import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { replaceDirAtomic } from '../fs';
import { findRawWheel, inflateLimits, metadataHeaders, readme, versionInputs } from '../pipeline/normalize';
import { rawDir, wheelsDir, type StepContext } from '../pipeline/context';
import { applyVersionPolicy } from '../pipeline/version';
import { BUILD_INFO_FILE, rawBuildInfoSchema } from '../pipeline/raw-build-info';
import { parseConfigFile } from '../../config/parse';
import { VllmWheelsError } from '../errors';
import { formatPlannedCommand } from '../process';
import { ensureToolsVenv } from '../tools';
import { analyzePlatform, analyzePlatformCommand, choosePlatformTag, formatWheelFileName, parseWheelFileName, renameWheel } from '../wheel';
import { z } from 'zod';
import { rocmAnalysisExcludes } from './audit';
import { requiresDistWithBaseSet } from './base-set-requirements';
import type { RocmVariantSpec } from './build';

/**
 * `<rocm variant>:wheel`: the raw ROCm `vllm-…+rocm710` wheel becomes the variant's distribution, the CPU
 * wheel step's way (renameWheel: every member checked against RECORD first, renamed everywhere, the README
 * as long description, wheel.json's metadata), versioned by wheel.json's policy (the default strips the
 * `+rocm…`/`+git…` local label, as the base wheels' are stripped) and tagged with the honest manylinux tag
 * of auditwheel's analysis with torch's, ROCm's and the variant's system libraries excluded. No CPU platform
 * plugin and no ISA audit: the kernels are GPU code.
 */
export async function normalizeRocmVariant(variant: RocmVariantSpec, ctx: StepContext): Promise<string | undefined> {
  const inDir = rawDir(ctx, variant.name);
  const outDir = wheelsDir(ctx, variant.name);
  const exclude = rocmAnalysisExcludes(variant.config.systemLibraries);
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: ctx.dryRun });
  if (ctx.dryRun) {
    const built = existsSync(inDir);
    if (!built) ctx.log.info(`[dry-run] ${inDir} does not exist yet (\`nx run ${variant.name}:build\` writes it): its wheel's name is a placeholder below.`);
    const input = built ? findRawWheel(inDir, variant.name) : join(inDir, '<raw wheel>.whl');
    const raw = built ? parseWheelFileName(input) : undefined;
    const version = raw ? applyVersionPolicy(raw.version, variant.config.version, versionInputs(readRawBuildInfoLoose(inDir, variant.name), inDir)) : '<version>';
    ctx.log.info(formatPlannedCommand({ ...analyzePlatformCommand({ wheel: input, toolsPython: tools.python, exclude }), env: {} }));
    const output = formatWheelFileName({
      distribution: variant.config.distribution,
      version,
      pythonTag: raw?.pythonTag ?? '<python tag>',
      abiTag: raw?.abiTag ?? '<abi tag>',
      platformTag: variant.config.platformTag === 'auto' ? '<platform tag>' : variant.config.platformTag,
    });
    ctx.log.info(`[dry-run] would write ${join(outDir, output)} (<temp dir> replaces ${outDir} as a whole)`);
    return undefined;
  }
  const input = findRawWheel(inDir, variant.name);
  const info = readRawBuildInfoLoose(inDir, variant.name);
  const raw = parseWheelFileName(input);
  const version = applyVersionPolicy(raw.version, variant.config.version, versionInputs(info, inDir));
  const { distribution } = variant.config;
  ctx.log.step(`${variant.name}: checking ${basename(input)} (names, modes, sizes, tags, every member against RECORD)`);
  const requiresDist = await requiresDistWithBaseSet(input, info.baseWheels);
  if (info.baseWheels.length) ctx.log.info(`${variant.name}: requires the base set it was built against: ${info.baseWheels.map((b) => `${b.distribution}==${b.version}`).join(', ')}`);
  let written = '';
  await replaceDirAtomic(outDir, async (tmp) => {
    const result = await renameWheel({
      input,
      outputDir: tmp,
      distribution,
      version,
      metadataUpdates: { ...metadataHeaders(variant), 'Requires-Dist': requiresDist },
      description: { text: readme(ctx, variant), contentType: 'text/markdown' },
      // auditwheel reads the raw wheel with Python's zipfile: only once our own checks have passed.
      platformTag: async () => {
        ctx.log.step(`${variant.name}: platform tag (auditwheel; torch's and ROCm's libraries${variant.config.systemLibraries.length ? ` and ${variant.config.systemLibraries.join(', ')}` : ''} excluded)`);
        const analysis = await analyzePlatform({ wheel: input, toolsPython: tools.python, exclude, env: ctx.env, timeoutMs: 10 * 60_000 });
        const tag = choosePlatformTag(analysis, variant.config.platformTag);
        for (const warning of tag.warnings) ctx.log.warn(warning);
        for (const lib of analysis.excluded) ctx.log.info(`  ${lib.soname}: excluded (from ROCm or torch at run time)`);
        ctx.log.step(`${variant.name}: ${raw.distribution} ${raw.version} -> ${distribution} ${version}, ${tag.tag}`);
        return tag.platformTags;
      },
      limits: inflateLimits(variant),
      sourceDateEpoch: info.sourceDateEpoch,
    });
    written = result.fileName;
  });
  ctx.log.info(`Wheel: ${join(outDir, written)}`);
  return join(outDir, written);
}

/** The ROCm build's record (build-info.json): its timestamp and the base set it was compiled against (no build family: there is no ISA audit). */
const rocmBuildInfoSchema = rawBuildInfoSchema
  .pick({ sourceDateEpoch: true })
  .extend({ baseWheels: z.array(z.object({ distribution: z.string(), version: z.string() }), 'must list the base wheels the build was compiled against').default([]) })
  .loose();

function readRawBuildInfoLoose(dir: string, variant: string): z.output<typeof rocmBuildInfoSchema> {
  const file = join(dir, BUILD_INFO_FILE);
  if (!existsSync(file)) throw new VllmWheelsError(`${file} is missing: \`nx run ${variant}:build\` writes it beside the raw wheel. Run the build again.`);
  return parseConfigFile(rocmBuildInfoSchema, file);
}
