import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SourceError } from '../errors';
import { writeFileAtomic } from '../fs';
import { commitState, ensureCommit, prepareWorktree, resolveRef, type Patch } from '../git';
import type { SourceSpec, StepContext, UnlockedSourceSpec, VariantSpec } from './context';
import { isaPinEdit } from '../build';
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

export function patchesOf(source: SourceSpec, ctx: StepContext): Patch[] {
  const base = dirname(source.configFile);
  return source.config.patches.map((p) => ({ name: join(base, p), file: resolve(ctx.workspaceRoot, base, p) }));
}

/**
 * `vllm:checkout`: the locked commit is in the machine's mirror (cloned once, fetched only if missing),
 * and so are the third-party sources it pins for this machine (decision 41).
 */
export async function checkoutSource(source: SourceSpec, ctx: StepContext): Promise<void> {
  const { commit } = source.config;
  const result = await ensureCommit({ ...mirrorOptions(source, ctx), commit });
  if (!result.cloned && !result.fetched) ctx.log.info(`${source.name}: ${commit.slice(0, 12)} is in the mirror ${sourceMirrorDir(source, ctx)}; nothing to fetch.`);
  const available = !ctx.dryRun || (await sourceAvailable(source, ctx));
  await sourceThirdParty(source, available ? sourceMirrorDir(source, ctx) : undefined, ctx);
}

/** `vllm:lock`: resolves "ref" to a commit and rewrites vllm.json's "commit" (like a lockfile update). */
export async function lockSource(source: UnlockedSourceSpec, ctx: StepContext): Promise<string> {
  const commit = await resolveRef({ ...mirrorOptions(source, ctx), ref: source.config.ref });
  const file = resolve(ctx.workspaceRoot, source.configFile);
  if (commit === source.config.commit) {
    ctx.log.info(`${source.configFile}: "${source.config.ref}" is still ${commit}; unchanged.`);
    return commit;
  }
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  json.commit = commit;
  const was = source.config.commit ? `was ${source.config.commit}` : 'was not locked';
  if (ctx.dryRun) {
    ctx.log.info(`[dry-run] would write ${source.configFile} with "commit": "${commit}" (${was})`);
  } else {
    writeFileAtomic(file, `${JSON.stringify(json, null, 2)}\n`);
    ctx.log.info(`${source.configFile}: "${source.config.ref}" locked to ${commit} (${was}).`);
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
export async function prepareVariantSource(source: SourceSpec, variant: VariantSpec, ctx: StepContext, pinIsa: boolean): Promise<string> {
  const mirror = mirrorOptions(source, ctx);
  const mirrorDir = mirror.mirrorDir;
  // A damaged commit is not a missing one: prepareWorktree checks the mirror and clones it again.
  if ((await commitState(mirrorDir, source.config.commit, ctx.env, ctx.log)) === 'absent') {
    if (!ctx.dryRun) throw new SourceError(`Commit ${source.config.commit} is not in the mirror ${mirrorDir}. Run \`nx run ${source.name}:checkout\` first.`);
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
  });
  return worktreeDir;
}
