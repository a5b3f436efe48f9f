import { join } from 'node:path';
import { readFileAtCommit } from '../git';
import { ensureBuildVenv, findPython, readBuildRequirements, type BuildRequirements, type BuildVenv } from '../python';
import type { SourceSpec, StepContext } from '../pipeline/context';
import { sourceMirrorDir } from '../pipeline/source';
import { baseWheelsDir, type RocmSpec } from './base-wheels';
import { baseWheelRequirements, readBaseWheelsManifest } from './base-wheels-manifest';
import type { BaseWheelPin } from './base-set-requirements';

/** vLLM's ROCm build requirements (upstream's name), then the name the fixture's CPU files moved to. */
export const ROCM_BUILD_REQUIREMENTS = ['requirements/rocm-build.txt', 'requirements/build/rocm.txt'] as const;

/**
 * The ROCm build venv: the environment's python with the stripped base wheels installed as direct file
 * references (never an index's torch), and the build tools the source's rocm-build requirements name
 * (their `torch==2.9.0` is the base wheel's version: the local versions are stripped). Its index options
 * (upstream: the PyTorch ROCm index) are dropped; the tools come from PyPI. Keyed like the CPU venv, so the
 * base wheels' sha256s and the requirements choose it.
 */
export async function ensureRocmBuildVenv(source: SourceSpec, rocm: RocmSpec, ctx: StepContext, available: boolean): Promise<BuildVenv & { baseWheels: BaseWheelPin[] }> {
  const python = await findPython(rocm.config.python, ctx.env);
  const baseDir = baseWheelsDir(ctx, rocm);
  let tools: BuildRequirements;
  if (!available) {
    ctx.log.info(`[dry-run] would read the build requirements (${ROCM_BUILD_REQUIREMENTS.join(' or ')}) at ${source.config.commit.slice(0, 12)}`);
    tools = { lines: [`<${ROCM_BUILD_REQUIREMENTS[0]} at ${source.config.commit.slice(0, 12)}>`], droppedIndexOptions: [], files: [] };
  } else {
    const mirrorDir = sourceMirrorDir(source, ctx);
    tools = await readBuildRequirements(ROCM_BUILD_REQUIREMENTS, (path) => readFileAtCommit(mirrorDir, source.config.commit, path, ctx.env, ctx.log));
  }
  let base: string[];
  let baseWheels: BaseWheelPin[] = [];
  try {
    const manifest = readBaseWheelsManifest(baseDir, rocm.name);
    base = baseWheelRequirements(baseDir, manifest);
    baseWheels = manifest.wheels.map((w) => ({ distribution: w.distribution, version: w.version }));
  } catch (e) {
    if (!ctx.dryRun) throw e;
    ctx.log.info(`[dry-run] ${baseDir} has no base wheels yet (\`nx run ${rocm.name}:base-wheels\` writes them); the venv installs each as \`<name> @ file://…#sha256=…\``);
    base = [`<the base wheels of ${baseDir}>`];
  }
  const torchPin = base.find((l) => l.startsWith('torch @ '));
  const venv = await ensureBuildVenv({
    venvsDir: ctx.cache.venvs,
    locksDir: join(ctx.cache.root, 'locks'),
    python,
    requirements: { ...tools, lines: [...base, ...tools.lines], ...(torchPin ? { torchPin: torchPin.replace(/#sha256=.*$/, '') } : {}) },
    extraIndexUrls: [],
    installer: 'auto',
    env: ctx.env,
    log: ctx.log,
    dryRun: ctx.dryRun,
  });
  return { ...venv, baseWheels };
}
