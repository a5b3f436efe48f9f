import {
  armLevelEnv,
  checkFamilyRules,
  commitProfile,
  compilerNeed,
  CPU_EXTENSION_CMAKE,
  isaPinDecision,
  lintVariantEnv,
  selectCompiler,
  SETUP_PY,
  type CommitProfile,
  type CompilerChoice,
} from '../build';
import { SourceError, ToolError } from '../errors';
import { readFilesWithPatches } from '../git';
import type { SourceSpec, StepContext, VariantSpec } from './context';
import { patchesOf, sourceMirrorDir } from './source';

export interface VariantBuildPlan {
  /** The commit's profile; undefined only in a dry run whose mirror does not have the commit yet. */
  profile?: CommitProfile;
  /** Whether the ISA pin edit and its variable are applied. */
  pin: boolean;
  /** The compiler the commit's GNU requirement chose (its CXX/CC go into the build env); undefined: none applies, CMake's default. */
  compiler?: CompilerChoice;
  /** The VLLM_CPU_ARM_* variables the aarch64 level sets (armLevelEnv); empty elsewhere. */
  levelEnv?: Record<string, string>;
}

/**
 * Before any worktree is touched: reads the locked commit's CPU build files from the mirror, refuses a
 * wheel.json env the commit ignores or an isa its family does not build, decides whether the ISA pin has
 * anything to pin, and chooses a compiler that meets the commit's GNU requirement (or fails, saying why).
 */
export async function planVariantBuild(source: SourceSpec, variant: VariantSpec, ctx: StepContext, available: boolean): Promise<VariantBuildPlan> {
  const { commit } = source.config;
  if (!available) {
    ctx.log.info(`[dry-run] ${variant.name}: ${commit.slice(0, 12)} is not in the mirror yet, so its env is not checked against ${CPU_EXTENSION_CMAKE}, the ISA pin follows "pinIsa" and no compiler is chosen for its GNU requirement.`);
    return { pin: variant.config.pinIsa };
  }
  const mirrorDir = sourceMirrorDir(source, ctx);
  // The build reads what the worktree will hold: the commit with the source's patches applied.
  const { files, patchedBy } = await readFilesWithPatches(mirrorDir, commit, [CPU_EXTENSION_CMAKE, SETUP_PY], patchesOf(source, ctx), ctx.env, ctx.log);
  const where = `${CPU_EXTENSION_CMAKE} at ${commit.slice(0, 12)}${patchedBy.length ? ` with ${patchedBy.join(', ')}` : ''}`;
  const cmake = files[CPU_EXTENSION_CMAKE];
  if (cmake === undefined) throw new SourceError(`vLLM ${commit} has no ${CPU_EXTENSION_CMAKE}${patchedBy.length ? ` once ${patchedBy.join(', ')} are applied` : ''}: it has no CPU build this plugin knows.`);
  const setupPy = files[SETUP_PY];
  const profile = commitProfile({ cmake, setupPy, where });
  const { unchecked } = lintVariantEnv(variant.config.env, profile, { file: variant.configFile, commit });
  if (unchecked.length) {
    ctx.log.warn(`${variant.configFile}: env ${unchecked.join(', ')} not checked: ${CPU_EXTENSION_CMAKE} also reads variables by computed name (${profile.computedReads.join(', ')}).`);
  }
  checkFamilyRules(profile, variant.config, { file: variant.configFile, commit });
  const levelEnv = armLevelEnv(profile, variant.config, { file: variant.configFile, commit });
  const decision = isaPinDecision(profile, variant.config);
  const forced = Object.entries(levelEnv).map(([k, v]) => `${k}=${v}`);
  ctx.log.info(`${variant.name}: ${where}: ${decision.message}${forced.length ? ` The level sets ${forced.join(' ')}.` : ''}`);
  return { profile, pin: decision.pin, levelEnv, ...(await chooseCompiler(profile, variant, ctx, commit)) };
}

async function chooseCompiler(profile: CommitProfile, variant: VariantSpec, ctx: StepContext, commit: string): Promise<{ compiler?: CompilerChoice }> {
  const need = compilerNeed(profile, variant.config);
  if (!need) return {};
  try {
    const compiler = await selectCompiler({ need, variantEnv: variant.config.env, env: ctx.env, cwd: ctx.workspaceRoot, configFile: variant.configFile, commit });
    ctx.log.info(`${variant.name}: ${compiler.message}`);
    return { compiler };
  } catch (e) {
    if (!(ctx.dryRun && e instanceof ToolError)) throw e;
    ctx.log.info(`[dry-run] ${variant.name}: the real run would fail here: ${e.message}`);
    return {};
  }
}
