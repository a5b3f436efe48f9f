import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { machine } from 'node:os';
import { join } from 'node:path';
import { CPU_EXTENSION_CMAKE, pinsForArch, readThirdPartySources, type ThirdPartyPin } from '../build';
import { ConfigError, SourceError } from '../errors';
import { ensureCommitCopy, ensurePinnedRef, readFileAtCommit } from '../git';
import type { SourceSpec, StepContext, VariantSpec } from './context';

/** One third-party source a build reads from the machine cache instead of downloading it. */
export interface ThirdPartyUse {
  name: string;
  repository: string;
  ref: string;
  /** undefined only in a dry run whose mirror does not hold the ref yet. */
  commit?: string;
  variable: string;
  /** Where the build reads it (a machine-cache path: never part of a hash or of the build info). */
  dir: string;
}

export interface PreparedThirdParty {
  /** The variables that point the build at the checkouts. */
  env: Record<string, string>;
  /**
   * The same for FetchContent's own cache variables (FETCHCONTENT_SOURCE_DIR_<NAME>), as `-D` options:
   * vLLM copies the variable into the CMake cache without FORCE, so in a kept build dir the first value
   * would win over a later one (a bumped pin would silently build the old checkout).
   */
  cmakeDefines: Record<string, string>;
  used: ThirdPartyUse[];
}

/** Names a third-party mirror in the machine cache: the FetchContent name, plus the repository URL's digest (a fork is another mirror). */
export function thirdPartyKey(pin: Pick<ThirdPartyPin, 'name' | 'repository'>): string {
  const name = pin.name.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${name}-${createHash('sha256').update(pin.repository).digest('hex').slice(0, 12)}`;
}

/** This machine's architecture as vLLM's builds name it (`os.machine()`: x86_64, aarch64…). */
export function hostArch(): string {
  return machine();
}

/**
 * Refuses a wheel.json `env` that sets a variable the plugin sets to its mirrored checkout (the known
 * ones are refused by the schema already; this covers any a commit's cmake names).
 */
export function refusePluginVariables(variantEnv: Record<string, string>, pins: readonly ThirdPartyPin[], configFile: string): void {
  const clashes = pins.filter((p) => p.variable in variantEnv);
  if (clashes.length === 0) return;
  throw new ConfigError(
    `${configFile} is invalid:\n${clashes
      .map((p) => `  - env.${p.variable}: is not allowed here: the plugin sets it to its mirrored checkout of ${p.name} at the commit the vLLM commit pins`)
      .join('\n')}`,
  );
}

export interface ThirdPartyRequest {
  /** The text of the cpu_extension.cmake the build will read. */
  cmake: string;
  /** How that file is named in messages (`cmake/cpu_extension.cmake at 0123456789ab`). */
  where: string;
  arch: string;
  /** Who asks (a variant, or the source project for `checkout`): the prefix of each log line. */
  label: string;
  /**
   * The variant whose build writes into its per-build checkouts (ACL), and whose wheel.json `env` may
   * not set the variables the plugin sets. Without it (`vllm:checkout`) per-build sources are only
   * mirrored; the build makes its own copy from the mirror.
   */
  variant?: Pick<VariantSpec, 'name' | 'configFile'> & { env: Record<string, string> };
  ctx: StepContext;
}

/**
 * Every third-party git source `cmake` would download for `arch`: its pinned ref in a bare mirror in the
 * machine cache (fetched only when missing), a checkout of exactly that commit, and the variable that
 * makes the build read it instead of downloading (decision 41). What cannot be mirrored is named in a
 * warning and left to the build to download.
 */
export async function prepareThirdParty(request: ThirdPartyRequest): Promise<PreparedThirdParty> {
  const { ctx, label } = request;
  const { pins, unmirrored } = pinsForArch(readThirdPartySources(request.cmake), request.arch);
  if (request.variant) refusePluginVariables(request.variant.env, pins, request.variant.configFile);
  for (const u of unmirrored) ctx.log.warn(`${label}: ${request.where}, line ${u.line}: ${u.name} is not mirrored (${u.why}); the build downloads it itself.`);
  const env: Record<string, string> = {};
  const cmakeDefines: Record<string, string> = {};
  const used: ThirdPartyUse[] = [];
  for (const pin of pins) {
    const key = thirdPartyKey(pin);
    if (pin.sharing === 'shared') refuseWhitespace(ctx.cache.thirdPartySource(key, ''), pin.variable);
    const mirror = {
      mirrorDir: ctx.cache.thirdPartyMirror(key),
      lockDir: ctx.cache.lock(`third-party-${key}`),
      repository: pin.repository,
      env: ctx.env,
      log: ctx.log,
      dryRun: ctx.dryRun,
    };
    const { commit } = await ensurePinnedRef({ ...mirror, ref: pin.ref, pinnedIn: `${request.where} (line ${pin.line})` });
    const shown = commit ?? `<commit of ${pin.ref}>`;
    const dir = pin.sharing === 'shared' ? ctx.cache.thirdPartySource(key, shown) : request.variant ? ctx.cache.thirdPartyBuildSource(request.variant.name, key) : undefined;
    if (dir === undefined) {
      ctx.log.info(`${label}: ${pin.name} ${describeRef(pin.ref, commit)} of ${pin.repository} is in the mirror ${mirror.mirrorDir} (each ${request.arch} build checks out its own copy: it builds in it).`);
      continue;
    }
    if (commit !== undefined) await ensureCommitCopy({ ...mirror, commit, targetDir: dir });
    else ctx.log.info(`[dry-run] would check out ${pin.ref} of ${mirror.mirrorDir} into ${dir}`);
    ctx.log.info(`${label}: ${pin.name} ${describeRef(pin.ref, commit)} of ${pin.repository}, from the machine cache: ${pin.variable}=${dir}`);
    env[pin.variable] = dir;
    if (pin.sharing === 'shared') cmakeDefines[pin.variable] = dir;
    used.push({ name: pin.name, repository: pin.repository, ref: pin.ref, commit, variable: pin.variable, dir });
  }
  return { env, cmakeDefines, used };
}

/** vLLM's setup.py splits CMAKE_ARGS on whitespace: a directory with a space cannot be passed through it. Checked before anything is fetched. */
function refuseWhitespace(dir: string, variable: string): void {
  if (!/\s/.test(dir)) return;
  throw new SourceError(
    `The machine cache path ${dir} contains whitespace, and vLLM's setup.py splits CMAKE_ARGS (which carries -D${variable}=…) on whitespace. Set VLLM_WHEELS_CACHE_DIR to a directory whose path has none.`,
  );
}

function describeRef(ref: string, commit: string | undefined): string {
  if (commit === undefined) return `"${ref}"`;
  return ref === commit ? `at ${commit}` : `${ref} (${commit})`;
}

const NOTHING: PreparedThirdParty = { env: {}, cmakeDefines: {}, used: [] };

/**
 * `<variant>:build`: the third-party sources of the cpu_extension.cmake the build will read, the
 * worktree's (with the patches applied), for the variant's arch. A dry run, which has no worktree,
 * reads the commit's from `mirrorDir` (undefined: the mirror does not hold the commit yet).
 */
export async function variantThirdParty(source: SourceSpec, variant: VariantSpec, sourceDir: string, mirrorDir: string | undefined, ctx: StepContext): Promise<PreparedThirdParty> {
  const { commit } = source.config;
  let cmake: string | undefined;
  if (!ctx.dryRun) {
    const file = join(sourceDir, CPU_EXTENSION_CMAKE);
    cmake = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  } else if (mirrorDir !== undefined) {
    cmake = await readFileAtCommit(mirrorDir, commit, CPU_EXTENSION_CMAKE, ctx.env, ctx.log);
  } else {
    ctx.log.info(`[dry-run] ${variant.name}: ${commit.slice(0, 12)} is not in the mirror yet, so the third-party sources its ${CPU_EXTENSION_CMAKE} pins are not known.`);
  }
  if (cmake === undefined) return NOTHING;
  const patched = source.config.patches.length > 0 && !ctx.dryRun ? ' (patched)' : '';
  return prepareThirdParty({
    cmake,
    where: `${CPU_EXTENSION_CMAKE} at ${commit.slice(0, 12)}${patched}`,
    arch: variant.config.arch,
    label: variant.name,
    variant: { name: variant.name, configFile: variant.configFile, env: variant.config.env },
    ctx,
  });
}

/**
 * `vllm:checkout`: the third-party sources the commit pins for this machine's architecture (the only
 * one it builds for) are mirrored, and the shared checkouts made, so that a build needs no network.
 * Sources a patch pins differently are fetched by the build. `mirrorDir` holds the commit (undefined:
 * only in a dry run from an empty cache).
 */
export async function sourceThirdParty(source: SourceSpec, mirrorDir: string | undefined, ctx: StepContext): Promise<void> {
  const { commit } = source.config;
  if (mirrorDir === undefined) {
    ctx.log.info(`[dry-run] ${source.name}: the third-party sources ${commit.slice(0, 12)} pins are known once it is in the mirror.`);
    return;
  }
  const cmake = await readFileAtCommit(mirrorDir, commit, CPU_EXTENSION_CMAKE, ctx.env, ctx.log);
  if (cmake === undefined) return;
  await prepareThirdParty({ cmake, where: `${CPU_EXTENSION_CMAKE} at ${commit.slice(0, 12)}`, arch: hostArch(), label: source.name, ctx });
}
