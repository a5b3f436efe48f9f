import type { ExecutorContext } from '@nx/devkit';
import { resolve } from 'node:path';
import { indexConfigSchema, parseConfigFile, rocmConfigSchema, rocmWheelConfigSchema, torchConfigSchema, vllmConfigSchema, wheelConfigSchema } from '../config';
import { configLocation } from '../config/layout';
import { machineCache } from '../lib/cache-dir';
import { ConfigError, VllmWheelsError } from '../lib/errors';
import { describeFailure } from '../lib/failure';
import { consoleLogger } from '../lib/log';
import { stopChildrenOnInterrupt } from '../lib/process';
import type { IndexSpec, SourceSpec, StepContext, TorchSpec, UnlockedSourceSpec, VariantSpec } from '../lib/pipeline';
import type { RocmSpec, RocmVariantSpec } from '../lib/rocm';

export interface CommonOptions {
  dryRun?: boolean;
}

/** The step's context from Nx's: workspace root, this process's env, the machine cache, console logging. */
export function stepContext(context: ExecutorContext, options: CommonOptions): StepContext {
  const env = { ...process.env };
  return { workspaceRoot: context.root, env, cache: machineCache(env), log: consoleLogger, dryRun: options.dryRun === true };
}

/** vllm.json as `lock` reads it: it may have no commit yet. */
export function loadUnlockedSource(context: ExecutorContext, file: string): UnlockedSourceSpec {
  return { name: configLocation(file).name, configFile: file, config: parseConfigFile(vllmConfigSchema, resolve(context.root, file), file) };
}

/** vllm.json for every step but `lock`: a source without a commit is refused, saying how to lock it. */
export function loadSource(context: ExecutorContext, file: string): SourceSpec {
  const source = loadUnlockedSource(context, file);
  const { commit } = source.config;
  if (commit === undefined) {
    throw new ConfigError(
      `${file} is not locked:\n  - commit: missing; run \`nx run ${source.name}:lock\` to resolve "ref" (${source.config.ref}) to the commit every build of it is keyed on`,
    );
  }
  return { ...source, config: { ...source.config, commit } };
}

export function loadTorch(context: ExecutorContext, file: string): TorchSpec {
  return { configFile: file, config: parseConfigFile(torchConfigSchema, resolve(context.root, file), file) };
}

export function loadVariant(context: ExecutorContext, file: string): VariantSpec {
  return { name: configLocation(file).name, configFile: file, config: parseConfigFile(wheelConfigSchema, resolve(context.root, file), file) };
}

export function loadRocm(context: ExecutorContext, file: string): RocmSpec {
  return { name: configLocation(file).name, configFile: file, config: parseConfigFile(rocmConfigSchema, resolve(context.root, file), file) };
}

export function loadRocmVariant(context: ExecutorContext, file: string): RocmVariantSpec {
  return { name: configLocation(file).name, configFile: file, config: parseConfigFile(rocmWheelConfigSchema, resolve(context.root, file), file) };
}

/** The ROCm variants named (project names), each from its project's wheel.json. */
export function loadRocmVariants(context: ExecutorContext, names: readonly string[]): RocmVariantSpec[] {
  return names.map((name) => {
    const root = context.projectsConfigurations?.projects[name]?.root;
    if (!root) throw new ConfigError(`Variant ${name} is not a project of this workspace.`);
    return loadRocmVariant(context, `${root}/wheel.json`);
  });
}

/** index.json and its member variants (inference passes them: index.json's `variants`, or every variant). */
export function loadIndex(context: ExecutorContext, file: string, variants: readonly string[]): IndexSpec {
  return { name: configLocation(file).name, configFile: file, config: parseConfigFile(indexConfigSchema, resolve(context.root, file), file), variants };
}

/**
 * Runs a step and maps it to Nx's `{ success }`. Our own errors print as an ERROR with their causes,
 * not a stack; `{ success: false }` is what makes `nx` fail (it exits 1 whatever the error's class:
 * Nx has no way to pass an executor's exit code on).
 */
export async function runStep(context: ExecutorContext, options: CommonOptions, step: (ctx: StepContext) => Promise<unknown>): Promise<{ success: boolean }> {
  const ctx = stepContext(context, options);
  if (ctx.dryRun) ctx.log.info(`[dry-run] ${context.projectName}:${context.targetName}: printing what would be done; nothing is changed.`);
  try {
    await stopChildrenOnInterrupt(ctx.log, () => step(ctx));
    return { success: true };
  } catch (e) {
    if (e instanceof VllmWheelsError) {
      ctx.log.error(`${context.projectName}:${context.targetName} failed: ${describeFailure(e, ctx.env)}`);
      return { success: false };
    }
    throw e;
  }
}
