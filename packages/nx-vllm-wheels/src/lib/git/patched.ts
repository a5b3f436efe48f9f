import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SourceError } from '../errors';
import type { Logger } from '../log';
import { gitClient } from './client';
import { readFileAtCommit } from './show';
import type { Patch } from './worktree';

/** The paths a unified diff names (both sides of every file header; /dev/null left out). */
export function pathsInPatch(text: string): Set<string> {
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    const header = /^diff --git a\/(\S+) b\/(\S+)$/.exec(line);
    if (header) header.slice(1).forEach((p) => paths.add(p));
    const side = /^(?:---|\+\+\+) (?:[ab]\/)?(\S+)/.exec(line);
    if (side && side[1] !== '/dev/null') paths.add(side[1]);
  }
  return paths;
}

/**
 * The text of each path at `commit` with the source's patches applied, as the variant's worktree will
 * have it (undefined: the file does not exist there). Read without a worktree, so the build can decide
 * from the patched files before it takes the worktree's lock; only patches that name a path are applied,
 * in their order, to a scratch copy of those files.
 */
export async function readFilesWithPatches(
  repoDir: string,
  commit: string,
  paths: readonly string[],
  patches: readonly Patch[],
  env: Record<string, string | undefined>,
  log: Logger,
): Promise<{ files: Record<string, string | undefined>; patchedBy: string[] }> {
  const files: Record<string, string | undefined> = {};
  for (const path of paths) files[path] = await readFileAtCommit(repoDir, commit, path, env, log);
  const touching = patches.filter((patch) => {
    let text: string;
    try {
      text = readFileSync(patch.file, 'utf8');
    } catch (e) {
      throw new SourceError(`Patch ${patch.name} cannot be read: ${(e as Error).message}`, { cause: e });
    }
    const named = pathsInPatch(text);
    return paths.some((p) => named.has(p));
  });
  if (!touching.length) return { files, patchedBy: [] };

  const scratch = mkdtempSync(join(tmpdir(), 'vllm-wheels-patched-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      if (text === undefined) continue;
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    }
    // Outside any repository (the ceiling stops git from finding one above the scratch dir), git apply
    // patches plain files, as in the worktree; --include keeps it to the files read here.
    const git = gitClient({ cwd: scratch, env: { ...env, GIT_CEILING_DIRECTORIES: dirname(scratch) }, timeoutMs: 60_000, dryRun: false, log });
    for (const patch of touching) {
      try {
        await git.query(['apply', '--whitespace=nowarn', ...paths.map((p) => `--include=${p}`), patch.file]);
      } catch (e) {
        const reason = (e as Error).message.split('\n').filter((l) => /error|patch failed|does not apply/i.test(l)).map((l) => l.replace(/^.*? failed in \S+: /, '').trim());
        throw new SourceError(`Patch ${patch.name} does not apply to ${paths.join(', ')} at ${commit.slice(0, 12)}: ${reason.join('; ') || (e as Error).message}.`, { cause: e });
      }
    }
    for (const path of paths) {
      try {
        files[path] = readFileSync(join(scratch, path), 'utf8');
      } catch {
        files[path] = undefined; // the patches deleted it
      }
    }
    return { files, patchedBy: touching.map((p) => p.name) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
