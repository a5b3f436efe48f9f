import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { SourceError } from '../errors';
import { removeStaleTempSiblings, tempSibling } from '../fs';
import type { Logger } from '../log';
import { gitClient } from './client';
import { cloneOrReuseMirror, commitState, DamagedMirrorError, fetchOrigin, recoveringDamagedMirror, withMirrorLock, type MirrorOptions } from './mirror';

/** A pinned ref as the mirror knows it. A branch is found but never used (decision 41). */
type Found = { kind: 'tag' | 'commit'; commit: string } | { kind: 'branch'; commit: string } | undefined;

export interface PinnedRef {
  /** undefined only in a dry run whose mirror does not hold the ref yet. */
  commit?: string;
  kind?: 'tag' | 'commit';
  cloned: boolean;
  fetched: boolean;
}

async function find(options: MirrorOptions, ref: string): Promise<Found> {
  if (!existsSync(options.mirrorDir)) return undefined;
  if (/^[0-9a-f]{40}$/.test(ref)) {
    const state = await commitState(options.mirrorDir, ref, options.env, options.log);
    if (state === 'damaged') throw new DamagedMirrorError(`git cannot read commit ${ref} in the mirror ${options.mirrorDir}: an object is damaged.`);
    return state === 'present' ? { kind: 'commit', commit: ref } : undefined;
  }
  const git = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: 60_000, dryRun: false, log: options.log });
  const resolve = async (name: string) => (await git.tryQuery(['rev-parse', '--verify', '--quiet', `${name}^{commit}`]))?.trim() || undefined;
  const tag = await resolve(`refs/tags/${ref}`);
  if (tag) return { kind: 'tag', commit: tag };
  const branch = await resolve(`refs/heads/${ref}`);
  if (branch) return { kind: 'branch', commit: branch };
  return undefined;
}

function refuseBranch(options: MirrorOptions & { ref: string; pinnedIn: string }): never {
  throw new SourceError(
    `${options.pinnedIn} pins ${options.repository} to "${options.ref}", which is a branch, not a tag or a commit: what it builds changes whenever the branch moves, while the build's cache key (the vLLM commit) does not. ` +
      `Pin a tag or a full commit id instead, with a patch in vllm.json "patches" that changes that GIT_TAG.`,
  );
}

/**
 * Makes `ref` (a tag or a full commit id pinned by a vLLM commit's cmake) available in the bare mirror
 * of a third-party repository: cloned once, fetched only when the ref is missing, never fetched again
 * once it is there. Holds the mirror's lock; a damaged mirror is cloned again (recoveringDamagedMirror).
 * A branch is refused: it cannot be keyed.
 */
export function ensurePinnedRef(options: MirrorOptions & { ref: string; pinnedIn: string }): Promise<PinnedRef> {
  return withMirrorLock(options, () =>
    recoveringDamagedMirror(options, async ({ recloned }) => {
      const cloned = (await cloneOrReuseMirror(options)) || recloned;
      let found = await find(options, options.ref);
      if (found?.kind === 'branch') refuseBranch(options);
      if (found) return { commit: found.commit, kind: found.kind, cloned, fetched: false };
      if (options.dryRun && cloned) {
        options.log.info(`[dry-run] would then look for "${options.ref}" in the fresh clone`);
        return { cloned, fetched: false };
      }
      if (!cloned) {
        try {
          await fetchOrigin(options);
        } catch (e) {
          throw new SourceError(`"${options.ref}" is not in the mirror ${options.mirrorDir} and fetching ${options.repository} failed: ${(e as Error).message}`, { cause: e });
        }
        if (options.dryRun) return { cloned, fetched: true };
      }
      found = await find(options, options.ref);
      if (found?.kind === 'branch') refuseBranch(options);
      if (!found) throw new SourceError(`${options.pinnedIn} pins ${options.repository} to "${options.ref}", which is neither a tag nor a commit of that repository.`);
      return { commit: found.commit, kind: found.kind, cloned, fetched: !cloned };
    }),
  );
}

export interface CommitCopyOptions extends MirrorOptions {
  commit: string;
  /** The directory to hold the checkout (with its own .git: some builds ask git for their version). */
  targetDir: string;
}

async function headOf(dir: string, env: Record<string, string | undefined>, log: Logger): Promise<string | undefined> {
  if (!existsSync(dir)) return undefined;
  const git = gitClient({ cwd: dir, env, timeoutMs: 60_000, dryRun: false, log });
  return (await git.tryQuery(['rev-parse', '--verify', '--quiet', 'HEAD']))?.trim() || undefined;
}

/**
 * A checkout of exactly `commit` from the mirror in `targetDir`: kept when it is already at that commit
 * (with whatever its build left in it), otherwise made beside it (a local clone, then the commit checked
 * out) and renamed into place, so a reader never sees half a checkout. Holds the mirror's lock while it
 * reads the mirror. Returns whether it (would have) made one.
 */
export function ensureCommitCopy(options: CommitCopyOptions): Promise<boolean> {
  const { targetDir, commit, log } = options;
  return withMirrorLock(options, async () => {
    if ((await headOf(targetDir, options.env, log)) === commit) return false;
    if (options.dryRun) {
      log.info(`[dry-run] would check out ${commit.slice(0, 12)} of ${options.mirrorDir} into ${targetDir}`);
      return true;
    }
    mkdirSync(dirname(targetDir), { recursive: true });
    removeStaleTempSiblings(targetDir);
    const tmp = tempSibling(targetDir);
    try {
      const parent = gitClient({ cwd: dirname(targetDir), env: options.env, timeoutMs: 30 * 60_000, dryRun: false, log });
      await parent.mutate(['clone', '--quiet', '--local', '--no-checkout', '--', options.mirrorDir, tmp]);
      // --force: a blob git cannot read fails the checkout instead of leaving the file out (decision 35).
      await gitClient({ cwd: tmp, env: options.env, timeoutMs: 30 * 60_000, dryRun: false, log }).mutate(['checkout', '--quiet', '--force', '--detach', commit]);
      if (existsSync(targetDir)) {
        const old = tempSibling(targetDir);
        renameSync(targetDir, old);
        rmSync(old, { recursive: true, force: true });
      }
      renameSync(tmp, targetDir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e instanceof SourceError ? e : new SourceError(`Cannot check out ${commit} of ${options.repository} into ${targetDir}: ${(e as Error).message}`, { cause: e });
    }
    return true;
  });
}
