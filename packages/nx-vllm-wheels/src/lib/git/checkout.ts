import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SourceError } from '../errors';
import {
  cloneOrReuseMirror,
  commitState,
  DamagedMirrorError,
  fetchOrigin,
  recoveringDamagedMirror,
  withMirrorLock,
  type MirrorOptions,
} from './mirror';
import { gitClient } from './client';
import type { Logger } from '../log';

export interface EnsureCommitResult {
  cloned: boolean;
  fetched: boolean;
}

/**
 * Makes the locked commit available in the mirror. When the mirror already has it, this touches no
 * network and writes nothing but the lock (the fast no-op of a cached run). Runs holding the mirror's
 * lock, so two first runs on one machine clone once; a mirror git finds damaged is cloned again.
 */
export function ensureCommit(options: MirrorOptions & { commit: string }): Promise<EnsureCommitResult> {
  return withMirrorLock(options, () => recoveringDamagedMirror(options, ({ recloned }) => commitInMirror(options, recloned)));
}

async function commitInMirror(options: MirrorOptions & { commit: string }, recloned: boolean): Promise<EnsureCommitResult> {
  const cloned = (await cloneOrReuseMirror(options)) || recloned;
  const present = async () => {
    const state = await commitState(options.mirrorDir, options.commit, options.env, options.log);
    if (state === 'damaged') throw new DamagedMirrorError(`git cannot read commit ${options.commit} in the mirror ${options.mirrorDir}: an object is damaged.`);
    return state === 'present';
  };
  if (await present()) return { cloned, fetched: false };
  if (options.dryRun && cloned) {
    options.log.info(`[dry-run] would then check that ${options.commit} is in the fresh clone`);
    return { cloned, fetched: false };
  }
  if (!cloned) {
    try {
      await fetchOrigin(options);
    } catch (e) {
      throw new SourceError(
        `Commit ${options.commit} is not in the mirror ${options.mirrorDir} and fetching ${options.repository} failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  if (!options.dryRun && !(await present())) {
    throw new SourceError(
      `Commit ${options.commit} does not exist in ${options.repository}. Check "commit" in vllm.json, or run \`nx run vllm:lock\` to lock "ref" again.`,
    );
  }
  return { cloned, fetched: !cloned };
}

/** What `ref` named: a tag (tags win over a branch of the same name, as before), a branch, or a commit id. */
export type RefKind = 'tag' | 'branch' | 'commit';

export interface ResolvedRef {
  commit: string;
  kind: RefKind;
}

/**
 * Resolves `ref` (tag, branch or commit id) to a 40-hex commit, fetching first. If the fetch fails but
 * the mirror can still resolve the ref, it warns and continues (the seed script's behaviour).
 * A dry run writes nothing: it asks the remote with `git ls-remote` instead of cloning or fetching.
 */
export async function resolveRef(options: MirrorOptions & { ref: string }): Promise<string> {
  return (await resolveRefWithKind(options)).commit;
}

/** resolveRef, also saying whether the ref is a tag, a branch or a commit id (a followed source needs a branch). */
export async function resolveRefWithKind(options: MirrorOptions & { ref: string }): Promise<ResolvedRef> {
  if (options.dryRun) return resolveRefWithoutWriting(options);
  return withMirrorLock(options, async () => {
    const cloned = await cloneOrReuseMirror(options);
    if (!cloned) {
      try {
        await fetchOrigin(options);
      } catch (e) {
        options.log.warn(`Fetching ${options.repository} failed; resolving "${options.ref}" from the mirror as it is. (${firstLine(e)})`);
      }
    }
    return resolveInMirror(options);
  });
}

async function resolveRefWithoutWriting(options: MirrorOptions & { ref: string }): Promise<ResolvedRef> {
  const { ref, repository, mirrorDir, log } = options;
  const mirrorExists = existsSync(mirrorDir);
  log.info(`[dry-run] would ${mirrorExists ? 'fetch' : 'clone'} ${repository} ${mirrorExists ? 'into' : 'as'} the mirror ${mirrorDir}; asking the remote with git ls-remote instead`);
  // ls-remote needs no repository to run in.
  const git = gitClient({ cwd: mirrorExists ? mirrorDir : tmpdir(), env: options.env, timeoutMs: options.timeoutMs ?? 120_000, dryRun: false, log });
  let listing: string;
  try {
    listing = await git.query(['ls-remote', '--', repository, `refs/tags/${ref}`, `refs/tags/${ref}^{}`, `refs/heads/${ref}`]);
  } catch (e) {
    if (!mirrorExists) throw new SourceError(`Cannot resolve "${ref}": asking ${repository} failed and there is no mirror yet. (${firstLine(e)})`, { cause: e });
    log.warn(`Asking ${repository} failed; resolving "${ref}" from the mirror as it is. (${firstLine(e)})`);
    return resolveInMirror(options);
  }
  const advertised = new Map(
    listing
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length === 2)
      .map(([sha, name]) => [name, sha] as const),
  );
  // An annotated tag's commit is its peeled entry; a lightweight tag and a branch point at it directly.
  const tag = advertised.get(`refs/tags/${ref}^{}`) ?? advertised.get(`refs/tags/${ref}`);
  if (tag) return { commit: tag, kind: 'tag' };
  const branch = advertised.get(`refs/heads/${ref}`);
  if (branch) return { commit: branch, kind: 'branch' };
  if (mirrorExists) return resolveInMirror(options);
  if (/^[0-9a-f]{40}$/.test(ref)) {
    log.info(`[dry-run] "${ref}" is a commit id; a real run checks that ${repository} has it.`);
    return { commit: ref, kind: 'commit' };
  }
  throw new SourceError(`Ref "${ref}" is neither a tag nor a branch of ${repository} (a commit id can be checked only by a real run, which fetches).`);
}

/** Resolves `ref` from the mirror as it is (reads only). */
async function resolveInMirror(options: MirrorOptions & { ref: string }): Promise<ResolvedRef> {
  const git = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: 60_000, dryRun: false, log: options.log });
  const candidates: [string, RefKind][] = [
    [`refs/tags/${options.ref}`, 'tag'],
    [`refs/heads/${options.ref}`, 'branch'],
    [options.ref, 'commit'],
  ];
  for (const [candidate, kind] of candidates) {
    const sha = (await git.tryQuery(['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`]))?.trim();
    if (sha && /^[0-9a-f]{40}$/.test(sha)) return { commit: sha, kind };
  }
  const tags = ((await git.tryQuery(['tag', '--list', '--sort=-creatordate'])) ?? '').split('\n').filter(Boolean);
  const shown = tags.slice(0, 10).join(', ');
  throw new SourceError(
    `Ref "${options.ref}" does not exist in ${options.repository}: it is neither a tag, a branch nor a commit.` +
      (tags.length ? ` Newest tags: ${shown}${tags.length > 10 ? ', …' : ''}.` : ''),
  );
}

/** True when `ancestor` is `descendant` or reachable from it (git merge-base --is-ancestor), in the mirror as it is. */
export async function isAncestor(mirrorDir: string, ancestor: string, descendant: string, env: Record<string, string | undefined>, log: Logger): Promise<boolean> {
  const git = gitClient({ cwd: mirrorDir, env, timeoutMs: 60_000, dryRun: false, log });
  // Not `--is-ancestor`: its answer is the exit code alone, and simple-git takes a silent exit 1 for success.
  // The merge base of an ancestor and its descendant is the ancestor; a failure to read is a "no".
  return (await git.tryQuery(['merge-base', ancestor, descendant]))?.trim() === ancestor;
}

function firstLine(e: unknown): string {
  return String((e as Error).message).split('\n')[0];
}
