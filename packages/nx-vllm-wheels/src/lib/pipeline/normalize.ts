import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VllmWheelsError } from '../errors';
import { replaceDirAtomic } from '../fs';
import { parseWheelFileName, renameWheel } from '../wheel';
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
 * `<variant>:wheel`: the raw `vllm-…` wheel renamed to the variant's distribution everywhere it
 * appears, with wheel.json's version policy and metadata, into dist/wheels/<variant>.
 */
export async function normalizeVariant(variant: VariantSpec, ctx: StepContext): Promise<string | undefined> {
  if (ctx.dryRun && !existsSync(rawDir(ctx, variant.name))) {
    ctx.log.info(`[dry-run] would rename the raw wheel in ${rawDir(ctx, variant.name)} to ${variant.config.distribution} into ${wheelsDir(ctx, variant.name)}`);
    return undefined;
  }
  const input = findRawWheel(rawDir(ctx, variant.name), variant.name);
  const raw = parseWheelFileName(input);
  const version = applyVersionPolicy(raw.version, variant.config.version);
  const outDir = wheelsDir(ctx, variant.name);
  const metadataUpdates: Record<string, string | string[]> = {};
  const { summary, keywords, urls } = variant.config.metadata;
  if (summary) metadataUpdates.Summary = summary;
  if (keywords.length) metadataUpdates.Keywords = keywords.join(',');
  if (Object.keys(urls).length) metadataUpdates['Project-URL'] = Object.entries(urls).map(([label, url]) => `${label}, ${url}`);
  ctx.log.step(`${variant.name}: ${raw.distribution} ${raw.version} -> ${variant.config.distribution} ${version}`);
  if (ctx.dryRun) {
    ctx.log.info(`[dry-run] would write ${outDir}/<${variant.config.distribution.replace(/-/g, '_')}-${version}-…>.whl from ${input}`);
    return undefined;
  }
  let written = '';
  await replaceDirAtomic(outDir, async (tmp) => {
    const result = await renameWheel({
      input,
      outputDir: tmp,
      distribution: variant.config.distribution,
      version,
      metadataUpdates,
      sourceDateEpoch: readSourceDateEpoch(rawDir(ctx, variant.name)),
    });
    written = result.fileName;
  });
  ctx.log.info(`Wheel: ${join(outDir, written)}`);
  return join(outDir, written);
}
