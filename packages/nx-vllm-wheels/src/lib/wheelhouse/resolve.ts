import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolError } from '../errors';
import type { Logger } from '../log';
import { urlSecrets, venvCommandRunner, venvLayout, type PythonInterpreter } from '../python';
import { escapeName, normalizeName } from '../wheel/names';
import { sha256File, type WheelhouseEntry, type WheelhouseManifest, type WheelRole } from './manifest';
import { readInstallReport, type ReportItem } from './report';

/** Where pip looks for packages (its --index-url, --extra-index-url, --find-links, --no-index). */
export interface PackageSource {
  /** Replaces PyPI when set. */
  indexUrl?: string;
  extraIndexUrls?: readonly string[];
  /** Directories or pages of archives. */
  findLinks?: readonly string[];
  /** Only findLinks: no index at all. */
  noIndex?: boolean;
}

export interface ResolveWheelhouseOptions {
  /** The interpreter the resolution venv is made from: markers and wheel tags are resolved for it. */
  python: PythonInterpreter;
  /**
   * Installed first, exactly these (requirement specifiers or archive paths), without their dependencies
   * and from `base.source` alone. Their dependencies are resolved with everything else, from `source`.
   */
  base: { requirements: readonly string[]; source: PackageSource };
  /**
   * Distributions only the base may provide (e.g. a build of torch other indexes serve differently): the
   * resolution must not bring them in from `source`, whether or not the base installed them.
   */
  onlyFromBase?: readonly string[];
  /** What the wheelhouse must install (requirement specifiers or archive paths), resolved with the base installed. */
  requirements: readonly string[];
  /** Where every package but the base comes from, and where sdists' build dependencies come from. */
  source: PackageSource;
  /** A pip constraints file for the resolution of `requirements` (pins what the index would otherwise choose). */
  constraints?: string;
  /** Receives one wheel per distribution of the closure (base included); should be empty. */
  outDir: string;
  /** Scratch space (the resolution venv, pip's reports); the caller removes it. */
  workDir: string;
  env: Record<string, string | undefined>;
  log: Logger;
  dryRun: boolean;
  timeoutMs?: number;
}

export function sourceArgs(source: PackageSource): string[] {
  return [
    ...(source.noIndex ? ['--no-index'] : source.indexUrl ? ['--index-url', source.indexUrl] : []),
    ...(source.extraIndexUrls ?? []).flatMap((u) => ['--extra-index-url', u]),
    ...(source.findLinks ?? []).flatMap((l) => ['--find-links', l]),
  ];
}

function sourceUrls(source: PackageSource): string[] {
  return [source.indexUrl, ...(source.extraIndexUrls ?? []), ...(source.findLinks ?? [])].filter((u): u is string => Boolean(u));
}

/**
 * The wheelhouse of `requirements` with `base` installed first: a fresh venv gets the base (pip install
 * --no-deps --report), pip resolves the requirements in it without installing (--dry-run --report), so
 * whatever the base provides satisfies its requirement and is never fetched again (a requirement the base
 * does not satisfy is refused, rather than replacing it with another build, such as PyPI's CUDA torch);
 * then the exact files both reports name are fetched into `outDir` (pip wheel --no-deps, sdists built into
 * wheels, each checked against the hash the index gave). `pip install --no-index --find-links outDir
 * <requirement>` then installs offline. Returns the manifest (undefined in a dry run, which prints the commands).
 */
export async function resolveWheelhouse(options: ResolveWheelhouseOptions): Promise<WheelhouseManifest | undefined> {
  const { log, dryRun } = options;
  const secrets = urlSecrets([...sourceUrls(options.base.source), ...sourceUrls(options.source)]);
  const indexUrls = [options.base.source.indexUrl, options.source.indexUrl, ...(options.base.source.extraIndexUrls ?? []), ...(options.source.extraIndexUrls ?? [])];
  const exec = venvCommandRunner({ cwd: options.workDir, env: options.env, timeoutMs: options.timeoutMs ?? 60 * 60_000, log, dryRun, secrets, withholdResolutionSettings: true, indexUrls });
  const venv = venvLayout(join(options.workDir, 'venv'));
  const pip = (args: string[]) => exec(venv.python, ['-m', 'pip', ...args]);
  const baseReport = join(options.workDir, 'base-report.json');
  const report = join(options.workDir, 'report.json');
  const collect = join(options.workDir, 'collect.txt');

  log.step(`Resolution venv (python ${options.python.version})`);
  await exec(options.python.path, ['-m', 'venv', venv.dir]);
  if (options.base.requirements.length) {
    log.step(`Installing the base first: ${options.base.requirements.join(', ')}`);
    await pip(['install', '--no-deps', '--report', baseReport, ...sourceArgs(options.base.source), ...options.base.requirements]);
  }
  log.step(`Resolving ${options.requirements.join(', ')} with the base installed`);
  const constraintArgs = options.constraints ? ['--constraint', options.constraints] : [];
  await pip(['install', '--dry-run', '--report', report, ...sourceArgs(options.source), ...constraintArgs, ...options.requirements]);
  if (dryRun) {
    log.info(`[dry-run] would write ${collect} (each file both reports name, with its sha256) and fetch it:`);
    await pip(['wheel', '--no-deps', '--require-hashes', '--wheel-dir', options.outDir, '--requirement', collect, ...sourceArgs(options.source)]);
    return undefined;
  }

  const base = options.base.requirements.length ? readInstallReport(baseReport) : [];
  const resolved = readInstallReport(report);
  refuseReplacedBase(base, resolved, options.onlyFromBase ?? []);
  const items: { item: ReportItem; role: WheelRole }[] = [
    ...base.map((item) => ({ item, role: 'base' as const })),
    ...resolved.map((item) => ({ item, role: item.requested ? ('requested' as const) : ('dependency' as const) })),
  ];
  // pip turns hash checking on for all lines or none: on when every file has a hash (a file:// index and PyPI give them).
  const hashed = items.every(({ item }) => item.sha256);
  if (!hashed) log.warn(`Some files have no sha256 from their index (${items.filter(({ item }) => !item.sha256).map(({ item }) => item.name).join(', ')}): fetched without hash checking.`);
  writeFileSync(collect, `${items.map(({ item }) => `${item.name} @ ${item.url}${hashed ? ` --hash=sha256:${item.sha256}` : ''}`).join('\n')}\n`);
  log.step(`Fetching ${items.length} distributions into the wheelhouse (sdists are built into wheels)`);
  mkdirSync(options.outDir, { recursive: true });
  await pip(['wheel', '--no-deps', ...(hashed ? ['--require-hashes'] : []), '--wheel-dir', options.outDir, '--requirement', collect, ...sourceArgs(options.source)]);
  return { python: options.python.version, files: await describeWheels(options.outDir, items) };
}

/** pip planned to install another version of a base distribution, or one only the base may provide. */
function refuseReplacedBase(base: readonly ReportItem[], resolved: readonly ReportItem[], onlyFromBase: readonly string[]): void {
  const byName = new Map(base.map((b) => [normalizeName(b.name), b]));
  const reserved = new Set(onlyFromBase.map(normalizeName));
  const clashes = resolved.filter((r) => byName.has(normalizeName(r.name)) || reserved.has(normalizeName(r.name)));
  if (!clashes.length) return;
  const list = clashes
    .map((r) => {
      const installed = byName.get(normalizeName(r.name));
      return `${r.name} ${r.version} (${installed ? `the base has ${installed.version}` : 'only the base may provide it, and it does not'})`;
    })
    .join(', ');
  throw new ToolError(
    `The requirements need ${list}: resolved with the base installed, pip would take it from the dependencies' index. ` +
      'Make the requirements accept what the base provides, or change the base.',
  );
}

/** Each wheel in `dir` matched to the distribution it was fetched for; a missing or unexpected file is an error. */
async function describeWheels(dir: string, items: readonly { item: ReportItem; role: WheelRole }[]): Promise<WheelhouseEntry[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.whl'));
  const key = (name: string, version: string) => `${escapeName(name)}-${version.replace(/-/g, '_').toLowerCase()}`;
  const byKey = new Map(files.map((f) => [f.split('-').slice(0, 2).join('-').toLowerCase(), f]));
  const entries: WheelhouseEntry[] = [];
  for (const { item, role } of items) {
    const file = byKey.get(key(item.name, item.version));
    if (!file) throw new ToolError(`pip wheel wrote no wheel for ${item.name} ${item.version} into ${dir} (it wrote ${files.join(', ') || 'nothing'}).`);
    byKey.delete(key(item.name, item.version));
    const builtFromSdist = !new URL(item.url).pathname.endsWith('.whl');
    const sha256 = await sha256File(join(dir, file));
    if (!builtFromSdist && item.sha256 && item.sha256 !== sha256) {
      throw new ToolError(`${file}: sha256 ${sha256} differs from the ${item.sha256} its index gave for ${item.url}.`);
    }
    entries.push({ file, name: item.name, version: item.version, sha256, role, builtFromSdist });
  }
  if (byKey.size) throw new ToolError(`pip wheel wrote wheels nobody asked for into ${dir}: ${[...byKey.values()].join(', ')}.`);
  return entries;
}
