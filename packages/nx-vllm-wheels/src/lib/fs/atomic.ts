import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isProcessAlive } from './pid';

/** A temporary sibling path of `target`: same directory (so rename is atomic), hidden, unique. */
export function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Removes what a killed process left of its temp siblings of `target` (a SIGKILL leaves no chance to
 * clean up): those whose pid no longer runs. A live process's temp sibling is never touched.
 */
export function removeStaleTempSiblings(target: string): string[] {
  const prefix = `.${basename(target)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-[0-9a-f]{8}$/.exec(name.slice(prefix.length));
    if (!match || isProcessAlive(Number(match[1]))) continue;
    rmSync(join(dirname(target), name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes `data` to `target` through a temp file and a rename: readers never see a half-written file. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Replaces directory `target` with the contents produced by `fill(tempDir)`: the new directory is built
 * beside it and swapped in only when `fill` succeeded; on failure the old one stays as it was. Temp
 * dirs a killed run left beside it are removed first.
 */
export async function replaceDirAtomic(target: string, fill: (tempDir: string) => Promise<void>): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  removeStaleTempSiblings(target);
  const tmp = tempSibling(target);
  mkdirSync(tmp);
  try {
    await fill(tmp);
    const old = tempSibling(target);
    let hadOld = true;
    try {
      renameSync(target, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      hadOld = false;
    }
    renameSync(tmp, target);
    if (hadOld) rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
