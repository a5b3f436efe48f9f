import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/process';
import { writeTestWheel } from './test-wheel';

/** A wheel of `name` (its package is `vllm/`) whose METADATA requires `requires`. */
export function writeRequiringWheel(dir: string, name: string, version: string, requires: readonly string[]): Promise<string> {
  const metadata = ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, ...requires.map((r) => `Requires-Dist: ${r}`), ''].join('\n');
  return writeTestWheel(dir, name, version, { metadata });
}

/**
 * An sdist (setuptools, no wheel anywhere) of `tinydep` 1.0, which needs `six` from PyPI, in `<dir>/links`
 * (a --find-links directory) and as a PEP 503 index `<dir>/simple` (its file:// URL is returned as `indexUrl`).
 */
export async function writeTinydepSdist(dir: string): Promise<{ links: string; indexUrl: string }> {
  const root = join(dir, 'src', 'tinydep-1.0');
  mkdirSync(join(root, 'tinydep'), { recursive: true });
  writeFileSync(join(root, 'pyproject.toml'), '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "tinydep"\nversion = "1.0"\ndependencies = ["six"]\n');
  writeFileSync(join(root, 'PKG-INFO'), 'Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n');
  writeFileSync(join(root, 'tinydep', '__init__.py'), 'import six\nVALUE = 42\n');
  const links = join(dir, 'links');
  mkdirSync(links, { recursive: true });
  await run('tar', ['-czf', join(links, 'tinydep-1.0.tar.gz'), '-C', join(dir, 'src'), 'tinydep-1.0'], { cwd: dir, env: { PATH: process.env.PATH }, timeoutMs: 60_000 });
  const page = join(dir, 'simple', 'tinydep');
  mkdirSync(page, { recursive: true });
  writeFileSync(join(page, 'index.html'), `<!DOCTYPE html><html><body><a href="file://${join(links, 'tinydep-1.0.tar.gz')}">tinydep-1.0.tar.gz</a></body></html>\n`);
  return { links, indexUrl: `file://${join(dir, 'simple')}/` };
}
