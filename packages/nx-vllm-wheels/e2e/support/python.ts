import { execFileSync } from 'node:child_process';
import { pip } from '../../src/test-support/venv';

export { freshVenv, pip } from '../../src/test-support/venv';

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
