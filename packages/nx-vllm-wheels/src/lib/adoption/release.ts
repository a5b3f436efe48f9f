import { tmpdir } from 'node:os';
import { gitClient } from '../git';
import type { Logger } from '../log';
import type { Family } from './templates';

const RELEASE_TAG = /^v(\d+)\.(\d+)\.(\d+)$/;

/** The newest final-release tag (`vX.Y.Z`, no rc/dev) of a `git ls-remote --tags` listing; undefined when there is none. */
export function latestReleaseTag(listing: string): string | undefined {
  const versions = listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[1]?.replace(/^refs\/tags\//, '').replace(/\^\{\}$/, ''))
    .filter((tag): tag is string => !!tag && RELEASE_TAG.test(tag))
    .map((tag) => ({ tag, parts: RELEASE_TAG.exec(tag)!.slice(1).map(Number) }));
  versions.sort((a, b) => b.parts[0] - a.parts[0] || b.parts[1] - a.parts[1] || b.parts[2] - a.parts[2]);
  return versions[0]?.tag;
}

export type RemoteAnswer = { ok: true; listing: string } | { ok: false; why: string };

/** Asks the remote for its tags (`git ls-remote --tags`, read-only: no mirror is made). Never throws on a network failure. */
export async function listRemoteTags(repository: string, env: Record<string, string | undefined>, log: Logger, timeoutMs = 60_000): Promise<RemoteAnswer> {
  const git = gitClient({ cwd: tmpdir(), env, timeoutMs, dryRun: false, log });
  try {
    return { ok: true, listing: await git.query(['ls-remote', '--tags', '--', repository]) };
  } catch (e) {
    return { ok: false, why: String((e as Error).message).split('\n')[0] };
  }
}

/** The commit a tag names in a `ls-remote --tags` listing (an annotated tag's peeled entry wins). */
export function tagCommit(listing: string, tag: string): string | undefined {
  const entries = new Map(
    listing
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length === 2)
      .map(([sha, name]) => [name, sha] as const),
  );
  return entries.get(`refs/tags/${tag}^{}`) ?? entries.get(`refs/tags/${tag}`);
}

/**
 * The build family a release tag implies, for when the commit's cmake cannot be read (no mirror yet):
 * vLLM 0.17 unified the CPU build. Undefined for a ref that is not a release tag (a branch, a commit).
 * The build still reads the family from the commit (decision 38) and refuses flags it does not read.
 */
export function familyOfRef(ref: string): Family | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?/.exec(ref);
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major === 0 && minor <= 16 ? 'isa-variants' : 'unified';
}
