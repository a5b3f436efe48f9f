import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { SourceError } from '../errors';
import { removeStaleTempSiblings, tempSibling } from '../fs';
import type { Logger } from '../log';
import { gitClient } from './client';

export interface MirrorOptions {
  /** Where the bare mirror lives (machine cache: git/<name>.git). */
  mirrorDir: string;
  repository: string;
  env: Record<string, string | undefined>;
  log: Logger;
  dryRun: boolean;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT = 30 * 60 * 1000;

/** True when git recognises `dir` as a usable bare repository. */
async function isHealthyMirror(options: MirrorOptions): Promise<{ ok: true } | { ok: false; why: string }> {
  const git = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: 60_000, dryRun: false, log: options.log });
  try {
    const bare = (await git.query(['rev-parse', '--is-bare-repository'])).trim();
    if (bare !== 'true') return { ok: false, why: `it is not a bare repository (rev-parse said ${bare})` };
    await git.query(['count-objects']);
    return { ok: true };
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
}

/**
 * Makes sure one bare mirror of `repository` exists: cloned once (into a temp dir, renamed into place),
 * then reused. A mirror git reports broken is removed and cloned again, and the log says so.
 * Returns true when it (would have) cloned.
 */
export async function ensureMirror(options: MirrorOptions): Promise<boolean> {
  const { mirrorDir, log } = options;
  if (existsSync(mirrorDir)) {
    const health = await isHealthyMirror(options);
    if (health.ok) {
      await ensureRemoteUrl(options);
      return false;
    }
    log.warn(`The vLLM mirror at ${mirrorDir} is broken (${health.why}); removing it and cloning again.`);
    if (!options.dryRun) rmSync(mirrorDir, { recursive: true, force: true });
  }
  log.step(`Cloning ${options.repository} into the mirror ${mirrorDir} (once; later runs only fetch)`);
  const parent = dirname(mirrorDir);
  if (!options.dryRun) {
    mkdirSync(parent, { recursive: true });
    removeStaleTempSiblings(mirrorDir);
  }
  const tmp = tempSibling(mirrorDir);
  const git = gitClient({ cwd: parent, env: options.env, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT, dryRun: options.dryRun, log });
  try {
    await git.mutate(['clone', '--mirror', '--', options.repository, tmp]);
    if (!options.dryRun) renameSync(tmp, mirrorDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new SourceError(`Cannot clone ${options.repository}: ${(e as Error).message}`, { cause: e });
  }
  return true;
}

/** vllm.json may move to another URL (a mirror of vLLM): same objects, so keep the mirror, update origin. */
async function ensureRemoteUrl(options: MirrorOptions): Promise<void> {
  const git = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: 60_000, dryRun: options.dryRun, log: options.log });
  const current = (await git.tryQuery(['remote', 'get-url', 'origin']))?.trim();
  if (current !== options.repository) {
    options.log.info(`Mirror origin changes from ${current ?? '(none)'} to ${options.repository}.`);
    await git.mutate(current === undefined ? ['remote', 'add', '--mirror=fetch', 'origin', options.repository] : ['remote', 'set-url', 'origin', options.repository]);
  }
}

/** Fetches every ref of origin into the mirror. */
export async function fetchMirror(options: MirrorOptions): Promise<void> {
  options.log.step(`Fetching ${options.repository} into ${options.mirrorDir}`);
  const git = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT, dryRun: options.dryRun, log: options.log });
  await git.mutate(['fetch', '--prune', '--tags', 'origin']);
}

/** True when the mirror holds `commit` (as a commit object). */
export async function hasCommit(mirrorDir: string, commit: string, env: Record<string, string | undefined>, log: Logger): Promise<boolean> {
  if (!existsSync(mirrorDir)) return false;
  const git = gitClient({ cwd: mirrorDir, env, timeoutMs: 60_000, dryRun: false, log });
  // `-t`, not `-e`: simple-git waits 50 ms more for a command that prints nothing, and this is the no-op path.
  return (await git.tryQuery(['cat-file', '-t', `${commit}^{commit}`]))?.trim() === 'commit';
}
