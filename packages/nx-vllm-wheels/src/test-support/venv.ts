import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { testCacheRoot, testToolsBin } from './tools';

/**
 * A fresh venv at `dir`, returning its python. Made without its own pip (ensurepip costs seconds per venv):
 * `pip()` runs the tools venv's pip into it (`pip --python`), the same pip a user's venv would have.
 */
export function freshVenv(dir: string): string {
  const r = spawnSync('python3', ['-m', 'venv', '--without-pip', dir], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python3 -m venv ${dir} failed:\n${r.stdout}${r.stderr}${r.error ?? ''}`);
  return join(dir, 'bin', 'python');
}

/** Real pip acting on the venv of `python` (pip's `--python`), with the test cache and no user pip config. */
export function pipRun(python: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; output: string } {
  const tools = testToolsBin();
  if (!tools) throw new Error('No tools venv: run the specs through jest.config.js (its global setup makes it).');
  const r = spawnSync(join(tools, 'python'), ['-m', 'pip', '--python', python, '--disable-pip-version-check', '--no-input', ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PIP_CACHE_DIR: join(testCacheRoot(), 'pip'), PIP_FIND_LINKS: '', PIP_CONFIG_FILE: '/dev/null' },
    timeout: 10 * 60_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** pipRun that throws with pip's output when pip fails; returns the output. */
export function pip(python: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = pipRun(python, args, options);
  if (r.status !== 0) throw new Error(`pip ${args.join(' ')} failed (${r.status}):\n${r.output}`);
  return r.output;
}
