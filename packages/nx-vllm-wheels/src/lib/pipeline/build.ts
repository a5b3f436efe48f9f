import { join } from 'node:path';
import { buildEnv, buildRawWheel, describedEnv, droppedIsaWatcher, PINNED_CPU_FLAGS, withBuildLock, type RecordBuildProcess } from '../build';
import { ToolError } from '../errors';
import { commitTime, exactTag } from '../git';
import { rawDir, type SourceSpec, type StepContext, type TorchSpec, type VariantSpec } from './context';
import { buildHostProblem, stepHost } from './build-host';
import { planVariantBuild, type VariantBuildPlan } from './build-plan';
import { ensureSourceCommit, prepareVariantSource, sourceMirrorDir } from './source';
import { variantThirdParty, type PreparedThirdParty } from './third-party';
import { installTorch } from './torch';
import type { BuildVenv } from '../python';

/**
 * `<variant>:build`: the locked commit in the mirror, worktree at it + patches, build venv, vLLM's CPU build -> dist/raw/<variant>.
 * The variant's worktree is locked from its preparation to the end of the build (see withBuildLock).
 */
export async function buildVariant(source: SourceSpec, torch: TorchSpec, variant: VariantSpec, ctx: StepContext): Promise<string | undefined> {
  const { available, plan } = await checkAndPlanBuild(source, variant, ctx);
  if (ctx.dryRun) return prepareAndBuild(source, torch, variant, ctx, { available, plan }, () => undefined);
  const what = `the worktree ${ctx.cache.worktree(variant.name)}`;
  return withBuildLock({ lockDir: ctx.cache.lock(`build-${variant.name}`), what, log: ctx.log }, (record) =>
    prepareAndBuild(source, torch, variant, ctx, { available, plan }, record),
  );
}

/**
 * Before anything is fetched or locked: refuses a machine of another architecture, and plans the build
 * from the mirror alone (env lint, ISA pin, compiler), so a refused wheel.json never waits for the lock.
 */
export async function checkAndPlanBuild(source: SourceSpec, variant: VariantSpec, ctx: StepContext): Promise<{ available: boolean; plan: VariantBuildPlan }> {
  const wrongHost = buildHostProblem(variant, stepHost(ctx));
  if (wrongHost !== undefined) {
    if (!ctx.dryRun) throw new ToolError(wrongHost);
    ctx.log.info(`[dry-run] ${variant.name}: the real run would fail here: ${wrongHost}`);
  }
  // The build fetches its own commit (a no-op when the mirror has it): `checkout` is no task before it, so a
  // run whose builds are all cache hits starts no process and touches no mirror (decision 55).
  const available = await ensureSourceCommit(source, ctx); // false only in a dry run from an empty cache
  // The env lint and the pin decision read only the mirror: a refused wheel.json never waits for the lock.
  return { available, plan: await planVariantBuild(source, variant, ctx, available) };
}

/** What a build of the variant runs with, once its worktree, third-party checkouts and venv are ready. */
export interface PreparedBuild {
  sourceDir: string;
  venv: BuildVenv;
  /** The build's whole environment (buildEnv). */
  env: Record<string, string | undefined>;
  /** wheel.json `env` plus the chosen compiler's and the aarch64 level's variables. */
  variantEnv: Record<string, string>;
  thirdParty: PreparedThirdParty;
  sourceDateEpoch: number;
}

/**
 * Everything before the compile: the worktree at the locked commit (+ patches, + the ISA pin), the
 * third-party checkouts, the build venv, and the environment the build runs in. `<variant>:dev` calls it
 * too, so its CMake presets get exactly what the build gets.
 */
export async function prepareBuild(
  source: SourceSpec,
  torch: TorchSpec,
  variant: VariantSpec,
  ctx: StepContext,
  { available, plan }: { available: boolean; plan: VariantBuildPlan },
  /** The dev loop keeps a developer's edits of the prepared tree; a build refuses them (prepareWorktree). */
  options: { keepEdits?: boolean } = {},
): Promise<PreparedBuild> {
  ctx.log.step(`${variant.name}: preparing the source at ${source.config.commit.slice(0, 12)}`);
  const sourceDir = await prepareVariantSource(source, variant, ctx, plan.pin, options);
  const mirrorDir = sourceMirrorDir(source, ctx);
  const thirdParty = await variantThirdParty(source, variant, sourceDir, available ? mirrorDir : undefined, ctx);
  ctx.log.step(`${variant.name}: build environment`);
  const venv = await installTorch(source, torch, ctx);
  const { sourceDateEpoch, pretendVersion } = await sourceVersionInputs(source, ctx, available, plan.pin);
  // The compiler chosen for the commit's GNU requirement and the aarch64 level's switches, set the way a user would set them.
  const variantEnv = { ...variant.config.env, ...plan.compiler?.env, ...plan.levelEnv };
  const env = buildEnv({
    base: ctx.env,
    variantEnv,
    device: variant.config.device,
    venvPython: venv.python,
    sourceDir,
    sourceDateEpoch,
    ccacheDir: ctx.cache.ccache,
    pretendVersion,
    pinnedCpuFlags: plan.pin ? PINNED_CPU_FLAGS[variant.config.isa] : undefined,
    thirdPartySources: thirdParty.env,
    cmakeDefines: thirdParty.cmakeDefines,
  });
  return { sourceDir, venv, env, variantEnv, thirdParty, sourceDateEpoch };
}

/**
 * The build's timestamp (the commit's time, SOURCE_DATE_EPOCH) and, when patches or other edits leave the
 * tree dirty (which setuptools-scm would turn into a .dev version), the release tag's version to pretend.
 * 0 and none in a dry run from an empty cache.
 */
export async function sourceVersionInputs(source: SourceSpec, ctx: StepContext, available: boolean, otherEdits = false): Promise<{ sourceDateEpoch: number; pretendVersion?: string }> {
  const mirrorDir = sourceMirrorDir(source, ctx);
  const sourceDateEpoch = available ? await commitTime(mirrorDir, source.config.commit, ctx.env, ctx.log) : 0;
  const edited = source.config.patches.length > 0 || otherEdits;
  const tag = available && edited ? await exactTag(mirrorDir, source.config.commit, ctx.env, ctx.log) : undefined;
  return { sourceDateEpoch, ...(tag && /^v?\d/.test(tag) ? { pretendVersion: tag.replace(/^v/, '') } : {}) };
}

async function prepareAndBuild(
  source: SourceSpec,
  torch: TorchSpec,
  variant: VariantSpec,
  ctx: StepContext,
  prepared: { available: boolean; plan: VariantBuildPlan },
  record: RecordBuildProcess,
): Promise<string | undefined> {
  const { plan } = prepared;
  const { sourceDir, venv, env, variantEnv, thirdParty, sourceDateEpoch } = await prepareBuild(source, torch, variant, ctx, prepared);
  ctx.log.step(`${variant.name}: building vLLM (${variant.config.device}, isa ${variant.config.isa}, MAX_JOBS=${env.MAX_JOBS ?? 'all cores'})`);
  return buildRawWheel({
    sourceDir,
    venvPython: venv.python,
    env,
    shownEnv: describedEnv(env, { ...variantEnv, ...thirdParty.env }, ctx.env),
    outDir: rawDir(ctx, variant.name),
    buildInfo: {
      variant: variant.name,
      commit: source.config.commit,
      patches: source.config.patches.map((p) => join(source.configFile, '..', p)),
      isa: variant.config.isa,
      pinIsa: variant.config.pinIsa,
      isaPinned: plan.pin,
      family: plan.profile?.family,
      libraries: plan.profile?.dispatchLibraries,
      ...(plan.compiler ? { compiler: `${plan.compiler.cxx} (GNU ${plan.compiler.version})` } : {}),
      sourceDateEpoch,
      env: variant.config.env,
      // Name, URL, pinned ref and commit; never the checkout's path (machine-specific).
      thirdParty: thirdParty.used.map(({ name, repository, ref, commit }) => ({ name, repository, ref, commit })),
    },
    watcher: droppedIsaWatcher(variant.config.isa),
    log: ctx.log,
    dryRun: ctx.dryRun,
    onSpawn: record,
  });
}
