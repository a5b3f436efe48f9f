import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LockedVllmConfig, TorchConfig, VllmConfig, WheelConfig } from '../../config';
import type { MachineCache } from '../cache-dir';
import type { Logger } from '../log';

/** Everything a pipeline step needs from its caller; nothing is read from globals. */
export interface StepContext {
  workspaceRoot: string;
  env: Record<string, string | undefined>;
  cache: MachineCache;
  log: Logger;
  dryRun: boolean;
  /** The machine's architecture as `uname -m` names it; default this process's (tests stand for another). */
  host?: string;
}

/** A vLLM source as `lock` reads it: `commit` may still be missing. */
export interface UnlockedSourceSpec {
  /** Project name (`vllm`, `vllm-0.34`). */
  name: string;
  /** The config file, relative to the workspace root (used in messages and to resolve patches). */
  configFile: string;
  config: VllmConfig;
}

/** A locked vLLM source: what checkout, install and build work on. */
export interface SourceSpec extends UnlockedSourceSpec {
  config: LockedVllmConfig;
}

export interface TorchSpec {
  configFile: string;
  config: TorchConfig;
}

export interface VariantSpec {
  /** Project name = distribution = folder name. */
  name: string;
  configFile: string;
  config: WheelConfig;
}

export function rawDir(ctx: StepContext, variant: string): string {
  return resolve(ctx.workspaceRoot, 'dist', 'raw', variant);
}

export function wheelsDir(ctx: StepContext, variant: string): string {
  return resolve(ctx.workspaceRoot, 'dist', 'wheels', variant);
}

/** `<variant>:wheelhouse`'s output folder (the CPU and the ROCm one). */
export function wheelhouseDir(ctx: Pick<StepContext, 'workspaceRoot'>, variant: string): string {
  return resolve(ctx.workspaceRoot, 'dist', 'wheelhouse', variant);
}

/** The `.whl` files in a target's output folder, sorted; undefined when the folder does not exist. */
export function wheelsIn(dir: string): string[] | undefined {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.whl')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
