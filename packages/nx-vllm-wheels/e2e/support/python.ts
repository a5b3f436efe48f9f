import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TEST_CACHE } from './paths';

/** A fresh venv at `dir` (python -m venv), returning its python. */
export function freshVenv(dir: string): string {
  execFileSync('python3', ['-m', 'venv', dir], { stdio: 'pipe', timeout: 120_000 });
  return join(dir, 'bin', 'python');
}

/** pip install into a venv, torch from the fixture's CPU index (never PyTorch's or PyPI's). */
export function pipInstall(python: string, args: string[], torchIndexUrl: string): string {
  return execFileSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--extra-index-url', torchIndexUrl, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PIP_CACHE_DIR: join(TEST_CACHE, 'pip'), PIP_FIND_LINKS: '' },
    timeout: 10 * 60_000,
  });
}

export function runPython(python: string, code: string, env: Record<string, string> = {}): string {
  return execFileSync(python, ['-c', code], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 }).trim();
}

/** One member's bytes, read with Python's zipfile (a reader independent of ours). */
export function wheelMember(wheel: string, member: string): Buffer {
  const code = 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))';
  return execFileSync('python3', ['-c', code, wheel, member], { maxBuffer: 256 << 20, timeout: 60_000 });
}
