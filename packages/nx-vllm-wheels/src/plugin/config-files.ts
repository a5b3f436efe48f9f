import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  indexConfigSchema,
  isRocmWheelConfigText,
  parseConfigFile,
  parseConfigText,
  rocmConfigSchema,
  rocmWheelConfigSchema,
  torchConfigSchema,
  vllmConfigSchema,
  wheelConfigSchema,
  type IndexConfig,
  type RocmConfig,
  type RocmWheelConfig,
  type TorchConfig,
  type VllmConfig,
  type WheelConfig,
} from '../config';
import { CONFIG_GLOB, configLocation } from '../config/layout';
import { ConfigError } from '../lib/errors';

export { CONFIG_GLOB };

export interface Found<T> {
  /** Workspace-relative path of the config file. */
  file: string;
  /** Project root (the file's folder) = project name's source. */
  root: string;
  name: string;
  config: T;
}

/** A variant and the name of the source it builds from (its folder's, its "source", or the only one). */
export interface FoundVariant extends Found<WheelConfig> {
  source: string;
}

/** A ROCm variant (wheel.json with "device": "rocm") and its source. */
export interface FoundRocmVariant extends Found<RocmWheelConfig> {
  source: string;
}

export interface WorkspaceConfigs {
  /** The valid vLLM sources, by project name. */
  sources: Found<VllmConfig>[];
  torch?: Found<TorchConfig>;
  /** The ROCm build environment (rocm.json). */
  rocm?: Found<RocmConfig>;
  /** The valid variants whose source is valid. */
  variants: FoundVariant[];
  /** The valid ROCm variants whose source is valid. */
  rocmVariants: FoundRocmVariant[];
  /** Every CPU variant folder, valid or not: the index's members when index.json lists none. */
  variantNames: string[];
  indexes: Found<IndexConfig>[];
}

/** Each config file's problems (workspace-relative path -> messages naming the file and field). */
export type ConfigProblems = Map<string, string[]>;

/**
 * Reads and validates every config file, collecting every problem of every file by file: a broken
 * file is left out (and reported), the others are returned, so one bad wheel.json does not hide the
 * rest of the workspace. Which projects a broken file takes with it is for inference to say.
 */
export function readWorkspaceConfigs(files: readonly string[], workspaceRoot: string): { configs: WorkspaceConfigs; problems: ConfigProblems } {
  const problems: ConfigProblems = new Map();
  const report = (file: string, message: string) => problems.set(file, [...(problems.get(file) ?? []), message]);
  const out: WorkspaceConfigs = { sources: [], variants: [], rocmVariants: [], variantNames: [], indexes: [] };
  const torches: Found<TorchConfig>[] = [];
  const rocms: Found<RocmConfig>[] = [];
  const parsedVariants: (Found<WheelConfig> & { sourceFolder?: string })[] = [];
  const parsedRocmVariants: (Found<RocmWheelConfig> & { sourceFolder?: string })[] = [];
  const sorted = [...files].sort();
  const located = sorted.map((file) => ({ file, ...configLocation(file) }));
  const sourceFiles = located.filter((l) => l.kind === 'vllm');
  for (const { file, kind, root, name, folder, sourceFolder } of located) {
    try {
      const abs = join(workspaceRoot, file);
      const rocmVariant = kind === 'wheel' && isRocmWheelConfigText(readText(abs));
      if (kind === 'wheel' && !rocmVariant) out.variantNames.push(name);
      switch (kind) {
        case 'vllm':
          out.sources.push({ file, root, name, config: parseConfigFile(vllmConfigSchema, abs, file) });
          break;
        case 'torch':
          torches.push({ file, root, name, config: parseConfigFile(torchConfigSchema, abs, file) });
          break;
        case 'rocm':
          rocms.push({ file, root, name, config: parseConfigFile(rocmConfigSchema, abs, file) });
          break;
        case 'wheel': {
          if (rocmVariant) {
            const config = parseConfigText(rocmWheelConfigSchema, file, readText(abs));
            checkDistributionFolder(file, folder, config);
            parsedRocmVariants.push({ file, root, name, config, sourceFolder });
            break;
          }
          const config = parseConfigFile(wheelConfigSchema, abs, file);
          checkDistributionFolder(file, folder, config);
          parsedVariants.push({ file, root, name, config, sourceFolder });
          break;
        }
        case 'index':
          out.indexes.push({ file, root, name, config: parseConfigFile(indexConfigSchema, abs, file) });
          break;
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      report(file, e.message);
    }
  }
  const kinds = (kind: string) => located.filter((l) => l.kind === kind).map((l) => l.file);
  if (kinds('torch').length > 1) {
    for (const f of kinds('torch')) report(f, `Only one torch.json may exist in a workspace; found ${kinds('torch').join(', ')}.`);
  } else [out.torch] = torches;
  if (kinds('rocm').length > 1) {
    for (const f of kinds('rocm')) report(f, `Only one rocm.json may exist in a workspace for now; found ${kinds('rocm').join(', ')}.`);
  } else [out.rocm] = rocms;
  // An index over ROCm variants only is a ROCm index, built into dist/rocm-index/<project>: the one-index
  // rule is the CPU index's (dist/index).
  const rocmNames = parsedRocmVariants.map((v) => v.name);
  const isRocmIndex = (i: WorkspaceConfigs['indexes'][number]) => !!i.config.variants?.length && i.config.variants.every((v) => rocmNames.includes(v));
  // One naming a ROCm variant among CPU ones is refused below, for what it is.
  const cpuIndexes = out.indexes.filter((i) => !i.config.variants?.some((v) => rocmNames.includes(v))).map((i) => i.file);
  if (cpuIndexes.length > 1) {
    for (const f of cpuIndexes) {
      report(
        f,
        `Only one index.json of CPU variants may exist in a workspace (its index is built into dist/index); found ${cpuIndexes.join(', ')}. ` +
          'Keep one, and list the variants it indexes in its "variants" field.',
      );
    }
    out.indexes = out.indexes.filter((i) => !cpuIndexes.includes(i.file));
  }
  const sourceNames = sourceFiles.map((s) => s.name).sort();
  for (const variant of parsedVariants) {
    const source = variantSource(variant, sourceNames);
    if ('problem' in source) report(variant.file, source.problem);
    else out.variants.push({ ...variant, source: source.name });
    if (!kinds('torch').length) report(variant.file, `${variant.file} needs a build environment: add packages/torch-cpu/torch.json.`);
  }
  for (const variant of parsedRocmVariants) {
    const source = variantSource(variant, sourceNames);
    if ('problem' in source) report(variant.file, source.problem);
    else out.rocmVariants.push({ ...variant, source: source.name });
    if (!kinds('rocm').length) report(variant.file, `${variant.file} is a ROCm variant ("device": "rocm") and needs a ROCm build environment: add packages/rocm/rocm.json.`);
  }
  for (const index of out.indexes) {
    if (isRocmIndex(index)) continue;
    for (const v of index.config.variants ?? []) {
      if (rocmNames.includes(v)) {
        report(index.file, `${index.file} is invalid:\n  - variants: "${v}" is a ROCm variant; an index holds CPU variants or ROCm variants (a ROCm index is self-contained, with its own torch), not both`);
      } else if (!out.variantNames.includes(v)) {
        report(index.file, `${index.file} is invalid:\n  - variants: "${v}" is not a variant (known: ${[...out.variantNames, ...rocmNames].join(', ') || 'none'})`);
      }
    }
  }
  const valid = <T extends { file: string }>(found: T) => !problems.has(found.file);
  const sources = out.sources.filter(valid);
  return {
    configs: {
      ...out,
      sources,
      torch: out.torch && valid(out.torch) ? out.torch : undefined,
      rocm: out.rocm && valid(out.rocm) ? out.rocm : undefined,
      rocmVariants: out.rocmVariants.filter(valid),
      // A variant whose source is broken is still here: inference leaves it out and says so in the source's error.
      variants: out.variants.filter(valid),
      indexes: out.indexes.filter(valid),
    },
    problems,
  };
}

function readText(abs: string): string {
  try {
    return readFileSync(abs, 'utf8');
  } catch {
    return ''; // parseConfigFile reports it
  }
}

function checkDistributionFolder(file: string, folder: string, config: { distribution: string; arch: string }): void {
  if (config.distribution !== folder && folder !== `${config.distribution}-${config.arch}`) {
    throw new ConfigError(
      `${file} is invalid:\n  - distribution: must equal the folder name "${folder}" (one folder per PyPI distribution; another platform's wheel of it lives in "<distribution>-<arch>", e.g. "${config.distribution}-${config.arch}"), got "${config.distribution}"`,
    );
  }
}

/**
 * The source a variant builds from: a nested variant's folder names it (a "source" field must agree);
 * a flat variant's "source" names it, or the workspace's only source does.
 */
function variantSource(variant: Found<{ source?: string; distribution: string }> & { sourceFolder?: string }, sources: readonly string[]): { name: string } | { problem: string } {
  const named = variant.config.source;
  const known = `(sources: ${sources.join(', ') || 'none'})`;
  if (variant.sourceFolder !== undefined) {
    if (!sources.includes(variant.sourceFolder)) {
      return { problem: `${variant.file} is inside packages/${variant.sourceFolder}, which has no vllm.json: a variant folder inside another folder builds from that folder's source. Add packages/${variant.sourceFolder}/vllm.json, or move the variant to packages/${variant.config.distribution}.` };
    }
    if (named !== undefined && named !== variant.sourceFolder) {
      return { problem: `${variant.file} is invalid:\n  - source: "${named}" differs from the folder it is in (packages/${variant.sourceFolder}); leave "source" out of a variant inside its source's folder.` };
    }
    return { name: variant.sourceFolder };
  }
  if (!sources.length) return { problem: `${variant.file} needs the vLLM source: add packages/${named ?? 'vllm'}/vllm.json.` };
  if (named !== undefined) {
    if (!sources.includes(named)) return { problem: `${variant.file} is invalid:\n  - source: "${named}" is not a vLLM source ${known}` };
    return { name: named };
  }
  if (sources.length === 1) return { name: sources[0] };
  return { problem: `${variant.file} is invalid:\n  - source: required when a workspace has several vLLM sources ${known}; name the one to build from, or move the variant into its source's folder (packages/<source>/${variant.config.distribution}/wheel.json)` };
}
