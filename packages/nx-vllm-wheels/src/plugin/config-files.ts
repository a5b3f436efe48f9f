import { basename, dirname, join } from 'node:path';
import {
  indexConfigSchema,
  parseConfigFile,
  torchConfigSchema,
  vllmConfigSchema,
  wheelConfigSchema,
  type IndexConfig,
  type TorchConfig,
  type VllmConfig,
  type WheelConfig,
} from '../config';
import { ConfigError } from '../lib/errors';

/** Config files the plugin reads: `packages/<project>/<kind>.json`. */
export const CONFIG_GLOB = 'packages/*/{vllm,torch,wheel,index}.json';

interface Found<T> {
  /** Workspace-relative path of the config file. */
  file: string;
  /** Project root (the file's folder) = project name's source. */
  root: string;
  name: string;
  config: T;
}

export interface WorkspaceConfigs {
  source?: Found<VllmConfig>;
  torch?: Found<TorchConfig>;
  /** The valid variants. */
  variants: Found<WheelConfig>[];
  /** Every variant folder, valid or not: the index's members when index.json lists none. */
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
  const out: WorkspaceConfigs = { variants: [], variantNames: [], indexes: [] };
  const sources: Found<VllmConfig>[] = [];
  const torches: Found<TorchConfig>[] = [];
  const sorted = [...files].sort();
  for (const file of sorted) {
    const root = dirname(file);
    const name = basename(root);
    if (basename(file) === 'wheel.json') out.variantNames.push(name);
    try {
      const abs = join(workspaceRoot, file);
      switch (basename(file)) {
        case 'vllm.json':
          sources.push({ file, root, name, config: parseConfigFile(vllmConfigSchema, abs, file) });
          break;
        case 'torch.json':
          torches.push({ file, root, name, config: parseConfigFile(torchConfigSchema, abs, file) });
          break;
        case 'wheel.json': {
          const config = parseConfigFile(wheelConfigSchema, abs, file);
          if (config.distribution !== name) {
            throw new ConfigError(`${file} is invalid:\n  - distribution: must equal the folder name "${name}" (one folder per PyPI distribution), got "${config.distribution}"`);
          }
          out.variants.push({ file, root, name, config });
          break;
        }
        case 'index.json':
          out.indexes.push({ file, root, name, config: parseConfigFile(indexConfigSchema, abs, file) });
          break;
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      report(file, e.message);
    }
  }
  const kinds = (kind: string) => sorted.filter((f) => basename(f) === kind);
  if (kinds('vllm.json').length > 1) {
    for (const f of kinds('vllm.json')) report(f, `Only one vllm.json may exist in a workspace; found ${kinds('vllm.json').join(', ')}.`);
  } else [out.source] = sources;
  if (kinds('torch.json').length > 1) {
    for (const f of kinds('torch.json')) report(f, `Only one torch.json may exist in a workspace; found ${kinds('torch.json').join(', ')}.`);
  } else [out.torch] = torches;
  if (kinds('index.json').length > 1) {
    for (const f of kinds('index.json')) {
      report(
        f,
        `Only one index.json may exist in a workspace (its index is built into dist/index); found ${kinds('index.json').join(', ')}. ` +
          'Keep one, and list the variants it indexes in its "variants" field.',
      );
    }
    out.indexes = [];
  }
  // A missing source or build environment is each variant's problem; a broken one is its own file's.
  for (const variant of out.variants) {
    if (!kinds('vllm.json').length) report(variant.file, `${variant.file} needs the vLLM source: add packages/vllm/vllm.json.`);
    if (!kinds('torch.json').length) report(variant.file, `${variant.file} needs a build environment: add packages/torch-cpu/torch.json.`);
  }
  for (const index of out.indexes) {
    for (const v of index.config.variants ?? []) {
      if (!out.variantNames.includes(v)) {
        report(index.file, `${index.file} is invalid:\n  - variants: "${v}" is not a variant (known: ${out.variantNames.join(', ') || 'none'})`);
      }
    }
  }
  const ok = <T extends { file: string }>(found: T | undefined) => (found && !problems.has(found.file) ? found : undefined);
  return {
    configs: { ...out, source: ok(out.source), torch: ok(out.torch), variants: out.variants.filter((v) => !problems.has(v.file)), indexes: out.indexes.filter((i) => !problems.has(i.file)) },
    problems,
  };
}
