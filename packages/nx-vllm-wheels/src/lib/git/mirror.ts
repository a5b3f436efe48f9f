import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { SourceError } from '../errors';
import { removeStaleTempSiblings, tempSibling, withLock } from '../fs';
import type { Logger } from '../log';
import { redactUrlCredentials } from '../process';
import { gitClient } from './client';
import { fsckProblems, reportsCorruption } from './corruption';

export interface MirrorOptions {
  /** Where the bare mirror lives (machine cache: git/<name>.git). */
  mirrorDir: string;
  /**
   * The inter-process lock of the mirror and of every worktree made from it (machine cache:
   * locks/git-<name>.lock): a clone, a fetch and a worktree change never run at the same time.
   */
  lockDir: string;
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

/** Runs `fn` holding the mirror's lock, and says so when it has to wait. A dry run writes nothing and takes no lock. */
export function withMirrorLock<T>(options: Pick<MirrorOptions, 'lockDir' | 'log' | 'dryRun'>, fn: () => Promise<T>): Promise<T> {
  if (options.dryRun) return fn();
  return withLock(options.lockDir, fn, {
    onWait: (pid) => options.log.info(`Waiting for another process (pid ${pid ?? '?'}) to release ${basename(options.lockDir)}…`),
  });
}

/**
 * Makes sure one bare mirror of `repository` exists: cloned once (into a temp dir, renamed into place),
 * then reused. A mirror git reports broken is removed and cloned again, and the log says so.
 * Returns true when it (would have) cloned.
 */
export function ensureMirror(options: MirrorOptions): Promise<boolean> {
  return withMirrorLock(options, () => cloneOrReuseMirror(options));
}

/**
 * ensureMirror for a caller holding the mirror's lock. It looks again at what is on disk, since the
 * process that held the lock before may have cloned the mirror meanwhile.
 */
export async function cloneOrReuseMirror(options: MirrorOptions): Promise<boolean> {
  const { mirrorDir, log } = options;
  if (existsSync(mirrorDir)) {
    const health = await isHealthyMirror(options);
    if (health.ok) {
      await ensureRemoteUrl(options);
      return false;
    }
    log.warn(`The mirror at ${mirrorDir} is broken (${health.why}); removing it and cloning again.`);
    if (!options.dryRun) removeMirror(mirrorDir);
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

/**
 * vllm.json may move to another URL (a mirror of vLLM): same objects, so keep the mirror, update origin.
 * The URL as configured, not `remote get-url`, which applies the user's `url.<base>.insteadOf` rewrites.
 */
async function ensureRemoteUrl(options: MirrorOptions): Promise<void> {
  const git = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: 60_000, dryRun: options.dryRun, log: options.log });
  const current = (await git.tryQuery(['config', '--get', 'remote.origin.url']))?.trim() || undefined;
  if (current !== options.repository) {
    options.log.info(`Mirror origin changes from ${current ?? '(none)'} to ${options.repository}.`);
    await git.mutate(current === undefined ? ['remote', 'add', '--mirror=fetch', 'origin', options.repository] : ['remote', 'set-url', 'origin', options.repository]);
  }
}

/** Moves the mirror aside (one rename), then deletes it: a killed run leaves a temp sibling, never half a mirror. */
function removeMirror(mirrorDir: string): void {
  const grave = tempSibling(mirrorDir);
  renameSync(mirrorDir, grave);
  rmSync(grave, { recursive: true, force: true });
}

/** Fetches every ref of origin into the mirror. */
export function fetchMirror(options: MirrorOptions): Promise<void> {
  return withMirrorLock(options, () => fetchOrigin(options));
}

/** fetchMirror for a caller holding the mirror's lock. */
export async function fetchOrigin(options: MirrorOptions): Promise<void> {
  options.log.step(`Fetching ${options.repository} into ${options.mirrorDir}`);
  const git = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT, dryRun: options.dryRun, log: options.log });
  await git.mutate(['fetch', '--prune', '--tags', 'origin']);
}

/** Whether the mirror holds `commit`; `damaged` when git says the object (or the pack holding it) is corrupt. */
export type CommitState = 'present' | 'absent' | 'damaged';

export async function commitState(mirrorDir: string, commit: string, env: Record<string, string | undefined>, log: Logger): Promise<CommitState> {
  if (!existsSync(mirrorDir)) return 'absent';
  const git = gitClient({ cwd: mirrorDir, env, timeoutMs: 60_000, dryRun: false, log });
  try {
    // `-t`, not `-e`: simple-git waits 50 ms more for a command that prints nothing, and this is the no-op path.
    return (await git.query(['cat-file', '-t', `${commit}^{commit}`])).trim() === 'commit' ? 'present' : 'absent';
  } catch (e) {
    return reportsCorruption((e as Error).message) ? 'damaged' : 'absent';
  }
}

/** True when the mirror holds `commit` (as a readable commit object). */
export async function hasCommit(mirrorDir: string, commit: string, env: Record<string, string | undefined>, log: Logger): Promise<boolean> {
  return (await commitState(mirrorDir, commit, env, log)) === 'present';
}

/** Thrown where git read nothing but the object must be there: the mirror is damaged. */
export class DamagedMirrorError extends SourceError {}

/**
 * Runs `attempt` for a caller holding the mirror's lock. When it fails because git found a missing or
 * damaged object and `git fsck` confirms it, the mirror is removed, cloned again and `attempt` runs once
 * more (told so: worktrees made from the old mirror lost their metadata with it). One recovery per
 * call: a mirror still damaged after that is a SourceError.
 */
export async function recoveringDamagedMirror<T>(options: MirrorOptions, attempt: (after: { recloned: boolean }) => Promise<T>): Promise<T> {
  const { mirrorDir, log } = options;
  const damaged = (e: unknown) => e instanceof DamagedMirrorError || reportsCorruption(String((e as Error)?.message));
  try {
    return await attempt({ recloned: false });
  } catch (e) {
    if (options.dryRun || !damaged(e) || !existsSync(mirrorDir)) throw e;
    const problems = await fsckProblems(mirrorDir, options.env, options.timeoutMs ?? DEFAULT_TIMEOUT);
    if (problems === undefined) throw e;
    const repository = redactUrlCredentials(options.repository);
    log.warn(`The mirror ${mirrorDir} is corrupt (${problems}); removing it and cloning it again from ${repository}.`);
    removeMirror(mirrorDir);
    await cloneOrReuseMirror(options);
    try {
      return await attempt({ recloned: true });
    } catch (again) {
      if (!damaged(again)) throw again;
      throw new SourceError(
        `The mirror ${mirrorDir} is still corrupt after cloning it again from ${repository}; check that repository itself (git fsck there). ${(again as Error).message}`,
        { cause: again },
      );
    }
  }
}
