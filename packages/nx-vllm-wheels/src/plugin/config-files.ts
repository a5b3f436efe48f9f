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
  variants: Found<WheelConfig>[];
  indexes: Found<IndexConfig>[];
}

/** Reads and validates every config file; collects all problems of all files before throwing once. */
export function readWorkspaceConfigs(files: readonly string[], workspaceRoot: string): WorkspaceConfigs {
  const problems: string[] = [];
  const out: WorkspaceConfigs = { variants: [], indexes: [] };
  const sources: Found<VllmConfig>[] = [];
  const torches: Found<TorchConfig>[] = [];
  for (const file of [...files].sort()) {
    const root = dirname(file);
    const name = basename(root);
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
      problems.push(e.message);
    }
  }
  if (sources.length > 1) problems.push(`Only one vllm.json may exist in a workspace; found ${sources.map((s) => s.file).join(', ')}.`);
  if (torches.length > 1) problems.push(`Only one torch.json may exist in a workspace; found ${torches.map((s) => s.file).join(', ')}.`);
  if (out.indexes.length > 1) {
    problems.push(
      `Only one index.json may exist in a workspace (its index is built into dist/index); found ${out.indexes.map((s) => s.file).join(', ')}. ` +
        'Keep one, and list the variants it indexes in its "variants" field.',
    );
  }
  [out.source] = sources;
  [out.torch] = torches;
  if (out.variants.length && !out.source) problems.push(`${out.variants[0].file} needs the vLLM source: add packages/vllm/vllm.json.`);
  if (out.variants.length && !out.torch) problems.push(`${out.variants[0].file} needs a build environment: add packages/torch-cpu/torch.json.`);
  for (const index of out.indexes) {
    for (const v of index.config.variants ?? []) {
      if (!out.variants.some((x) => x.name === v)) {
        problems.push(`${index.file} is invalid:\n  - variants: "${v}" is not a variant (known: ${out.variants.map((x) => x.name).join(', ') || 'none'})`);
      }
    }
  }
  if (problems.length) throw new ConfigError(problems.join('\n'));
  return out;
}
