import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, SourceError } from '../errors';
import { writeFileAtomic } from '../fs';
import { commitState, ensureCommit, isAncestor, prepareWorktree, resolveRefWithKind, type Patch } from '../git';
import type { SourceSpec, StepContext, UnlockedSourceSpec, VariantSpec } from './context';
import { isaPinEdit, USER_PRESETS_FILE } from '../build';
import { sourceThirdParty } from './third-party';

/**
 * Every source shares one mirror (`git/vllm.git`): sources that lock several versions of one repository
 * need one 1 GiB clone, not one each. A source with another URL (a fork, an internal mirror) points the
 * mirror's origin at its URL when it fetches (see ensureMirror); its commits join the same object store.
 */
export const SOURCE_MIRROR = 'vllm';

/** The bare mirror every source's commits are fetched into. */
export function sourceMirrorDir(_source: UnlockedSourceSpec, ctx: StepContext): string {
  return ctx.cache.mirror(SOURCE_MIRROR);
}

/** The mirror and its lock, which every worktree made from it shares (a fetch never races a worktree add). */
function mirrorOptions(source: UnlockedSourceSpec, ctx: StepContext) {
  return {
    mirrorDir: ctx.cache.mirror(SOURCE_MIRROR),
    lockDir: ctx.cache.lock(`git-${SOURCE_MIRROR}`),
    repository: repositoryUrl(source, ctx),
    env: ctx.env,
    log: ctx.log,
    dryRun: ctx.dryRun,
  };
}

/** A relative local path in vllm.json is relative to the workspace root; URLs pass through. */
export function repositoryUrl(source: UnlockedSourceSpec, ctx: StepContext): string {
  const repo = source.config.repository;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^/]+:/.test(repo) || repo.startsWith('/')) return repo;
  return resolve(ctx.workspaceRoot, repo);
}

/**
 * The source as a locked spec, or undefined after warning that `waiting` (what cannot happen yet) waits for
 * `nx run <source>:lock`: the steps a user may run on a freshly imported source skip it instead of failing.
 */
export function lockedOrWarn(source: UnlockedSourceSpec, waiting: string, ctx: Pick<StepContext, 'log'>): SourceSpec | undefined {
  const { commit } = source.config;
  if (commit === undefined) {
    ctx.log.warn(`${source.configFile} is not locked: ${waiting} until \`nx run ${source.name}:lock\` pins "ref" (${source.config.ref}).`);
    return undefined;
  }
  return { ...source, config: { ...source.config, commit } };
}

export function patchesOf(source: SourceSpec, ctx: StepContext): Patch[] {
  const base = dirname(source.configFile);
  return source.config.patches.map((p) => ({ name: join(base, p), file: resolve(ctx.workspaceRoot, base, p) }));
}

/**
 * `vllm:checkout`: the locked commit is in the machine's mirror (cloned once, fetched only if missing),
 * and so are the third-party sources it pins for this machine (decision 41).
 */
export async function checkoutSource(source: SourceSpec, ctx: StepContext): Promise<void> {
  const available = await ensureSourceCommit(source, ctx, { sayWhenPresent: true });
  await sourceThirdParty(source, available ? sourceMirrorDir(source, ctx) : undefined, ctx);
}

/**
 * The locked commit in the machine's mirror (cloned once, fetched only when missing): what `checkout`
 * does first, and what every build does itself, so that `checkout` need not run (as a process) before
 * builds that are cache hits. True when the mirror holds the commit: always in a real run; in a dry run,
 * false when the cache is empty (the clone is only shown).
 */
export async function ensureSourceCommit(source: SourceSpec, ctx: StepContext, { sayWhenPresent = false } = {}): Promise<boolean> {
  const { commit } = source.config;
  const result = await ensureCommit({ ...mirrorOptions(source, ctx), commit });
  if (sayWhenPresent && !result.cloned && !result.fetched) ctx.log.info(`${source.name}: ${commit.slice(0, 12)} is in the mirror ${sourceMirrorDir(source, ctx)}; nothing to fetch.`);
  return !ctx.dryRun || (await sourceAvailable(source, ctx));
}

export interface LockOptions {
  /**
   * Lock this commit instead of the head of "ref" (`nx run <source>:lock --commit=<sha>`): it must be on
   * "ref" (its commit or an ancestor). The nightly workflow resolves the branch once and every runner
   * locks the same commit, whatever was pushed meanwhile.
   */
  commit?: string;
}

/**
 * `vllm:lock`: resolves "ref" to a commit and rewrites vllm.json's "commit" (like a lockfile update).
 * A source with `"follow": true` follows the branch "ref" (a tag or a commit id there is a config
 * error); a source that does not follow but names a branch gets a warning, since its lock then moves
 * each time someone runs lock.
 */
export async function lockSource(source: UnlockedSourceSpec, ctx: StepContext, options: LockOptions = {}): Promise<string> {
  const { ref, follow } = source.config;
  if (options.commit !== undefined && !/^[0-9a-f]{40}$/.test(options.commit)) {
    throw new ConfigError(`--commit ${JSON.stringify(options.commit)} must be a full 40-character lowercase hex commit id (of "${ref}" in ${source.configFile}).`);
  }
  const mirror = mirrorOptions(source, ctx);
  const resolved = await resolveRefWithKind({ ...mirror, ref });
  if (follow && resolved.kind !== 'branch') {
    throw new ConfigError(
      `${source.configFile} is invalid:\n  - ref: "${ref}" is a ${resolved.kind === 'tag' ? 'tag' : 'commit id'} of ${mirror.repository}, but "follow": true needs a branch to follow (e.g. "main"); to pin it, remove "follow"`,
    );
  }
  if (!follow && resolved.kind === 'branch') {
    ctx.log.warn(
      `${source.configFile}: "ref": "${ref}" is a branch, so this lock pins its head today and moves whenever lock runs again. ` +
        'Name a tag to pin a release, or set "follow": true to follow the branch on purpose (a nightly channel).',
    );
  }
  const commit = options.commit === undefined ? resolved.commit : await commitOnRef(source, ctx, options.commit, resolved.commit);
  const file = resolve(ctx.workspaceRoot, source.configFile);
  if (commit === source.config.commit) {
    ctx.log.info(`${source.configFile}: ${options.commit ? `${commit} is on "${ref}" and already the lock` : `"${ref}" is still ${commit}`}; unchanged.`);
    return commit;
  }
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  json.commit = commit;
  const was = source.config.commit ? `was ${source.config.commit}` : 'was not locked';
  const what = options.commit ? `${commit} (on "${ref}", whose head is ${resolved.commit.slice(0, 12)})` : `"${ref}" locked to ${commit}`;
  if (ctx.dryRun) {
    ctx.log.info(`[dry-run] would write ${source.configFile} with "commit": "${commit}" (${was})`);
  } else {
    writeFileAtomic(file, `${JSON.stringify(json, null, 2)}\n`);
    ctx.log.info(`${source.configFile}: ${what} (${was}).`);
  }
  return commit;
}

/** `lock --commit`: the commit must be the head of "ref" or reachable from it, in the (just fetched) mirror. */
async function commitOnRef(source: UnlockedSourceSpec, ctx: StepContext, commit: string, head: string): Promise<string> {
  if (commit === head) return commit;
  const mirrorDir = sourceMirrorDir(source, ctx);
  const { ref } = source.config;
  if ((await commitState(mirrorDir, commit, ctx.env, ctx.log)) !== 'present') {
    if (ctx.dryRun) {
      ctx.log.info(`[dry-run] ${commit.slice(0, 12)} is not in the mirror yet; a real run fetches and checks that it is on "${ref}".`);
      return commit;
    }
    throw new SourceError(`--commit ${commit} does not exist in ${repositoryUrl(source, ctx)} (fetched just now); "${ref}" is at ${head}.`);
  }
  if (!(await isAncestor(mirrorDir, commit, head, ctx.env, ctx.log))) {
    if (ctx.dryRun && (await commitState(mirrorDir, head, ctx.env, ctx.log)) !== 'present') {
      ctx.log.info(`[dry-run] the head of "${ref}" (${head.slice(0, 12)}) is not in the mirror yet; a real run fetches and checks that ${commit.slice(0, 12)} is on it.`);
      return commit;
    }
    throw new SourceError(`--commit ${commit} is not on "${ref}" of ${repositoryUrl(source, ctx)} (its head ${head} does not contain it); ${source.configFile} is left as it was.`);
  }
  return commit;
}

/** True when the locked commit is in the machine's mirror; a damaged mirror is an error, not a missing commit. */
export async function sourceAvailable(source: SourceSpec, ctx: StepContext): Promise<boolean> {
  const mirrorDir = sourceMirrorDir(source, ctx);
  const state = await commitState(mirrorDir, source.config.commit, ctx.env, ctx.log);
  if (state === 'damaged') {
    throw new SourceError(
      `git cannot read commit ${source.config.commit} in the mirror ${mirrorDir}: an object is damaged. \`nx run ${source.name}:checkout\` checks the mirror with git fsck and clones it again.`,
    );
  }
  return state === 'present';
}

/** The variant's own worktree at the locked commit with the patches (and, when `pinIsa`, the ISA pin) applied; kept between builds. */
export async function prepareVariantSource(source: SourceSpec, variant: Pick<VariantSpec, 'name'>, ctx: StepContext, pinIsa: boolean, options: { keepEdits?: boolean } = {}): Promise<string> {
  const mirror = mirrorOptions(source, ctx);
  const mirrorDir = mirror.mirrorDir;
  // A damaged commit is not a missing one: prepareWorktree checks the mirror and clones it again.
  if ((await commitState(mirrorDir, source.config.commit, ctx.env, ctx.log)) === 'absent') {
    if (!ctx.dryRun) throw new SourceError(`Commit ${source.config.commit} is not in the mirror ${mirrorDir} (ensureSourceCommit makes it available first).`);
    ctx.log.info(`[dry-run] ${source.config.commit.slice(0, 12)} is not in the mirror yet (a real run's checkout would have fetched it).`);
  }
  const worktreeDir = ctx.cache.worktree(variant.name);
  await prepareWorktree({
    ...mirror,
    worktreeDir,
    stateFile: ctx.cache.worktreeState(variant.name),
    commit: source.config.commit,
    patches: patchesOf(source, ctx),
    edits: pinIsa ? [isaPinEdit] : [],
    // `<variant>:dev` writes it; not an edit of vLLM's source.
    ownFiles: [USER_PRESETS_FILE],
    keepEdits: options.keepEdits,
  });
  return worktreeDir;
}
