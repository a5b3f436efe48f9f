import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigError, ToolError } from '../errors';
import { findPython } from '../python';
import { getHeaders, validateWheel } from '../wheel';
import { normalizeName } from '../wheel/names';
import { buildWheelhouse, type WheelhouseManifest } from '../wheelhouse';
import { stepHost } from './build-host';
import { wheelhouseDir, wheelsDir, wheelsIn, type StepContext, type TorchSpec, type VariantSpec } from './context';

/** The distributions PyTorch publishes on its CPU index, which PyPI serves only as CUDA builds. */
export const PYTORCH_DISTRIBUTIONS = ['torch', 'torchvision', 'torchaudio'];

export { wheelhouseDir };

/** The wheel's Requires-Dist entries on PyTorch's distributions (markers kept: pip evaluates them). */
export function pytorchRequirements(requiresDist: readonly string[]): string[] {
  return requiresDist.filter((r) => {
    const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(r)?.[1];
    return name !== undefined && PYTORCH_DISTRIBUTIONS.includes(normalizeName(name));
  });
}

/**
 * `<variant>:wheelhouse`: dist/wheelhouse/<variant> with the variant's wheel and everything it needs, so
 * `pip install --no-index --find-links dist/wheelhouse/<variant> <distribution>` works offline, plus a
 * Dockerfile installing it. The base installed first is the PyTorch the wheel requires (its Requires-Dist on
 * torch & co.), from torch.json's CPU index alone; the rest is resolved with it installed, from torch.json's
 * indexUrl (PyPI by default) and extraIndexUrls, pinned by wheel.json's wheelhouse.constraints when set.
 */
export async function buildVariantWheelhouse(variant: VariantSpec, torch: TorchSpec, ctx: StepContext): Promise<WheelhouseManifest | undefined> {
  const { log } = ctx;
  const host = stepHost(ctx);
  if (variant.config.arch !== host) {
    throw new ToolError(
      `${variant.name}'s wheelhouse is resolved for the machine's own Python, and ${variant.name} is an ${variant.config.arch} variant (${variant.configFile} "arch") on this ${host} machine: run \`nx run ${variant.name}:wheelhouse\` on ${variant.config.arch}.`,
    );
  }
  const wheels = wheelsDir(ctx, variant.name);
  const rel = (p: string) => relative(ctx.workspaceRoot, p);
  const found = wheelsIn(wheels) ?? [];
  if (found.length !== 1 && !ctx.dryRun) {
    throw new ToolError(`${rel(wheels)} holds ${found.length ? found.join(', ') : 'no wheel'}: the wheelhouse is made from the one wheel \`nx run ${variant.name}:wheel\` leaves there.`);
  }
  const wheel = found.length === 1 ? join(wheels, found[0]) : join(wheels, `<the wheel of ${variant.name}>`);
  let base: string[];
  if (existsSync(wheel)) {
    base = pytorchRequirements(getHeaders((await validateWheel(wheel)).metadata, 'Requires-Dist'));
  } else {
    log.info(`[dry-run] ${rel(wheels)} has no wheel yet: the base is what its Requires-Dist says of ${PYTORCH_DISTRIBUTIONS.join(', ')}.`);
    base = ['<torch as the wheel requires it>'];
  }
  const constraintsFile = variant.config.wheelhouse.constraints;
  const constraints = constraintsFile === undefined ? undefined : resolve(ctx.workspaceRoot, dirname(variant.configFile), constraintsFile);
  if (constraints && !existsSync(constraints)) {
    throw new ConfigError(`${variant.configFile}:\n  - wheelhouse.constraints: ${rel(constraints)} does not exist (a pip constraints file relative to the variant's folder, e.g. the constraints.txt a wheelhouse wrote)`);
  }
  if (!constraints) log.info(`Dependencies are resolved from the indexes as they are now (no wheelhouse.constraints in ${variant.configFile}); the result is cached until an input changes.`);
  const manifest = await buildWheelhouse({
    python: await findPython(torch.config.python, ctx.env),
    base: { requirements: base, source: { indexUrl: torch.config.torchIndexUrl } },
    // A dependency that needs torch when the wheel names none must not get PyPI's (CUDA) build.
    onlyFromBase: PYTORCH_DISTRIBUTIONS,
    requirements: [wheel],
    source: { indexUrl: torch.config.indexUrl, extraIndexUrls: torch.config.extraIndexUrls },
    constraints,
    dir: wheelhouseDir(ctx, variant.name),
    dockerfile: { title: variant.config.distribution, baseImage: `python:${torch.config.python}-slim` },
    env: ctx.env,
    log,
    dryRun: ctx.dryRun,
  });
  if (manifest) {
    const fromSdists = manifest.files.filter((f) => f.builtFromSdist).length;
    log.info(
      `${rel(wheelhouseDir(ctx, variant.name))}: ${manifest.files.length} wheels (${fromSdists} built from sdists), manifest.json, constraints.txt, Dockerfile. ` +
        `Offline: pip install --no-index --find-links ${rel(wheelhouseDir(ctx, variant.name))} ${variant.config.distribution}`,
    );
  }
  return manifest;
}
