import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { describedEnv, devJobs, devPresets, presetsOrigin, presetsText, withBuildLock, USER_PRESETS_FILE, type CmakeUserPresets } from '../build';
import { VllmWheelsError } from '../errors';
import { writeFileAtomic } from '../fs';
import { which } from '../process';
import { checkAndPlanBuild, prepareBuild } from './build';
import type { SourceSpec, StepContext, TorchSpec, VariantSpec } from './context';

export interface DevOptions {
  /** Replace a CMakeUserPresets.json edited by hand or not written by this plugin. */
  force?: boolean;
}

export interface DevResult {
  file: string;
  presets: CmakeUserPresets;
  status: 'created' | 'updated' | 'unchanged' | 'replaced' | 'dry-run';
  /** The commands to run, from the worktree. */
  commands: string[];
}

/**
 * `<variant>:dev`: prepares what the variant's build would (worktree, third-party checkouts, venv, env)
 * with the build's own calls, and writes CMakeUserPresets.json into the worktree, so that
 * `cmake --preset` / `cmake --build --preset … --target install` rebuild only what changed.
 */
export async function devVariant(source: SourceSpec, torch: TorchSpec, variant: VariantSpec, ctx: StepContext, options: DevOptions = {}): Promise<DevResult> {
  // Fetches the commit as the build does (checkAndPlanBuild): this target has no dependsOn either.
  const planned = await checkAndPlanBuild(source, variant, ctx);
  const prepareAndWrite = async () => {
    const prepared = await prepareBuild(source, torch, variant, ctx, planned, { keepEdits: true });
    const { env, venv, sourceDir } = prepared;
    // sccache wins over ccache, both looked up on the build's PATH, as vLLM's setup.py chooses.
    const launcher = which('sccache', env) ?? which('ccache', env);
    if (!launcher) ctx.log.warn(`${variant.name}: neither ccache nor sccache is on PATH: the preset compiles without a compiler cache (so does the build). Install ccache and run this again.`);
    const presets = devPresets({
      name: variant.name,
      description: `vLLM ${source.config.commit.slice(0, 12)} (${source.name}) built as ${variant.name} builds it (isa ${variant.config.isa}); written by nx run ${variant.name}:dev`,
      env,
      setVariables: describedEnv(env, { ...prepared.variantEnv, ...prepared.thirdParty.env }),
      venvPython: venv.python,
      launcher,
      jobs: devJobs(ctx.env.MAX_JOBS, availableParallelism()),
      configFile: variant.configFile,
    });
    const file = join(sourceDir, USER_PRESETS_FILE);
    let status: DevResult['status'];
    try {
      status = writePresets(file, presets, { ...options, dryRun: ctx.dryRun });
    } catch (e) {
      if (!(ctx.dryRun && e instanceof VllmWheelsError)) throw e;
      ctx.log.info(`[dry-run] the real run would fail here: ${e.message}`);
      status = 'dry-run';
    }
    return { file, presets, status, sourceDir, commands: devCommands(variant.name, sourceDir, venv.python) };
  };
  // The worktree is the build's: held under the build's lock while it is prepared and the file written.
  const { file, presets, status, sourceDir, commands } = ctx.dryRun
    ? await prepareAndWrite()
    : await withBuildLock({ lockDir: ctx.cache.lock(`build-${variant.name}`), what: `the worktree ${ctx.cache.worktree(variant.name)}`, log: ctx.log }, prepareAndWrite);
  if (ctx.dryRun) {
    ctx.log.info(`[dry-run] would write ${file}:\n${presetsText(presets)}`);
  } else {
    ctx.log.info(`${file}: ${status}.`);
  }
  ctx.log.info(`To rebuild ${variant.name}'s extensions after editing its sources in ${sourceDir}:\n${commands.map((c) => `  ${c}`).join('\n')}`);
  return { file, presets, status, commands };
}

/** The two commands (from the worktree), with the build venv's cmake when it has one: the machine's may be too old for vLLM. */
export function devCommands(name: string, sourceDir: string, venvPython: string): string[] {
  const venvCmake = join(dirname(venvPython), 'cmake');
  const cmake = existsSync(venvCmake) ? venvCmake : 'cmake';
  return [`cd ${sourceDir}`, `${cmake} --preset ${name}`, `${cmake} --build --preset ${name} --target install`];
}

/** Writes (temp + rename) unless an existing file was edited by hand or written by someone else and `force` is not set. */
function writePresets(file: string, presets: CmakeUserPresets, options: { force?: boolean; dryRun: boolean }): DevResult['status'] {
  const text = presetsText(presets);
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  let status: DevResult['status'] = existing === undefined ? 'created' : 'updated';
  if (existing !== undefined) {
    const origin = presetsOrigin(existing);
    if (origin === 'generated' && existing === text) return options.dryRun ? 'dry-run' : 'unchanged';
    if (origin !== 'generated') {
      if (!options.force) {
        const why = origin === 'edited' ? 'was edited by hand since nx-vllm-wheels wrote it' : 'was not written by nx-vllm-wheels';
        throw new VllmWheelsError(`${file} ${why}; it is left as it is. Re-run with --force to replace it (your changes are lost).`);
      }
      status = 'replaced';
    }
  }
  if (options.dryRun) return 'dry-run';
  writeFileAtomic(file, text);
  return status;
}
