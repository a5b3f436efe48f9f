import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VllmWheelsError } from '../errors';
import { replaceDirAtomic, writeFileAtomic } from '../fs';
import type { Logger } from '../log';
import { formatCommand, formatEnvChanges, formatPlannedCommand, run } from '../process';

export interface RawBuildOptions {
  sourceDir: string;
  venvPython: string;
  env: Record<string, string | undefined>;
  /** Printed (by a dry run too) instead of the whole environment: what is set, and removed (undefined). */
  shownEnv: Record<string, string | undefined>;
  /** Final directory of the raw wheel (dist/raw/<variant>); replaced only when the build succeeded. */
  outDir: string;
  /** Small JSON record written beside the wheel (what was built from what). */
  buildInfo: Record<string, unknown>;
  /** Sees every output line; problems() after a successful run fail the build (nothing is written). */
  watcher?: { onLine(line: string): void; problems(): string[] };
  log: Logger;
  dryRun: boolean;
  timeoutMs?: number;
  /** Told the build command's pid as it starts (the build lock records it). */
  onSpawn?: (pid: number) => void;
}

/** vLLM's CPU build command: a cp38-abi3 wheel, as upstream's release does. */
export function rawBuildCommand(venvPython: string, distDir: string): [string, string[]] {
  return [venvPython, ['setup.py', 'bdist_wheel', '--dist-dir', distDir, '--py-limited-api=cp38']];
}

/**
 * Stale copies setuptools leaves between builds: build/lib* (build_py never deletes a file that left the
 * source, so it would ship) and *.egg-info. build/temp* (CMake + ninja state) stays: that is what makes
 * the next build incremental.
 */
function removeStalePythonCopies(sourceDir: string, log: Logger, dryRun: boolean): void {
  const stale: string[] = [];
  for (const entry of safeList(join(sourceDir, 'build'))) if (/^(lib|bdist)[.]/.test(entry) || entry === 'lib') stale.push(join('build', entry));
  for (const entry of safeList(sourceDir)) if (entry.endsWith('.egg-info')) stale.push(entry);
  for (const s of stale) {
    if (dryRun) log.info(`[dry-run] would remove ${join(sourceDir, s)}`);
    else rmSync(join(sourceDir, s), { recursive: true, force: true });
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Runs the vLLM build in the worktree, streaming its output, and puts the one raw wheel in `outDir`. */
export async function buildRawWheel(options: RawBuildOptions): Promise<string | undefined> {
  const { log } = options;
  removeStalePythonCopies(options.sourceDir, log, options.dryRun);
  if (options.dryRun) {
    const [cmd, args] = rawBuildCommand(options.venvPython, '<temp dir>');
    log.info(formatPlannedCommand({ command: cmd, args, cwd: options.sourceDir, env: options.shownEnv }));
    log.info(`[dry-run] would write ${join(options.outDir, '<name>.whl')} and ${join(options.outDir, 'build-info.json')}`);
    return undefined;
  }
  let wheelName = '';
  await replaceDirAtomic(options.outDir, async (tmp) => {
    const [cmd, args] = rawBuildCommand(options.venvPython, tmp);
    log.step(`Building (cwd ${options.sourceDir}): ${formatCommand(cmd, args)}`);
    log.info(`  env: ${formatEnvChanges(options.shownEnv)}`);
    await run(cmd, args, {
      cwd: options.sourceDir,
      env: options.env,
      timeoutMs: options.timeoutMs ?? 6 * 60 * 60_000,
      onSpawn: options.onSpawn,
      onLine: (line) => {
        log.info(line);
        options.watcher?.onLine(line);
      },
    });
    const problems = options.watcher?.problems() ?? [];
    if (problems.length) {
      throw new VllmWheelsError(`The build did not produce what the variant declares: ${problems.join('; ')}. Nothing was written.`);
    }
    const wheels = readdirSync(tmp).filter((f) => f.endsWith('.whl'));
    if (wheels.length !== 1) throw new VllmWheelsError(`The build produced ${wheels.length} wheels in its dist dir (expected exactly 1): ${wheels.join(', ') || 'none'}.`);
    wheelName = wheels[0];
    writeFileAtomic(join(tmp, 'build-info.json'), `${JSON.stringify({ wheel: wheelName, ...options.buildInfo }, null, 2)}\n`);
  });
  log.info(`Raw wheel: ${join(options.outDir, wheelName)}`);
  return join(options.outDir, wheelName);
}
