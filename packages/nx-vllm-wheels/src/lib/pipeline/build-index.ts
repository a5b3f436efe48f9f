import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { IndexConfig } from '../../config';
import { ConfigError } from '../errors';
import { replaceDirAtomic } from '../fs';
import { withoutCredentials } from '../net';
import { buildIndex, IndexError, type IndexState, type PageOptions } from '../index';
import { wheelsDir, wheelsIn, type StepContext, type TorchSpec } from './context';

export interface IndexSpec {
  /** Project name (`wheel-index`). */
  name: string;
  /** index.json, relative to the workspace root (extraWheels are relative to its folder). */
  configFile: string;
  config: IndexConfig;
  /** The member variants (index.json's `variants`, or every variant of the workspace). */
  variants: readonly string[];
}

/** One wheel to index and where it comes from (for messages). */
export interface IndexInput {
  path: string;
  from: string;
}

/** The landing page's options, as `wheel-index:index` renders it: the published pages must be the same. */
export function indexPageOptions(config: IndexConfig, torch: TorchSpec | undefined): PageOptions {
  return {
    title: config.title,
    // The page is published: a private index's credentials are for its users to add, never on the page.
    ...(config.publicUrl !== undefined && { baseUrl: withoutCredentials(config.publicUrl) }),
    ...(torch && { installHints: { torchIndexUrl: withoutCredentials(torch.config.torchIndexUrl) } }),
  };
}

export function indexDir(ctx: StepContext): string {
  return resolve(ctx.workspaceRoot, 'dist', 'index');
}

/**
 * `wheel-index:index`: every member variant's wheel (exactly one in `dist/wheels/<variant>/`) plus
 * index.json's extraWheels, as a static PEP 503/691/658 repository in `dist/index`. Local and
 * deterministic (the merge with what is already published happens when publishing). The whole
 * directory is built beside `dist/index` and swapped in, so a failed run leaves the previous one.
 */
export async function buildWheelIndex(index: IndexSpec, torch: TorchSpec | undefined, ctx: StepContext): Promise<IndexState | undefined> {
  const pending: string[] = [];
  const found: IndexInput[] = [];
  for (const variant of index.variants) {
    const wheel = findVariantWheel(ctx, variant, ctx.dryRun);
    if (wheel) found.push({ path: wheel, from: variant });
    else pending.push(variant);
  }
  return writeWheelIndex({
    index,
    inputs: [...found, ...resolveExtraWheels(ctx, index)],
    pending: pending.map((variant) => `${variant}: the wheel \`nx run ${variant}:wheel\` writes to ${relative(ctx.workspaceRoot, wheelsDir(ctx, variant))} (not built yet)`),
    outDir: indexDir(ctx),
    pages: indexPageOptions(index.config, torch),
    // The variants' wheels are replaced only by rename (ours) or remove + copy (Nx's restore): linked.
    linkable: found.map((f) => f.path),
    ctx,
  });
}

export interface WriteWheelIndexOptions {
  index: IndexSpec;
  /** Every file to index; the same file named twice counts once, two files of one name are refused. */
  inputs: readonly IndexInput[];
  /** What a dry run does not have yet, in words (one line each). */
  pending: readonly string[];
  outDir: string;
  pages: PageOptions;
  /** Inputs that may be hard-linked (outputs of our targets, replaced only by rename). */
  linkable: readonly string[];
  /** The local version an input was built as before it was stripped (recorded in the index state). */
  localVersion?: (wheel: string) => string | undefined;
  ctx: StepContext;
}

/**
 * The index over `inputs` in `outDir`, built beside it and swapped in (a failed run leaves the previous
 * one): the CPU index over the variants' wheels and the ROCm index over their wheelhouses.
 */
export async function writeWheelIndex({ index, inputs: given, pending, outDir, pages, linkable, localVersion, ctx }: WriteWheelIndexOptions): Promise<IndexState | undefined> {
  const rel = (p: string) => relative(ctx.workspaceRoot, p) || '.';
  const inputs = uniqueFileNames(given, rel);
  const count = inputs.length + pending.length;
  ctx.log.step(`${ctx.dryRun ? '[dry-run] would index' : 'Indexing'} ${count} wheel${count === 1 ? '' : 's'} into ${rel(outDir)}`);
  for (const input of inputs) ctx.log.info(`  ${input.from}: ${rel(input.path)}`);
  for (const line of pending) ctx.log.info(`  ${line}`);
  if (ctx.dryRun) {
    ctx.log.info(`[dry-run] would write ${rel(outDir)}: simple/ (PEP 503 + 691), files/ with PEP 658 .metadata, index.html ("${index.config.title}"), index-state.json`);
    return undefined;
  }

  let state: IndexState | undefined;
  await replaceDirAtomic(outDir, async (tmp) => {
    state = await buildIndex({
      wheels: inputs.map((i) => i.path),
      outDir: tmp,
      ...pages,
      onFile: (f) => ctx.log.info(`  ${f.filename}: ${(f.size / 2 ** 20).toFixed(1)} MiB, sha256 ${f.sha256}`),
      hardLink: (wheel) => linkable.includes(wheel),
      ...(localVersion && { localVersion }),
    });
  });
  ctx.log.info(`Index: ${rel(outDir)} (${state!.files.length} files, ${new Set(state!.files.map((f) => f.project)).size} projects)`);
  return state;
}

/** The one `.whl` in `dist/wheels/<variant>/`; undefined only when `allowMissing` and the folder is absent. */
export function findVariantWheel(ctx: StepContext, variant: string, allowMissing = false): string | undefined {
  const dir = wheelsDir(ctx, variant);
  const found = wheelsIn(dir);
  if (found === undefined && allowMissing) return undefined;
  const wheels = found ?? [];
  if (wheels.length !== 1) {
    throw new IndexError(
      `Expected exactly one wheel of ${variant} in ${relative(ctx.workspaceRoot, dir)}, found ${wheels.length}${wheels.length ? ` (${wheels.join(', ')})` : ''}. ` +
        `Run \`nx run ${variant}:wheel\` (it replaces the folder with exactly one wheel).`,
    );
  }
  return join(dir, wheels[0]);
}

/**
 * index.json's extraWheels, relative to its folder; `*` may stand for any characters (not `/`) in the
 * file-name part. Matches are sorted; a pattern matching nothing is a config error.
 */
export function resolveExtraWheels(ctx: StepContext, index: Pick<IndexSpec, 'configFile' | 'config'>): IndexInput[] {
  const base = resolve(ctx.workspaceRoot, dirname(index.configFile));
  const out: IndexInput[] = [];
  index.config.extraWheels.forEach((pattern, i) => {
    const field = `extraWheels[${i}]`;
    const dir = resolve(base, dirname(pattern));
    const name = basename(pattern);
    if (dirname(pattern).includes('*')) {
      throw new ConfigError(`${index.configFile} is invalid:\n  - ${field}: "${pattern}" has a "*" in its folder part; only the file name may be a pattern (e.g. "extra/*.whl")`);
    }
    let matches: string[];
    if (name.includes('*')) {
      const re = new RegExp(`^${name.split('*').map(escapeRegExp).join('[^/]*')}$`);
      matches = listFiles(dir).filter((f) => re.test(f));
    } else {
      matches = listFiles(dir).includes(name) ? [name] : [];
    }
    if (!matches.length) {
      throw new ConfigError(
        `${index.configFile} is invalid:\n  - ${field}: "${pattern}" matches no file in ${relative(ctx.workspaceRoot, dir) || '.'} (paths are relative to ${dirname(index.configFile)}; "*" may stand for part of a file name)`,
      );
    }
    for (const m of matches.sort()) out.push({ path: join(dir, m), from: `${index.configFile} ${field}` });
  });
  return out;
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One input per file name: the same file listed twice counts once; two files with one name are an error naming both. */
function uniqueFileNames(inputs: readonly IndexInput[], rel: (p: string) => string): IndexInput[] {
  const seen = new Map<string, IndexInput>();
  const problems: string[] = [];
  for (const input of inputs) {
    const name = basename(input.path);
    const first = seen.get(name);
    if (!first) seen.set(name, input);
    else if (first.path !== input.path) problems.push(`${name} comes from both ${first.from} (${rel(first.path)}) and ${input.from} (${rel(input.path)})`);
  }
  if (problems.length) throw new IndexError(`An index holds each file name once:\n  ${problems.join('\n  ')}`);
  return [...seen.values()];
}
