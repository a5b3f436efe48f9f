import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { ConfigError } from '../../lib/errors';
import { verifyWheelIndex } from '../../lib/pipeline/verify';
import { loadIndex, loadRocm, loadRocmVariants, loadTorch, loadVariant, runStep, type CommonOptions } from '../shared';

export interface VerifyIndexOptions extends CommonOptions {
  config: string;
  /** Set by inference: index.json's variants, or every variant. */
  variants?: string[] | string;
  torchConfig?: string;
  /** Set by inference for a ROCm index: self-contained, installed from alone. */
  rocmConfig?: string;
  indexUrl?: string;
  torchIndexUrl?: string;
  dependenciesIndexUrl?: string;
  installers?: string[] | string;
}

/** A list option given on the command line arrives as "a,b". */
const list = (v: string[] | string | undefined) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v);

function variantConfigFile(context: ExecutorContext, name: string): string {
  const root = context.projectsConfigurations?.projects[name]?.root;
  if (!root) throw new ConfigError(`Variant ${name} (to verify) is not a project of this workspace.`);
  return join(root, 'wheel.json');
}

export default async function verifyIndex(options: VerifyIndexOptions, context: ExecutorContext) {
  return runStep(context, options, (ctx) => {
    const index = loadIndex(context, options.config, list(options.variants) ?? []);
    return verifyWheelIndex(
      {
        configFile: index.configFile,
        config: index.config,
        variants: options.rocmConfig ? loadRocmVariants(context, index.variants) : index.variants.map((v) => loadVariant(context, variantConfigFile(context, v))),
        ...(options.rocmConfig ? { rocm: loadRocm(context, options.rocmConfig) } : options.torchConfig ? { torch: loadTorch(context, options.torchConfig) } : {}),
        indexUrl: options.indexUrl,
        torchIndexUrl: options.torchIndexUrl,
        dependenciesIndexUrl: options.dependenciesIndexUrl,
        installers: list(options.installers),
      },
      ctx,
    );
  });
}
