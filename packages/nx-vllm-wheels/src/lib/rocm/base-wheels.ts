import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { RocmConfig } from '../../config';
import { CommandError, ConfigError, WheelError } from '../errors';
import { replaceDirAtomic, writeFileAtomic } from '../fs';
import type { StepContext } from '../pipeline/context';
import { formatPlannedCommand, run } from '../process';
import { ensureToolsVenv } from '../tools';
import { normalizeName, parseWheelFileName, stripLocalVersions } from '../wheel';
import { baseWheelsCommandEnv } from './build-env';

/** rocm.json as the steps read it. */
export interface RocmSpec {
  /** Project name (the folder's). */
  name: string;
  /** Workspace-relative path of rocm.json. */
  configFile: string;
  config: RocmConfig;
}

/** Written beside the base wheels: what each was before and after its local version was stripped. */
export const BASE_WHEELS_MANIFEST = 'base-wheels.json';

export function baseWheelsDir(ctx: Pick<StepContext, 'workspaceRoot'>, rocm: Pick<RocmSpec, 'name'>): string {
  return resolve(ctx.workspaceRoot, 'dist', 'base-wheels', rocm.name);
}

function projectRoot(ctx: Pick<StepContext, 'workspaceRoot'>, rocm: RocmSpec): string {
  return resolve(ctx.workspaceRoot, rocm.configFile, '..');
}

/** Where raw wheels are put while the output is being made (inside its temp dir; removed before the swap). */
const RAW = '.raw';

/**
 * `<rocm>:base-wheels`: the base wheels (torch, triton, torchvision, amdsmi by default) from rocm.json's
 * "baseWheels" (a command, a directory or a URL), exactly one build of each configured distribution and
 * nothing else, with their `+git…` local versions stripped (and the pins between them rewritten), checked
 * by pip to install together from themselves alone, into dist/base-wheels/<project>, with base-wheels.json
 * listing each wheel's versions and sha256.
 */
export async function collectBaseWheels(rocm: RocmSpec, ctx: StepContext): Promise<string[]> {
  const outDir = baseWheelsDir(ctx, rocm);
  if (ctx.dryRun) {
    await planBaseWheels(rocm, ctx);
    return [];
  }
  let written: string[] = [];
  await replaceDirAtomic(outDir, async (tmp) => {
    const raw = join(tmp, RAW);
    mkdirSync(raw);
    const inputs = selectBaseWheels(rocm, await fetchRaw(rocm, ctx, raw));
    ctx.log.step(`${rocm.name}: stripping local versions of ${inputs.length} base wheels`);
    const stripped = await stripLocalVersions({
      wheels: inputs,
      outputDir: tmp,
      onWheel: ({ input, from, to }) => ctx.log.info(`  ${basename(input)}: ${from} -> ${to}`),
    });
    rmSync(raw, { recursive: true, force: true });
    await checkResolves(rocm, ctx, tmp);
    const wheels = [];
    for (const w of stripped) {
      for (const r of w.requirements) ctx.log.info(`  ${w.fileName}: Requires-Dist ${r.from} -> ${r.to}`);
      wheels.push({ distribution: w.distribution, version: w.to, localVersion: w.from, file: w.fileName, sha256: await sha256File(w.path) });
    }
    const { rocmVersion, gpuArchs, python } = rocm.config;
    writeFileAtomic(join(tmp, BASE_WHEELS_MANIFEST), `${JSON.stringify({ rocmVersion, gpuArchs, python, wheels }, null, 2)}\n`);
    written = stripped.map((w) => join(outDir, w.fileName));
  });
  ctx.log.info(`Base wheels: ${outDir}`);
  return written;
}

/** The raw wheels from the configured source; a command or a URL writes them into `raw`. */
async function fetchRaw(rocm: RocmSpec, ctx: StepContext, raw: string): Promise<string[]> {
  const { baseWheels } = rocm.config;
  if (baseWheels.directory !== undefined) {
    const dir = resolve(projectRoot(ctx, rocm), baseWheels.directory);
    if (!existsSync(dir)) throw new ConfigError(`${rocm.configFile}: baseWheels.directory "${baseWheels.directory}" does not exist (${dir}).`);
    ctx.log.step(`${rocm.name}: base wheels from ${dir}`);
    return wheelFiles(dir);
  }
  if (baseWheels.command !== undefined) {
    const [command, ...args] = baseWheels.command;
    ctx.log.step(`${rocm.name}: building the base wheels: ${baseWheels.command.join(' ')} (ROCm ${rocm.config.rocmVersion}, ${rocm.config.gpuArchs.join(';')}, python ${rocm.config.python})`);
    await run(command, args, {
      cwd: projectRoot(ctx, rocm),
      env: { ...ctx.env, ...baseWheelsCommandEnv(rocm.config, raw) },
      timeoutMs: baseWheels.timeoutMinutes * 60_000,
      onLine: (line) => ctx.log.info(line),
    });
    return wheelFiles(raw);
  }
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: false });
  ctx.log.step(`${rocm.name}: downloading the base wheels from ${baseWheels.url}`);
  await run(tools.python, pipDownloadArgs(rocm.config, raw), { cwd: raw, env: ctx.env, timeoutMs: 60 * 60_000, onLine: (line) => ctx.log.info(line) });
  return wheelFiles(raw);
}

/**
 * Real pip resolves the stripped set from `dir` alone, for the environment's python: a pin the stripping
 * could not see (a public version no wheel of the set has) fails here, not at a user's install.
 */
async function checkResolves(rocm: RocmSpec, ctx: StepContext, dir: string): Promise<void> {
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: false });
  const target = join(dir, RAW);
  ctx.log.step(`${rocm.name}: checking that ${rocm.config.baseWheels.distributions.join(', ')} resolve from the stripped wheels alone (pip, python ${rocm.config.python})`);
  try {
    await run(tools.python, resolveArgs(rocm.config, dir, target), { cwd: dir, env: { ...ctx.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' }, timeoutMs: 10 * 60_000 });
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    throw new WheelError(`${rocm.name}: the base wheels do not install together once stripped (nothing was written); pip says:\n${e.outputTail}`, { cause: e });
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
}

function resolveArgs(config: RocmConfig, dir: string, target: string): string[] {
  return ['-m', 'pip', 'install', '--dry-run', '--ignore-installed', '--no-index', '--find-links', dir, '--target', target, ...targetTags(config), ...config.baseWheels.distributions];
}

/** pip's options for wheels of the environment's python on Linux x86_64 (markers are still the host's: pip's rule). */
function targetTags(config: RocmConfig): string[] {
  const cp = `cp${config.python.replace('.', '')}`;
  return [
    '--only-binary=:all:', '--python-version', config.python, '--implementation', 'cp', '--abi', cp, '--abi', 'abi3', '--abi', 'none',
    '--platform', 'linux_x86_64', '--platform', 'manylinux_2_28_x86_64', '--platform', 'manylinux_2_17_x86_64', '--platform', 'any',
  ];
}

/** pip downloads the configured distributions (no dependencies: they are the base) as wheels for the environment's python. */
function pipDownloadArgs(config: RocmConfig, dest: string): string[] {
  return ['-m', 'pip', 'download', '--no-deps', '--no-index', '--find-links', config.baseWheels.url!, '--dest', dest, ...targetTags(config), ...config.baseWheels.distributions];
}

function wheelFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.whl')).sort().map((f) => join(dir, f));
}

/** The configured distributions, each present; another distribution is refused (a base set is exactly what it says). */
function selectBaseWheels(rocm: RocmSpec, wheels: readonly string[]): string[] {
  const wanted = rocm.config.baseWheels.distributions;
  const byName = new Map<string, string[]>();
  for (const w of wheels) {
    const name = normalizeName(parseWheelFileName(basename(w)).distribution);
    byName.set(name, [...(byName.get(name) ?? []), w]);
  }
  const problems: string[] = [];
  const missing = wanted.filter((d) => !byName.has(normalizeName(d)));
  if (missing.length) problems.push(`missing: ${missing.join(', ')} (found ${wheels.map((w) => basename(w)).join(', ') || 'no wheel'})`);
  const extra = [...byName.keys()].filter((n) => !wanted.some((d) => normalizeName(d) === n));
  if (extra.length) problems.push(`not in baseWheels.distributions: ${extra.map((n) => byName.get(n)!.map((w) => basename(w)).join(', ')).join(', ')} (list it there to publish it with the base)`);
  if (problems.length) throw new WheelError(`${rocm.name}: the base wheels are not the set ${rocm.configFile} names (${wanted.join(', ')}):\n  ${problems.join('\n  ')}`);
  return wheels.filter((w) => byName.has(normalizeName(parseWheelFileName(basename(w)).distribution)));
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The dry run: where the wheels would come from (the command with its cwd and env), and what would be written. */
async function planBaseWheels(rocm: RocmSpec, ctx: StepContext): Promise<void> {
  const { baseWheels } = rocm.config;
  const outDir = baseWheelsDir(ctx, rocm);
  const raw = join('<temp dir>', RAW);
  if (baseWheels.directory !== undefined) {
    ctx.log.info(`[dry-run] would take ${baseWheels.distributions.join(', ')} from ${resolve(projectRoot(ctx, rocm), baseWheels.directory)}`);
  } else if (baseWheels.command !== undefined) {
    const [command, ...args] = baseWheels.command;
    ctx.log.info(formatPlannedCommand({ command, args, cwd: projectRoot(ctx, rocm), env: baseWheelsCommandEnv(rocm.config, raw) }));
    ctx.log.info(`[dry-run]   timeout: ${baseWheels.timeoutMinutes} min; it must write ${baseWheels.distributions.join(', ')} into $VLLM_WHEELS_BASE_WHEELS_OUT`);
  } else {
    const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: true });
    ctx.log.info(formatPlannedCommand({ command: tools.python, args: pipDownloadArgs(rocm.config, raw), cwd: raw, env: {} }));
  }
  ctx.log.info(`[dry-run] would strip their local versions (+git…) and the pins between them into <temp dir>, then check that they install together:`);
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: true });
  ctx.log.info(formatPlannedCommand({ command: tools.python, args: resolveArgs(rocm.config, '<temp dir>', raw), cwd: '<temp dir>', env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' } }));
  ctx.log.info(`[dry-run] would write them with ${BASE_WHEELS_MANIFEST} to ${outDir} (<temp dir> replaces it as a whole)`);
}
