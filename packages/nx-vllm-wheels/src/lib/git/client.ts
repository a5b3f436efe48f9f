import { existsSync } from 'node:fs';
import { simpleGit, type SimpleGit } from 'simple-git';
import { SourceError, ToolError } from '../errors';
import type { Logger } from '../log';
import { envChanges, formatPlannedCommand, interruptSignal, which } from '../process';

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

/**
 * Interactive helpers git never needs here (nothing is edited or paged). simple-git refuses to run with
 * them set, since they can run arbitrary programs; credentials and ssh settings are kept.
 */
const INTERACTIVE_VARIABLES = /^(EDITOR|VISUAL|PAGER|GIT_EDITOR|GIT_SEQUENCE_EDITOR|GIT_PAGER|GIT_EXTERNAL_DIFF|GIT_TEMPLATE_DIR|GIT_EXEC_PATH|PREFIX)$/i;

/** Environment for git: the caller's, non-interactive, without system config or editors. */
export function gitEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!INTERACTIVE_VARIABLES.test(k)) out[k] = v;
  return { ...out, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
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
    const env = Object.fromEntries(Object.entries(gitEnv(options.env)).filter((e): e is [string, string] => e[1] !== undefined));
    git ??= simpleGit({
      baseDir: options.cwd,
      binary: 'git',
      maxConcurrentProcesses: 1,
      timeout: { block: options.timeoutMs },
      abort: interruptSignal, // git runs in our process group, but a SIGTERM for us alone must stop it too
      // simple-git guards every GIT_* variable; these are the caller's own, already stripped of editors
      // and pagers. Private repositories need the user's ssh command, askpass helper and config file; a
      // firewalled user redirects GitHub with url.<mirror>.insteadOf (GIT_CONFIG_COUNT/KEY_n/VALUE_n).
      allowEnvironment: Object.keys(env),
      unsafe: {
        allowUnsafeSshCommand: true,
        allowUnsafeAskPass: true,
        allowUnsafeConfigPaths: true,
        allowUnsafeGitProxy: true,
        allowUnsafeConfigEnvCount: true,
        allowUnsafeUrlRewrite: true,
      },
    }).env(env);
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
        options.log.info(formatPlannedCommand({ command: 'git', args, cwd: options.cwd, env: envChanges(options.env, gitEnv(options.env)) }));
        return '';
      }
      return query(args);
    },
  };
}
