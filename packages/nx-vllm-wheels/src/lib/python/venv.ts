import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolError } from '../errors';
import type { Logger } from '../log';
import { which } from '../process';
import type { PythonInterpreter } from './find-python';
import type { BuildRequirements } from './requirements';
import { createStampedVenv, isVenvComplete, readStamp, venvCommandRunner, venvLayout, type VenvLayout } from './stamped-venv';

export interface IndexSettings {
  /**
   * The index torch comes from (the PyTorch CPU index by default); searched before the others. Absent for
   * a ROCm build, whose torch is one of its base wheels, named in the requirements as a file.
   */
  torchIndexUrl?: string;
  /** Replaces PyPI as the main index when set. */
  indexUrl?: string;
  extraIndexUrls: readonly string[];
}

export interface BuildVenvOptions extends IndexSettings {
  venvsDir: string;
  locksDir: string;
  python: PythonInterpreter;
  requirements: BuildRequirements;
  installer: 'auto' | 'uv' | 'pip';
  env: Record<string, string | undefined>;
  log: Logger;
  dryRun: boolean;
  timeoutMs?: number;
  /** What takes the place of the requirements files' index options, as the log says it (default: torch.json's indexes). */
  indexesInstead?: string;
}

export interface BuildVenv {
  dir: string;
  /** The venv's python. */
  python: string;
  key: string;
  reused: boolean;
}

/** The venv's identity: the interpreter's full version, the requirements and where they come from. */
export function venvKey(options: Pick<BuildVenvOptions, 'python' | 'requirements' | 'torchIndexUrl' | 'indexUrl' | 'extraIndexUrls'>): string {
  const identity = JSON.stringify({
    python: options.python.version,
    requirements: options.requirements.lines,
    torchIndexUrl: options.torchIndexUrl,
    indexUrl: options.indexUrl ?? null,
    extraIndexUrls: options.extraIndexUrls,
  });
  return `py${options.python.version}-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

export function venvPaths(venvsDir: string, key: string): VenvLayout {
  return venvLayout(join(venvsDir, key));
}

/** Passwords embedded in index URLs (https://user:token@host/...), never to be printed. */
export function urlSecrets(urls: readonly (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const u of urls) {
    if (!u) continue;
    try {
      const parsed = new URL(u);
      if (parsed.password) out.push(decodeURIComponent(parsed.password), parsed.password);
      if (parsed.username && !parsed.password) out.push(decodeURIComponent(parsed.username));
    } catch {
      // not a URL: nothing embedded
    }
  }
  return out;
}

/**
 * A build venv keyed by python + requirements + indexes, in the machine cache: created once (uv when
 * available, else python -m venv + pip), then reused. A stamp written last marks it complete, so a venv
 * whose creation was interrupted is never taken as good (see ./stamped-venv.ts).
 */
export async function ensureBuildVenv(options: BuildVenvOptions): Promise<BuildVenv> {
  const key = venvKey(options);
  const paths = venvPaths(options.venvsDir, key);
  const { log } = options;
  if (isVenvComplete(paths.dir)) {
    log.info(`Build environment ${paths.dir} is ready (torch ${options.requirements.torchPin ?? 'unpinned'}); reusing it.`);
    return { dir: paths.dir, python: paths.python, key, reused: true };
  }
  let installer: 'uv' | 'pip' = 'pip';
  const populate = async () => {
    installer = chooseInstaller(options.installer, options.env);
    log.step(`Creating build environment ${paths.dir} with ${installer} (python ${options.python.version}, ${options.requirements.torchPin ?? 'no torch pin'})`);
    if (options.requirements.droppedIndexOptions.length) {
      log.info(`Index options in ${options.requirements.files.join(', ')} are replaced by ${options.indexesInstead ?? "torch.json's indexes"}: ${options.requirements.droppedIndexOptions.join('; ')}`);
    }
    const secrets = urlSecrets([options.torchIndexUrl, options.indexUrl, ...options.extraIndexUrls]);
    const exec = venvCommandRunner({
      cwd: options.venvsDir,
      env: options.env,
      timeoutMs: options.timeoutMs ?? 60 * 60_000,
      log,
      dryRun: options.dryRun,
      secrets,
      withholdResolutionSettings: true,
      indexUrls: [options.torchIndexUrl, options.indexUrl, ...options.extraIndexUrls],
    });
    const requirementsFile = join(paths.dir, 'build-requirements.txt');
    const indexArgs = [
      ...(options.indexUrl ? ['--index-url', options.indexUrl] : []),
      ...(options.torchIndexUrl ? ['--extra-index-url', options.torchIndexUrl] : []),
      ...options.extraIndexUrls.flatMap((u) => ['--extra-index-url', u]),
    ];
    if (installer === 'uv') {
      const uv = which('uv', options.env) as string;
      await exec(uv, ['venv', '--python', options.python.path, paths.dir]);
      writeRequirements(options, requirementsFile);
      // uv's default strategy takes each package from the first index that has it, and the PyTorch CPU
      // index carries old copies of setuptools & co; pip's behaviour (best match across indexes) is needed.
      await exec(uv, ['pip', 'install', '--python', paths.python, '--index-strategy', 'unsafe-best-match', '-r', requirementsFile, ...indexArgs]);
    } else {
      await exec(options.python.path, ['-m', 'venv', paths.dir]);
      writeRequirements(options, requirementsFile);
      await exec(paths.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', requirementsFile, ...indexArgs]);
    }
  };
  await createStampedVenv({
    dir: paths.dir,
    lockPath: join(options.locksDir, `venv-${key}.lock`),
    stamp: () => ({ key, python: options.python.version, requirements: options.requirements.lines, installer }),
    populate,
    waitMessage: `Waiting for another process creating ${paths.dir}…`,
    log,
    dryRun: options.dryRun,
  });
  return { dir: paths.dir, python: paths.python, key, reused: false };
}

export function readVenvStamp(venvsDir: string, key: string): unknown | undefined {
  return readStamp(venvPaths(venvsDir, key).dir);
}

function chooseInstaller(wanted: BuildVenvOptions['installer'], env: Record<string, string | undefined>): 'uv' | 'pip' {
  const hasUv = which('uv', env) !== undefined;
  if (wanted === 'uv' && !hasUv) throw new ToolError('torch.json asks for installer "uv", but uv is not on PATH. Install uv or use "auto".');
  return wanted === 'pip' || !hasUv ? 'pip' : 'uv';
}

function writeRequirements(options: BuildVenvOptions, file: string): void {
  const text = `${options.requirements.lines.join('\n')}\n`;
  if (options.dryRun) options.log.info(`[dry-run] would write ${file}:\n${text}`);
  else writeFileSync(file, text);
}
