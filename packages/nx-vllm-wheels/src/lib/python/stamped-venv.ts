import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withLock, writeFileAtomic } from '../fs';
import type { Logger } from '../log';
import { envChanges, formatCommand, formatPlannedCommand, redact, run, type RunOptions } from '../process';
import { withoutResolutionSettings } from './resolution-env';

/**
 * Venvs in the machine cache, completed by a stamp (docs/decisions.md 8): venvs are not relocatable, so
 * one is created at its final keyed path under an inter-process lock, a stamp file written last marks it
 * complete, and a directory without a stamp is deleted and recreated. Shared by the build venvs
 * (./venv.ts) and the tools venv (../tools).
 */

/** The stamp's file name inside a venv. */
export const VENV_STAMP = 'vllm-wheels-venv.json';

export interface VenvLayout {
  dir: string;
  /** The venv's python. */
  python: string;
  stamp: string;
}

export function venvLayout(dir: string): VenvLayout {
  return { dir, python: join(dir, 'bin', 'python'), stamp: join(dir, VENV_STAMP) };
}

/** A venv is complete when its stamp (written last) and its python exist. */
export function isVenvComplete(dir: string): boolean {
  const layout = venvLayout(dir);
  return existsSync(layout.stamp) && existsSync(layout.python);
}

/** The parsed stamp of a venv, or undefined when it has none (or an unreadable one). */
export function readStamp(dir: string): unknown | undefined {
  try {
    return JSON.parse(readFileSync(venvLayout(dir).stamp, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface StampedVenvOptions {
  /** The venv's final (keyed) path. */
  dir: string;
  /** The inter-process lock held while the venv is created. */
  lockPath: string;
  /** The stamp's content, asked for when `populate` succeeded and written (as JSON) last. */
  stamp: () => unknown;
  /**
   * Creates the venv at `dir` and installs into it. Called under the lock, after whatever was at `dir`
   * (an interrupted attempt) has been removed; not called when another process completed the venv while
   * this one waited for the lock.
   */
  populate: () => Promise<void>;
  /** Logged once when another process holds the lock. */
  waitMessage: string;
  log: Logger;
  /** Nothing is removed, created or locked; `populate` is still called (it prints what it would do). */
  dryRun: boolean;
}

/** Creates a stamped venv (see the top of this file); a no-op when it is already complete. */
export async function createStampedVenv(options: StampedVenvOptions): Promise<void> {
  const { dir, log } = options;
  const layout = venvLayout(dir);
  const create = async () => {
    if (isVenvComplete(dir)) return; // another process finished it while we waited
    if (!options.dryRun) rmSync(dir, { recursive: true, force: true });
    await options.populate();
    if (options.dryRun) log.info(`[dry-run] would write ${layout.stamp}`);
    else writeFileAtomic(layout.stamp, JSON.stringify(options.stamp(), null, 2));
  };
  if (options.dryRun) await create();
  else await withLock(options.lockPath, create, { onWait: () => log.info(options.waitMessage) });
}

export interface VenvCommandOptions {
  /** Where the commands run (never the user's current directory); created when missing. */
  cwd: string;
  /** The caller's environment; what must be controlled is overridden (see VENV_ENV_OVERRIDES). */
  env: Record<string, string | undefined>;
  timeoutMs: number;
  log: Logger;
  dryRun: boolean;
  /** Values masked in everything printed (passwords in index URLs). */
  secrets?: readonly string[];
  /**
   * Drop the caller's PIP_* / UV_* variables that could change what is resolved, and uv's config files
   * (a build venv's content must follow from torch.json and the source alone; see resolution-env.ts).
   */
  withholdResolutionSettings?: boolean;
  /** Index URLs the commands use; pip's "no page for this project" warnings about the file:// ones are not logged (see missingFileIndexPage). */
  indexUrls?: readonly (string | undefined)[];
}

/**
 * pip's warning that a file:// index has no page for a project ("WARNING: Location 'file:///…/simple/cmake/'
 * is ignored: it is neither a file nor a directory."), for an index of `indexUrls`. An http index answers
 * 404 for such a project and pip says nothing; a local torch index holds torch alone, so pip would print it
 * for every other package of every install (issue 13: eight times per build venv in the demo).
 */
export function missingFileIndexPage(line: string, indexUrls: readonly (string | undefined)[]): boolean {
  // pip colours it when the environment asks for colour (Nx sets FORCE_COLOR for its tasks).
  const plain = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim();
  const m = /^WARNING: Location '(file:\/\/[^']*)' is ignored: it is neither a file nor a directory\.$/.exec(plain);
  if (!m) return false;
  const roots = indexUrls.filter((u): u is string => !!u && u.startsWith('file://')).map((u) => u.replace(/\/*$/, '/'));
  return roots.some((root) => m[1].startsWith(root) && /^[^/]+\/?$/.test(m[1].slice(root.length)));
}

/**
 * What is controlled in the environment of venv/pip commands; everything else of the user's environment
 * (proxies, certificates, PIP_INDEX_URL, PIP_FIND_LINKS, …) is kept. An active venv or a PYTHONHOME
 * would make `python -m venv`/pip act on the wrong interpreter; PYTHONPATH would leak packages into it;
 * PIP_USER/PIP_TARGET/PIP_PREFIX would install outside the venv.
 */
export const VENV_ENV_OVERRIDES: Readonly<Record<string, string | undefined>> = {
  PIP_NO_INPUT: '1',
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  VIRTUAL_ENV: undefined,
  PYTHONHOME: undefined,
  PYTHONPATH: undefined,
  PIP_USER: undefined,
  PIP_TARGET: undefined,
  PIP_PREFIX: undefined,
};

/**
 * Runs venv/pip commands: each is printed (secrets masked) and its output streamed to the log while it
 * runs; in a dry run it is only printed.
 */
export function venvCommandRunner(options: VenvCommandOptions): (command: string, args: readonly string[]) => Promise<void> {
  const secrets = options.secrets ?? [];
  const base = options.withholdResolutionSettings ? { ...withoutResolutionSettings(options.env), UV_NO_CONFIG: '1' } : options.env;
  const env: RunOptions['env'] = { ...base, ...VENV_ENV_OVERRIDES };
  return async (command, args) => {
    if (options.dryRun) {
      options.log.info(formatPlannedCommand({ command, args, cwd: options.cwd, env: envChanges(options.env, env), secrets }));
      return;
    }
    const shown = redact(formatCommand(command, args), secrets);
    options.log.info(`$ ${shown}`);
    mkdirSync(options.cwd, { recursive: true });
    await run(command, args, {
      cwd: options.cwd,
      env,
      timeoutMs: options.timeoutMs,
      secrets,
      onLine: (line) => {
        if (line.trim() && !missingFileIndexPage(line, options.indexUrls ?? [])) options.log.info(redact(`  ${line}`, secrets));
      },
    });
  };
}
