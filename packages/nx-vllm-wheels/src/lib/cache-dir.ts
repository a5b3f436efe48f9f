import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The machine-wide cache (outside any workspace): mirrors, worktrees, third-party checkouts, venvs, wheelhouse, ccache, locks. */
export interface MachineCache {
  root: string;
  mirror(name: string): string;
  worktree(name: string): string;
  worktreeState(name: string): string;
  venvs: string;
  wheelhouse: string;
  ccache: string;
  lock(name: string): string;
  /** Bare mirror of a third-party repository a vLLM commit's cmake pins (oneDNN, ACL), by its key. */
  thirdPartyMirror(key: string): string;
  /** A read-only checkout of one commit of a third-party repository, shared by every build that only reads it. */
  thirdPartySource(key: string, commit: string): string;
  /** A variant's own checkout of a third-party repository that its build writes into (ACL builds in place). */
  thirdPartyBuildSource(variant: string, key: string): string;
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
    thirdPartyMirror: (key) => join(root, 'git', 'third-party', `${key}.git`),
    thirdPartySource: (key, commit) => join(root, 'third-party', key, commit),
    thirdPartyBuildSource: (variant, key) => join(root, 'src', `${variant}.third-party`, key),
  };
}
