import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, VllmWheelsError } from '../errors';
import { replaceDirAtomic, writeFileAtomic } from '../fs';
import { assertAuditOk, auditWheel } from '../isa';
import { ensureToolsVenv } from '../tools';
import { analyzePlatform, choosePlatformTag, parseWheelFileName, renameWheel, TORCH_LIBRARY_EXCLUDES, type PlatformTagPolicy } from '../wheel';
import { cpuPlatformPlugin } from './cpu-platform-plugin';
import { rawDir, wheelsDir, type StepContext, type VariantSpec } from './context';
import { applyVersionPolicy } from './version';

function findRawWheel(dir: string, variant: string): string {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.whl'));
  } catch {
    files = [];
  }
  if (files.length !== 1) {
    throw new VllmWheelsError(`Expected exactly one raw wheel in ${dir}, found ${files.length}. Run \`nx run ${variant}:build\` first.`);
  }
  return join(dir, files[0]);
}

function readSourceDateEpoch(dir: string): number | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dir, 'build-info.json'), 'utf8')) as { sourceDateEpoch?: number };
    return info.sourceDateEpoch;
  } catch {
    return undefined;
  }
}

/**
 * `<variant>:wheel`: the raw `vllm-…` wheel becomes the variant's distribution, in one streaming pass:
 * renamed everywhere it appears, versioned by wheel.json's policy, tagged with the honest manylinux
 * tag (auditwheel's analysis, torch's libraries excluded), its README as the long description, and a
 * vLLM platform plugin so the CPU platform survives the rename. Then the ISA audit: the report goes
 * beside the wheel, and a library above the declared ISA fails the step with nothing written.
 */
export async function normalizeVariant(variant: VariantSpec, ctx: StepContext): Promise<string | undefined> {
  const outDir = wheelsDir(ctx, variant.name);
  if (ctx.dryRun && !existsSync(rawDir(ctx, variant.name))) {
    ctx.log.info(`[dry-run] would rename the raw wheel in ${rawDir(ctx, variant.name)} to ${variant.config.distribution}, tag, audit it, and write ${outDir}`);
    return undefined;
  }
  const input = findRawWheel(rawDir(ctx, variant.name), variant.name);
  const raw = parseWheelFileName(input);
  const version = applyVersionPolicy(raw.version, variant.config.version);
  const { distribution, isa } = variant.config;
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: ctx.dryRun });
  if (ctx.dryRun) {
    ctx.log.info(`[dry-run] would analyze ${input} with auditwheel (${tools.python}), rename it to ${distribution} ${version}, audit its ISA against ${isa}, and write ${outDir}`);
    return undefined;
  }

  ctx.log.step(`${variant.name}: platform tag (auditwheel; torch's libraries and ${variant.config.systemLibraries.join(', ') || 'no system libraries'} excluded)`);
  const analysis = await analyzePlatform({
    wheel: input,
    toolsPython: tools.python,
    exclude: [...TORCH_LIBRARY_EXCLUDES, ...variant.config.systemLibraries],
    env: ctx.env,
    timeoutMs: 10 * 60_000,
  });
  const tag = choosePlatformTag(analysis, variant.config.platformTag as PlatformTagPolicy);
  for (const warning of tag.warnings) ctx.log.warn(warning);

  const plugin = cpuPlatformPlugin(distribution, isa);
  const [group, name, value] = plugin.entryPoint;
  ctx.log.step(`${variant.name}: ${raw.distribution} ${raw.version} -> ${distribution} ${version}, ${tag.tag}`);
  let written = '';
  await replaceDirAtomic(outDir, async (tmp) => {
    const result = await renameWheel({
      input,
      outputDir: tmp,
      distribution,
      version,
      metadataUpdates: metadataHeaders(variant),
      description: { text: readme(ctx, variant), contentType: 'text/markdown' },
      addMembers: [{ path: plugin.member, data: plugin.source }],
      entryPoints: { [group]: { [name]: value } },
      platformTag: tag.platformTags,
      sourceDateEpoch: readSourceDateEpoch(rawDir(ctx, variant.name)),
    });
    written = result.fileName;
    ctx.log.step(`${variant.name}: ISA audit (declared ${isa})`);
    const report = await auditWheel({ wheel: result.path, declared: isa, env: ctx.env, timeoutMs: 30 * 60_000 });
    writeFileAtomic(join(tmp, `${result.fileName}.isa-audit.json`), `${JSON.stringify(report, null, 2)}\n`);
    assertAuditOk(report);
    for (const lib of report.libraries) ctx.log.info(`  ${lib.path}: highest ${lib.highest ?? 'baseline x86-64'}`);
  });
  ctx.log.info(`Wheel: ${join(outDir, written)}`);
  return join(outDir, written);
}

function metadataHeaders(variant: VariantSpec): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const { summary, keywords, urls } = variant.config.metadata;
  if (summary) headers.Summary = summary;
  if (keywords.length) headers.Keywords = keywords.join(',');
  if (Object.keys(urls).length) headers['Project-URL'] = Object.entries(urls).map(([label, url]) => `${label}, ${url}`);
  return headers;
}

/** The variant's README.md (beside wheel.json) is its long description on PyPI. */
function readme(ctx: StepContext, variant: VariantSpec): string {
  const file = resolve(ctx.workspaceRoot, dirname(variant.configFile), 'README.md');
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${join(dirname(variant.configFile), 'README.md')} is missing: each variant's README is its long description on PyPI.`);
  }
}
