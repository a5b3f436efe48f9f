import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, ToolError } from '../errors';
import { wheelhouseDir, wheelsDir, wheelsIn, type StepContext } from '../pipeline/context';
import { findPython } from '../python';
import { buildWheelhouse, sha256File, type WheelhouseManifest } from '../wheelhouse';
import { BASE_WHEELS_MANIFEST, baseWheelsDir, type RocmSpec } from './base-wheels';
import type { RocmVariantSpec } from './build';

const baseWheelsManifestSchema = z.object({
  wheels: z.array(z.object({ distribution: z.string(), version: z.string(), localVersion: z.string(), file: z.string(), sha256: z.string() })),
});

export type BaseWheelsManifest = z.output<typeof baseWheelsManifestSchema>;

/** base-wheels.json as `<rocm>:base-wheels` wrote it (each wheel's file, sha256 and original local version). */
export function readBaseWheelsManifest(rocm: RocmSpec, ctx: Pick<StepContext, 'workspaceRoot'>): BaseWheelsManifest {
  const manifestPath = join(baseWheelsDir(ctx, rocm), BASE_WHEELS_MANIFEST);
  const rel = relative(ctx.workspaceRoot, manifestPath);
  if (!existsSync(manifestPath)) throw new ToolError(`${rel} does not exist: the ROCm base wheels come from \`nx run ${rocm.name}:base-wheels\`.`);
  try {
    return baseWheelsManifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  } catch (e) {
    throw new ToolError(`${rel} is not a base-wheels manifest (re-run \`nx run ${rocm.name}:base-wheels\`): ${(e as Error).message}`, { cause: e });
  }
}

/** The normalized base wheels `<rocm>:base-wheels` wrote, each checked against the sha256 base-wheels.json gives it. */
export async function readBaseWheels(rocm: RocmSpec, ctx: Pick<StepContext, 'workspaceRoot'>): Promise<{ file: string; path: string; distribution: string; localVersion: string }[]> {
  const dir = baseWheelsDir(ctx, rocm);
  const rel = relative(ctx.workspaceRoot, join(dir, BASE_WHEELS_MANIFEST));
  const manifest = readBaseWheelsManifest(rocm, ctx);
  const wheels = [];
  for (const w of manifest.wheels) {
    const path = join(dir, w.file);
    const actual = existsSync(path) ? await sha256File(path) : 'missing';
    if (actual !== w.sha256) throw new ToolError(`${relative(ctx.workspaceRoot, path)} is not the file ${rel} lists (sha256 ${actual}, expected ${w.sha256}): re-run \`nx run ${rocm.name}:base-wheels\`.`);
    wheels.push({ file: w.file, path, distribution: w.distribution, localVersion: w.localVersion });
  }
  return wheels;
}

/**
 * `<rocm variant>:wheelhouse`: dist/wheelhouse/<variant> holds the normalized base wheels (installed first,
 * from their own files alone, so pip resolves against the ROCm torch and never fetches PyPI's CUDA one),
 * the variant's wheel, and the closure of its requirements as wheels (sdists built to wheels) from rocm.json's
 * indexUrl (PyPI by default) and extraIndexUrls, pinned by wheel.json's wheelhouse.constraints when set;
 * manifest.json lists every file with its sha256 and role. This is what the ROCm index publishes.
 */
export async function buildRocmWheelhouse(variant: RocmVariantSpec, rocm: RocmSpec, ctx: StepContext): Promise<WheelhouseManifest | undefined> {
  const { log } = ctx;
  const rel = (p: string) => relative(ctx.workspaceRoot, p);
  const wheels = wheelsDir(ctx, variant.name);
  const found = wheelsIn(wheels) ?? [];
  if (found.length !== 1 && !ctx.dryRun) {
    throw new ToolError(`${rel(wheels)} holds ${found.length ? found.join(', ') : 'no wheel'}: the wheelhouse is made from the one wheel \`nx run ${variant.name}:wheel\` leaves there.`);
  }
  const wheel = found.length === 1 ? join(wheels, found[0]) : join(wheels, `<the wheel of ${variant.name}>`);
  let base: string[];
  if (ctx.dryRun && !existsSync(join(baseWheelsDir(ctx, rocm), BASE_WHEELS_MANIFEST))) {
    log.info(`[dry-run] ${rel(baseWheelsDir(ctx, rocm))} has no base wheels yet: they are installed first, from their files alone.`);
    base = rocm.config.baseWheels.distributions.map((d) => join(baseWheelsDir(ctx, rocm), `<${d} wheel>`));
  } else {
    base = (await readBaseWheels(rocm, ctx)).map((w) => w.path);
  }
  const constraintsFile = variant.config.wheelhouse.constraints;
  const constraints = constraintsFile === undefined ? undefined : resolve(ctx.workspaceRoot, dirname(variant.configFile), constraintsFile);
  if (constraints && !existsSync(constraints)) {
    throw new ConfigError(`${variant.configFile}:\n  - wheelhouse.constraints: ${rel(constraints)} does not exist (a pip constraints file relative to the variant's folder, e.g. the constraints.txt a wheelhouse wrote)`);
  }
  if (!constraints) log.info(`Dependencies are resolved from the indexes as they are now (no wheelhouse.constraints in ${variant.configFile}); the result is cached until an input changes.`);
  const dir = wheelhouseDir(ctx, variant.name);
  const manifest = await buildWheelhouse({
    python: await findPython(rocm.config.python, ctx.env, rocm.configFile),
    base: { requirements: base, source: { noIndex: true } },
    // Whatever needs torch & co. gets the base's build or is refused: never another one from the indexes.
    onlyFromBase: rocm.config.baseWheels.distributions,
    requirements: [wheel],
    source: { indexUrl: rocm.config.indexUrl, extraIndexUrls: rocm.config.extraIndexUrls },
    constraints,
    dir,
    // Torch's HIP libraries come from ROCm (excluded from the wheels): the image must have it (decision 60).
    dockerfile: { title: variant.config.distribution, baseImage: `python:${rocm.config.python}-slim` },
    env: ctx.env,
    log,
    dryRun: ctx.dryRun,
  });
  if (manifest) {
    const fromSdists = manifest.files.filter((f) => f.builtFromSdist).length;
    log.info(
      `${rel(dir)}: ${manifest.files.length} wheels (${manifest.files.filter((f) => f.role === 'base').length} base, ${fromSdists} built from sdists), manifest.json, constraints.txt, Dockerfile. ` +
        `Offline: pip install --no-index --find-links ${rel(dir)} ${variant.config.distribution}`,
    );
  }
  return manifest;
}
