import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
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
}

interface WorktreeState {
  commit: string;
  patches: string[];
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
  if (valid && head === options.commit && JSON.stringify(state) === JSON.stringify(wanted)) {
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
    else writeFileAtomic(options.stateFile, JSON.stringify(wanted));
  };
  await withMirrorLock(options, () => recoveringDamagedMirror(options, run));
  return { changed: true };
}

/** Drops local changes to tracked files and untracked files (not ignored ones: build/ survives). */
async function resetClean(wt: ReturnType<typeof gitClient>): Promise<void> {
  await wt.mutate(['reset', '--quiet', '--hard']);
  await wt.mutate(['clean', '-fdq']);
}
