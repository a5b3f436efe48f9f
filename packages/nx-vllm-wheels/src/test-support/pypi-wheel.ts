import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { testCacheRoot } from './tools';

/**
 * A real wheel from PyPI, kept in the shared test cache (downloaded once per machine, the file renamed
 * into place when complete), or why it is not available (offline, no pip). Synchronous, so a spec can
 * choose `it` or `it.skip` while it registers its tests.
 */
export function cachedPypiWheel(fileName: string, pipArgs: readonly string[]): { path: string } | { skip: string } {
  const dir = join(testCacheRoot(), 'pypi-wheels');
  const path = join(dir, fileName);
  if (existsSync(path)) return { path };
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, '.download-'));
  try {
    const r = spawnSync('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--disable-pip-version-check', '-q', '-d', tmp, ...pipArgs], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PIP_NO_INPUT: '1', ...proxyEnv() },
      encoding: 'utf8',
      timeout: 15 * 60_000,
    });
    const got = existsSync(join(tmp, fileName));
    if (r.status !== 0 || !got) {
      const why = r.error?.message ?? (`${r.stderr ?? ''}`.trim().split('\n').slice(-1)[0] || (got ? '' : `pip did not write ${fileName} (it wrote ${readdirSync(tmp).join(', ') || 'nothing'})`));
      return { skip: `PyPI unreachable or ${fileName} not downloadable: ${why}` };
    }
    renameSync(join(tmp, fileName), path);
    return { path };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function proxyEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => /^(https?|no)_proxy$/i.test(e[0]) && e[1] !== undefined),
  );
}
