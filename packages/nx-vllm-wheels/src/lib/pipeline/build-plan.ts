import { commitProfile, CPU_EXTENSION_CMAKE, isaPinDecision, lintVariantEnv, SETUP_PY, type CommitProfile } from '../build';
import { SourceError } from '../errors';
import { readFileAtCommit } from '../git';
import type { SourceSpec, StepContext, VariantSpec } from './context';
import { sourceMirrorDir } from './source';

export interface VariantBuildPlan {
  /** The commit's profile; undefined only in a dry run whose mirror does not have the commit yet. */
  profile?: CommitProfile;
  /** Whether the ISA pin edit and its variable are applied. */
  pin: boolean;
}

/**
 * Before any worktree is touched: reads the locked commit's CPU build files from the mirror, refuses a
 * wheel.json env the commit ignores, and decides whether the ISA pin has anything to pin.
 */
export async function planVariantBuild(source: SourceSpec, variant: VariantSpec, ctx: StepContext, available: boolean): Promise<VariantBuildPlan> {
  const { commit } = source.config;
  if (!available) {
    ctx.log.info(`[dry-run] ${variant.name}: ${commit.slice(0, 12)} is not in the mirror yet, so its env is not checked against ${CPU_EXTENSION_CMAKE} and the ISA pin follows "pinIsa".`);
    return { pin: variant.config.pinIsa };
  }
  const mirrorDir = sourceMirrorDir(source, ctx);
  const where = `${CPU_EXTENSION_CMAKE} at ${commit.slice(0, 12)}`;
  const cmake = await readFileAtCommit(mirrorDir, commit, CPU_EXTENSION_CMAKE, ctx.env, ctx.log);
  if (cmake === undefined) throw new SourceError(`vLLM ${commit} has no ${CPU_EXTENSION_CMAKE}: it has no CPU build this plugin knows.`);
  const setupPy = await readFileAtCommit(mirrorDir, commit, SETUP_PY, ctx.env, ctx.log);
  const profile = commitProfile({ cmake, setupPy, where });
  const { unchecked } = lintVariantEnv(variant.config.env, profile, { file: variant.configFile, commit });
  if (unchecked.length) {
    ctx.log.warn(`${variant.configFile}: env ${unchecked.join(', ')} not checked: ${CPU_EXTENSION_CMAKE} also reads variables by computed name (${profile.computedReads.join(', ')}).`);
  }
  const decision = isaPinDecision(profile, variant.config);
  ctx.log.info(`${variant.name}: ${where}: ${decision.message}`);
  return { profile, pin: decision.pin };
}
