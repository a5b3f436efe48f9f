import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { IndexConfig } from '../../config';
import { IndexError, type IndexState, type PageOptions } from '../index';
import { withoutCredentials } from '../net';
import { resolveExtraWheels, writeWheelIndex, type IndexInput, type IndexSpec } from '../pipeline/build-index';
import { wheelhouseDir, type StepContext } from '../pipeline/context';
import { normalizeName } from '../wheel/names';
import { MANIFEST_FILE, readManifest } from '../wheelhouse';
import type { RocmSpec } from './base-wheels';
import type { RocmVariantSpec } from './build';
import { readBaseWheelsManifest } from './wheelhouse';

/** index.json's default title is the CPU index's; a ROCm index says what it is unless it was given one. */
const CPU_DEFAULT_TITLE = 'vLLM CPU wheels';

/** Where a ROCm index is built: its own folder (dist/index is the CPU index's, replaced as a whole). */
export function rocmIndexDir(ctx: Pick<StepContext, 'workspaceRoot'>, index: Pick<IndexSpec, 'name'>): string {
  return resolve(ctx.workspaceRoot, 'dist', 'rocm-index', index.name);
}

/** The ROCm index's landing page: one command per variant, from this index alone. */
export function rocmIndexPageOptions(config: IndexConfig, variants: readonly RocmVariantSpec[]): PageOptions {
  return {
    title: config.title === CPU_DEFAULT_TITLE ? 'vLLM ROCm wheels' : config.title,
    ...(config.publicUrl !== undefined && { baseUrl: withoutCredentials(config.publicUrl) }),
    installHints: { selfContained: [...new Set(variants.map((v) => normalizeName(v.config.distribution)))].sort() },
  };
}

/**
 * `<rocm index>:index`: every file of each member variant's wheelhouse (the normalized base wheels, the
 * dependencies, the vLLM wheel: manifest.json lists them) plus index.json's extraWheels, as a static PEP
 * 503/691/658 repository in dist/rocm-index/<project>, from which `pip install <distribution> --index-url
 * <index>/simple/` installs everything. The same file in two wheelhouses (the base wheels) counts once;
 * one file name with other bytes is refused.
 */
export async function buildRocmIndex(index: IndexSpec, variants: readonly RocmVariantSpec[], rocm: RocmSpec, ctx: StepContext): Promise<IndexState | undefined> {
  const rel = (p: string) => relative(ctx.workspaceRoot, p);
  const byName = new Map<string, IndexInput & { sha256: string }>();
  const clashes: string[] = [];
  const pending: string[] = [];
  for (const variant of variants) {
    const dir = wheelhouseDir(ctx, variant.name);
    const manifestPath = join(dir, MANIFEST_FILE);
    if (!existsSync(manifestPath)) {
      if (ctx.dryRun) {
        pending.push(`${variant.name}: the wheelhouse \`nx run ${variant.name}:wheelhouse\` writes to ${rel(dir)} (not built yet)`);
        continue;
      }
      throw new IndexError(`${rel(manifestPath)} does not exist: the ROCm index is made from the wheelhouse \`nx run ${variant.name}:wheelhouse\` writes.`);
    }
    for (const file of readManifest(manifestPath).files) {
      const first = byName.get(file.file);
      if (!first) byName.set(file.file, { path: join(dir, file.file), from: `${variant.name} (${file.role})`, sha256: file.sha256 });
      else if (first.sha256 !== file.sha256) clashes.push(`${file.file}: ${first.from} has sha256 ${first.sha256}, ${variant.name} has ${file.sha256}`);
    }
  }
  if (clashes.length) {
    throw new IndexError(`The wheelhouses of ${index.name}'s variants hold different files of one name (an index holds each name once):\n  ${clashes.join('\n  ')}`);
  }
  const found = [...byName.values()].map(({ path, from }) => ({ path, from }));
  // Each base wheel's original local version goes into the index state, so a publish refuses a second
  // build of a published version under other tags (decision 60). The same file (name and sha256) only.
  const built = new Map<string, string>();
  if (!ctx.dryRun) {
    for (const w of readBaseWheelsManifest(rocm, ctx).wheels) {
      const input = byName.get(w.file);
      if (input && input.sha256 === w.sha256) built.set(input.path, w.localVersion);
    }
  }
  return writeWheelIndex({
    index,
    inputs: [...found, ...resolveExtraWheels(ctx, index)],
    pending,
    outDir: rocmIndexDir(ctx, index),
    pages: rocmIndexPageOptions(index.config, variants),
    // The wheelhouse is replaced by rename (ours) or remove + copy (Nx's restore): its files may be linked.
    linkable: found.map((f) => f.path),
    localVersion: (wheel) => built.get(wheel),
    ctx,
  });
}
