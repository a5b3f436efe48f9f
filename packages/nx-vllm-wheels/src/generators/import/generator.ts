import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { logger, type Tree } from '@nx/devkit';
import { parseConfigText } from '../../config';
import { familyFromMirror, importOptionsSchema, jsonText, readBuildConfig, torchConfig, type Family, type ImportedBuildConfig, type ImportOptions } from '../../lib/adoption';
import { machineCache } from '../../lib/cache-dir';
import { ConfigError } from '../../lib/errors';
import { consoleLogger } from '../../lib/log';
import { SOURCE_MIRROR } from '../../lib/pipeline/source';
import { pickSource, writeVariant } from '../variant/generator';

export type ImportGeneratorOptions = Partial<ImportOptions> & { buildConfig: string };
const TORCH_FILE = 'packages/torch-cpu/torch.json';

export const parseImportOptions = (raw: ImportGeneratorOptions): ImportOptions =>
  parseConfigText(importOptionsSchema, 'nx g nx-vllm-wheels:import options', JSON.stringify(raw ?? {}));

/** The build_config.json text: a workspace path from the tree, any other path from the disk. */
export function readBuildConfigText(tree: Tree, path: string): string {
  if (!isAbsolute(path) && tree.exists(path)) return tree.read(path, 'utf8') ?? '';
  const onDisk = isAbsolute(path) ? path : join(tree.root, path);
  if (!existsSync(onDisk)) throw new ConfigError(`--buildConfig=${path}: no such file (looked at ${onDisk}).`);
  return readFileSync(onDisk, 'utf8');
}

/** torch.json's python and index from build_config; an existing torch.json that differs is changed only with --force (its other fields kept). */
function writeTorch(tree: Tree, imported: ImportedBuildConfig, force: boolean): string {
  const wanted = { ...(imported.python ? { python: imported.python } : {}), ...(imported.torchIndexUrl ? { torchIndexUrl: imported.torchIndexUrl } : {}) };
  if (!tree.exists(TORCH_FILE)) {
    tree.write(TORCH_FILE, jsonText(torchConfig(imported.python ?? '3.12', imported.torchIndexUrl)));
    return `${TORCH_FILE}: created`;
  }
  const existing = JSON.parse(tree.read(TORCH_FILE, 'utf8') ?? '{}') as Record<string, unknown>;
  const differing = Object.entries(wanted).filter(([k, v]) => existing[k] !== v);
  if (!differing.length) return `${TORCH_FILE}: up to date`;
  const what = differing.map(([k, v]) => `${k} ${JSON.stringify(existing[k])} (build_config: ${JSON.stringify(v)})`).join(', ');
  if (!force) return `${TORCH_FILE}: ${what}; left as it is (--force sets build_config's values)`;
  tree.write(TORCH_FILE, jsonText({ ...existing, ...wanted }));
  return `${TORCH_FILE}: set ${differing.map(([k]) => k).join(', ')} from build_config`;
}

/**
 * Writes the old builder's variants into the source's folder and its defaults into torch.json. Every
 * variant is checked before the generator returns: one that cannot be built from this source fails the
 * whole import, and Nx then writes nothing.
 */
export function writeImport(tree: Tree, options: ImportOptions, imported: ImportedBuildConfig, fromCommit?: Family): string[] {
  const lines = [writeTorch(tree, imported, options.force)];
  const problems: string[] = [];
  for (const variant of imported.variants) {
    try {
      lines.push(
        ...writeVariant(tree, { isa: variant.isa, name: variant.name, description: variant.description, source: options.source, arch: 'x86_64', flat: false, force: options.force }, fromCommit).filter(
          (l) => !l.startsWith('Family '),
        ),
      );
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(`variants.${variant.name} (isa ${variant.isa}): ${e.message}`);
    }
  }
  if (problems.length) throw new ConfigError(`${options.buildConfig}: ${problems.length} variant(s) cannot be imported, nothing was written:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  if (imported.notes.length) lines.push(`Not mapped from ${options.buildConfig}:`, ...imported.notes.map((n) => `  - ${n}`));
  return lines;
}

/** `nx g nx-vllm-wheels:import --buildConfig=build_config.json`: the previous bash builder's variants as projects. */
export default async function importGenerator(tree: Tree, rawOptions: ImportGeneratorOptions): Promise<void> {
  const options = parseImportOptions(rawOptions);
  const imported = readBuildConfig(options.buildConfig, readBuildConfigText(tree, options.buildConfig));
  const source = pickSource(tree, options.source);
  const env = { ...process.env };
  const fromCommit = await familyFromMirror(machineCache(env).mirror(SOURCE_MIRROR), source.config.commit, env, consoleLogger);
  for (const line of writeImport(tree, { ...options, source: source.name }, imported, fromCommit)) logger.info(line);
}
