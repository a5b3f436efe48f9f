import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SourceError } from '../errors';
import { writeFileAtomic } from '../fs';
import { gitClient } from './client';
import { recoveringDamagedMirror, withMirrorLock, type MirrorOptions } from './mirror';

export interface Patch {
  /** How the patch is named in messages (its path in the workspace). */
  name: string;
  /** Absolute path of the patch file. */
  file: string;
}

/** A programmatic source edit applied after the patches (e.g. the ISA pin); its digest is its identity. */
export interface SourceEdit {
  name: string;
  digest: string;
  apply(sourceDir: string): void;
}

export interface WorktreeOptions extends MirrorOptions {
  worktreeDir: string;
  /** Where the worktree's state (commit + patch digests) is remembered, outside the worktree. */
  stateFile: string;
  commit: string;
  patches: readonly Patch[];
  edits?: readonly SourceEdit[];
  /** Untracked files that are not local edits of the source (the dev loop's CMakeUserPresets.json). */
  ownFiles?: readonly string[];
  /**
   * Edits made in the prepared tree are kept when commit and patches are unchanged (the dev loop, which
   * builds nothing cached); without it, or when the tree would move, they are refused.
   */
  keepEdits?: boolean;
}

interface WorktreeState {
  commit: string;
  patches: string[];
  /** The tree's changes from the commit right after preparation (localChanges); absent in older state files. */
  tree?: Record<string, string>;
}

/**
 * The worktree's changes from HEAD, by path: tracked files that differ and untracked files that are not
 * ignored (a new .py would ship in the wheel), each with its content's digest ("deleted" when gone).
 */
async function localChanges(wt: ReturnType<typeof gitClient>, ownFiles: readonly string[]): Promise<Record<string, string>> {
  const changed = (await wt.query(['diff', 'HEAD', '--name-only', '--no-renames', '-z'])).split('\0').filter(Boolean);
  const untracked = (await wt.query(['ls-files', '--others', '--exclude-standard', '-z'])).split('\0').filter((f) => f && !ownFiles.includes(f));
  const out: Record<string, string> = {};
  for (const f of [...changed, ...untracked].sort()) {
    const file = join(wt.cwd, f);
    out[f] = existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'deleted';
  }
  return out;
}

/** The paths whose change from HEAD differs between two localChanges. */
function differing(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => a[f] !== b[f]).sort();
}

function patchDigests(patches: readonly Patch[]): string[] {
  return patches.map((p) => {
    try {
      return `${p.name}:${createHash('sha256').update(readFileSync(p.file)).digest('hex')}`;
    } catch (e) {
      throw new SourceError(`Patch ${p.name} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, { cause: e });
    }
  });
}

async function belongsTo(wt: ReturnType<typeof gitClient>, mirrorDir: string): Promise<boolean> {
  const common = (await wt.tryQuery(['rev-parse', '--path-format=absolute', '--git-common-dir']))?.trim();
  return common !== undefined && realpathOrSelf(common) === realpathOrSelf(mirrorDir);
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function readState(file: string): WorktreeState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as WorktreeState;
  } catch {
    return undefined;
  }
}

/**
 * Puts the locked commit, with the patches applied in order, into the variant's worktree. The worktree
 * is kept between builds (its ignored build/ dir too), so CMake/ninja rebuild only what changed; when
 * commit and patches are what the last call left, nothing is touched at all.
 * A patch that does not apply is named in the error, and the worktree is left clean at the commit.
 * When git cannot read an object the mirror is checked, cloned again if damaged, and the worktree
 * made anew from it (see recoveringDamagedMirror).
 */
export async function prepareWorktree(options: WorktreeOptions): Promise<{ changed: boolean }> {
  const { log, dryRun } = options;
  const edits = options.edits ?? [];
  const wanted: WorktreeState = { commit: options.commit, patches: [...patchDigests(options.patches), ...edits.map((e) => `${e.name}:${e.digest}`)] };
  const wt = gitClient({ cwd: options.worktreeDir, env: options.env, timeoutMs: 10 * 60_000, dryRun, log });
  // A worktree of another mirror (its source moved to another repository) is made anew from this one.
  const valid = existsSync(options.worktreeDir) && (await belongsTo(wt, options.mirrorDir)) && (await wt.tryQuery(['rev-parse', 'HEAD']))?.trim() !== undefined;
  const head = valid ? (await wt.tryQuery(['rev-parse', 'HEAD']))?.trim() : undefined;
  const state = readState(options.stateFile);
  const ownFiles = options.ownFiles ?? [];
  // Someone edited the prepared tree (the dev loop invites it): building it would cache those edits under
  // the clean source's key, and resetting it would lose them. A tree back at the bare commit is prepared again.
  let prepareAgain = false;
  const { tree: _, ...prepared } = state ?? {};
  const unchanged = valid && head === options.commit && JSON.stringify(prepared) === JSON.stringify(wanted);
  if (valid && state?.tree !== undefined) {
    // A damaged mirror may fail the diff: then the tree is prepared again, where recovery happens.
    const now = await localChanges(wt, ownFiles).catch(() => undefined);
    const edited = now ? differing(now, state.tree) : ['<unreadable>'];
    if (now && edited.length > 0 && Object.keys(now).length > 0) {
      const shown = edited.length > 8 ? [...edited.slice(0, 8), `and ${edited.length - 8} more`] : edited;
      if (options.keepEdits && unchanged) {
        log.info(`Source ${options.worktreeDir} is at ${options.commit.slice(0, 12)} with ${options.patches.length} patch(es) and your edits (${shown.join(', ')}), kept.`);
        return { changed: false };
      }
      const consequence = options.keepEdits ? 'Moving the tree to another commit or patches would drop them' : "A build would compile them into a wheel cached as the clean source's, or drop them";
      throw new SourceError(
        `The worktree ${options.worktreeDir} has changes that are not the commit ${state.commit.slice(0, 12)} + patches it was prepared with: ${shown.join(', ')}. ` +
          `${consequence}, so it stops. Keep them as a patch listed in vllm.json "patches" ` +
          `(\`git -C ${options.worktreeDir} diff HEAD\` shows them with the patches already applied), or drop them: ` +
          `\`git -C ${options.worktreeDir} reset --hard && git -C ${options.worktreeDir} clean -fd\`; then run again.`,
      );
    }
    prepareAgain = edited.length > 0;
  }
  if (unchanged && !prepareAgain) {
    log.info(`Source ${options.worktreeDir} is already at ${options.commit.slice(0, 12)} with ${options.patches.length} patch(es).`);
    return { changed: false };
  }

  const run = async ({ recloned }: { recloned: boolean }) => {
    const mirror = gitClient({ cwd: options.mirrorDir, env: options.env, timeoutMs: 10 * 60_000, dryRun, log });
    if (!dryRun) rmSync(options.stateFile, { force: true });
    // A mirror cloned again has none of the old worktrees' metadata: the worktree is made anew.
    if (!valid || recloned) {
      log.step(`Creating the source worktree ${options.worktreeDir} at ${options.commit.slice(0, 12)}`);
      if (!dryRun) rmSync(options.worktreeDir, { recursive: true, force: true });
      await mirror.mutate(['worktree', 'prune']);
      await mirror.mutate(['worktree', 'add', '--force', '--detach', options.worktreeDir, options.commit]);
    } else {
      log.step(`Moving the source worktree ${options.worktreeDir} to ${options.commit.slice(0, 12)} (build dir kept: incremental)`);
      await resetClean(wt);
      // --force: without it, git exits 0 when it cannot read a blob, and leaves that file missing.
      await wt.mutate(['checkout', '--quiet', '--force', '--detach', options.commit]);
    }
    for (const patch of options.patches) {
      log.info(`Applying patch ${patch.name}`);
      try {
        await wt.mutate(['apply', '--whitespace=nowarn', patch.file]);
      } catch (e) {
        await resetClean(wt);
        const reason = (e as Error).message.split('\n').filter((l) => /error|patch failed|does not apply/i.test(l)).join('; ');
        throw new SourceError(
          `Patch ${patch.name} does not apply to ${options.commit.slice(0, 12)}: ${reason || (e as Error).message}. The worktree was reset to the clean commit.`,
          { cause: e },
        );
      }
    }
    for (const edit of edits) {
      if (dryRun) {
        log.info(`[dry-run] would apply ${edit.name}`);
        continue;
      }
      log.info(`Applying ${edit.name}`);
      try {
        edit.apply(options.worktreeDir);
      } catch (e) {
        await resetClean(wt);
        throw e;
      }
    }
    if (dryRun) log.info(`[dry-run] would write ${options.stateFile}`);
    else writeFileAtomic(options.stateFile, JSON.stringify({ ...wanted, tree: await localChanges(wt, ownFiles) }));
  };
  await withMirrorLock(options, () => recoveringDamagedMirror(options, run));
  return { changed: true };
}

/** Drops local changes to tracked files and untracked files (not ignored ones: build/ survives). */
async function resetClean(wt: ReturnType<typeof gitClient>): Promise<void> {
  await wt.mutate(['reset', '--quiet', '--hard']);
  await wt.mutate(['clean', '-fdq']);
}
