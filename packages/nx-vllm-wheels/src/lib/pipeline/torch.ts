import { join } from 'node:path';
import { readFileAtCommit } from '../git';
import { ensureBuildVenv, findPython, readBuildRequirements, type BuildRequirements, type BuildVenv } from '../python';
import type { SourceSpec, StepContext, TorchSpec } from './context';
import { sourceAvailable, sourceMirrorDir } from './source';

/**
 * `torch-cpu:install`: the build venv for the locked source — torch as the source pins it (from the
 * configured CPU index) plus the build tools the source asks for. Reused while its key is unchanged.
 */
export async function installTorch(source: SourceSpec, torch: TorchSpec, ctx: StepContext): Promise<BuildVenv> {
  const python = await findPython(torch.config.python, ctx.env);
  const mirrorDir = sourceMirrorDir(source, ctx);
  let requirements: BuildRequirements;
  if (ctx.dryRun && !(await sourceAvailable(source, ctx))) {
    ctx.log.info(`[dry-run] would read the build requirements (${torch.config.requirements.join(' or ')}) at ${source.config.commit.slice(0, 12)}; the venv path below is keyed by them.`);
    requirements = { lines: [`<${torch.config.requirements[0]} at ${source.config.commit.slice(0, 12)}>`], droppedIndexOptions: [], files: [] };
  } else {
    requirements = await readBuildRequirements(torch.config.requirements, (path) => readFileAtCommit(mirrorDir, source.config.commit, path, ctx.env, ctx.log));
  }
  return ensureBuildVenv({
    venvsDir: ctx.cache.venvs,
    locksDir: join(ctx.cache.root, 'locks'),
    python,
    requirements,
    torchIndexUrl: torch.config.torchIndexUrl,
    indexUrl: torch.config.indexUrl,
    extraIndexUrls: torch.config.extraIndexUrls,
    installer: torch.config.installer,
    env: ctx.env,
    log: ctx.log,
    dryRun: ctx.dryRun,
  });
}
