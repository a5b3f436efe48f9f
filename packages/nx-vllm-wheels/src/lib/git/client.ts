import { existsSync } from 'node:fs';
import { simpleGit, type SimpleGit } from 'simple-git';
import { SourceError, ToolError } from '../errors';
import type { Logger } from '../log';
import { formatCommand, which } from '../process';

export interface GitClientOptions {
  /** Directory git runs in (must exist). */
  cwd: string;
  env: Record<string, string | undefined>;
  /** Kill git when it has been silent this long. */
  timeoutMs: number;
  dryRun: boolean;
  log: Logger;
}

/**
 * Real git through simple-git, with the dry-run split made explicit: `query` runs read-only commands
 * (always, so a dry run can still inspect state), `mutate` runs commands that change something (in a
 * dry run it only prints them).
 */
export interface GitClient {
  readonly cwd: string;
  query(args: readonly string[]): Promise<string>;
  /** Like query, but resolves to undefined instead of throwing. */
  tryQuery(args: readonly string[]): Promise<string | undefined>;
  mutate(args: readonly string[]): Promise<string>;
}

/** Environment for git: the caller's, minus anything that would make the user's config leak into builds. */
export function gitEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
}

export function assertGitAvailable(env: Record<string, string | undefined>): void {
  if (!which('git', env)) {
    throw new ToolError(`git is required but was not found on PATH (${env.PATH ?? 'PATH is unset'}). Install git and retry.`);
  }
}

export function gitClient(options: GitClientOptions): GitClient {
  assertGitAvailable(options.env);
  let git: SimpleGit | undefined;
  const instance = (): SimpleGit => {
    if (!existsSync(options.cwd)) throw new SourceError(`git cannot run in ${options.cwd}: the directory does not exist.`);
    git ??= simpleGit({ baseDir: options.cwd, binary: 'git', maxConcurrentProcesses: 1, timeout: { block: options.timeoutMs } }).env(
      Object.fromEntries(Object.entries(gitEnv(options.env)).filter((e): e is [string, string] => e[1] !== undefined)),
    );
    return git;
  };
  const query = async (args: readonly string[]) => {
    try {
      return await instance().raw([...args]);
    } catch (e) {
      throw new SourceError(`git ${args.join(' ')} failed in ${options.cwd}: ${String((e as Error).message).trim()}`, { cause: e });
    }
  };
  return {
    cwd: options.cwd,
    query,
    tryQuery: (args) => query(args).catch(() => undefined),
    mutate: async (args) => {
      if (options.dryRun) {
        options.log.info(`[dry-run] would run (cwd ${options.cwd}): ${formatCommand('git', args)}`);
        return '';
      }
      return query(args);
    },
  };
}
