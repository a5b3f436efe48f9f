import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `dir`, by path relative to it (sorted), with its bytes. */
export function fileTree(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p);
    }
  };
  walk(dir);
  return out;
}

/** Every file under `dir`, by relative path, with its hex sha256 (readable in a failed assertion). */
export function treeHashes(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(fileTree(dir)).map(([path, bytes]) => [path, createHash('sha256').update(bytes).digest('hex')]));
}
