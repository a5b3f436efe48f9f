import type { PreTasksExecution } from '@nx/devkit';

/** True when the command line asks the executors for a dry run. */
export function isDryRunArgv(argv: readonly string[]): boolean {
  return argv.some((a) => /^--(dry-run|dryRun)(=true)?$/.test(a));
}

/**
 * A dry run must neither read nor write the cache: replaying a cached dry run would make Nx restore
 * its empty outputs over real wheels, and a cache hit would preview nothing. So `--dry-run` turns the
 * cache off for that one command (NX_SKIP_NX_CACHE, which Nx reads after this hook).
 */
export const preTasksExecution: PreTasksExecution = (_options, context) => {
  if (isDryRunArgv(context.argv)) process.env.NX_SKIP_NX_CACHE = 'true';
};
