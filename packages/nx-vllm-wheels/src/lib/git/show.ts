import type { Logger } from '../log';
import { gitClient } from './client';

/** The text of `path` at `commit` in a (bare) repository, or undefined when the file does not exist there. */
export async function readFileAtCommit(
  repoDir: string,
  commit: string,
  path: string,
  env: Record<string, string | undefined>,
  log: Logger,
): Promise<string | undefined> {
  const git = gitClient({ cwd: repoDir, env, timeoutMs: 60_000, dryRun: false, log });
  return git.tryQuery(['show', `${commit}:${path}`]);
}

/** Committer time of `commit` in seconds since the epoch (for SOURCE_DATE_EPOCH). */
export async function commitTime(repoDir: string, commit: string, env: Record<string, string | undefined>, log: Logger): Promise<number> {
  const git = gitClient({ cwd: repoDir, env, timeoutMs: 60_000, dryRun: false, log });
  return Number((await git.query(['show', '-s', '--format=%ct', commit])).trim());
}

/** The tag pointing exactly at `commit` (the newest if several), or undefined. */
export async function exactTag(repoDir: string, commit: string, env: Record<string, string | undefined>, log: Logger): Promise<string | undefined> {
  const git = gitClient({ cwd: repoDir, env, timeoutMs: 60_000, dryRun: false, log });
  return (await git.tryQuery(['describe', '--tags', '--exact-match', commit]))?.trim() || undefined;
}
