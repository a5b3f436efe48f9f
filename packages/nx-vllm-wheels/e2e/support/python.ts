import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TEST_CACHE } from './paths';
import { testToolsBin } from '../../src/test-support/tools';

/**
 * A fresh venv at `dir`, returning its python. Made without its own pip (ensurepip costs seconds per venv):
 * `pip()` runs the tools venv's pip into it (`pip --python`), the same pip a user's venv would have.
 */
export function freshVenv(dir: string): string {
  execFileSync('python3', ['-m', 'venv', '--without-pip', dir], { stdio: 'pipe', timeout: 120_000 });
  return join(dir, 'bin', 'python');
}

/** Real pip acting on the venv of `python` (pip's `--python`), with the test cache and no user pip config. */
export function pip(python: string, args: string[]): string {
  const tools = testToolsBin();
  if (!tools) throw new Error('No tools venv: run the specs through jest.config.js (its global setup makes it).');
  return execFileSync(join(tools, 'python'), ['-m', 'pip', '--python', python, '--disable-pip-version-check', '--no-input', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PIP_CACHE_DIR: join(TEST_CACHE, 'pip'), PIP_FIND_LINKS: '', PIP_CONFIG_FILE: '/dev/null' },
    timeout: 10 * 60_000,
  });
}

/** pip install into a venv, torch from the fixture's CPU index (never PyTorch's or PyPI's). */
export function pipInstall(python: string, args: string[], torchIndexUrl: string): string {
  return pip(python, ['install', '--extra-index-url', torchIndexUrl, ...args]);
}

export function runPython(python: string, code: string, env: Record<string, string> = {}): string {
  return execFileSync(python, ['-c', code], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 }).trim();
}

/** One member's bytes, read with Python's zipfile (a reader independent of ours). */
export function wheelMember(wheel: string, member: string): Buffer {
  const code = 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))';
  return execFileSync('python3', ['-c', code, wheel, member], { maxBuffer: 256 << 20, timeout: 60_000 });
}
