import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The machine-wide cache (outside any workspace): mirror, worktrees, venvs, wheelhouse, ccache, locks. */
export interface MachineCache {
  root: string;
  mirror(name: string): string;
  worktree(name: string): string;
  worktreeState(name: string): string;
  venvs: string;
  wheelhouse: string;
  ccache: string;
  lock(name: string): string;
}

export function machineCache(env: Record<string, string | undefined>): MachineCache {
  const root = env.VLLM_WHEELS_CACHE_DIR
    ? resolve(env.VLLM_WHEELS_CACHE_DIR)
    : join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'vllm-wheels');
  return {
    root,
    mirror: (name) => join(root, 'git', `${name}.git`),
    worktree: (name) => join(root, 'src', name),
    worktreeState: (name) => join(root, 'src', `${name}.state.json`),
    venvs: join(root, 'venvs'),
    wheelhouse: join(root, 'wheelhouse'),
    ccache: join(root, 'ccache'),
    lock: (name) => join(root, 'locks', `${name}.lock`),
  };
}
