import { basename } from 'node:path';
import type { IndexConfig } from '../../config';
import { PYTORCH_CPU_INDEX } from '../../config';
import { findPython } from '../python';
import { formatPlannedCommand, redactUrlCredentials, run } from '../process';
import { ensureToolsVenv } from '../tools';
import { formatVerifyTable, INSTALLERS, pipNetworkSettings, planVerifyInstalls, VerifyError, verifyInstalls, type Installer, type VerifyPackage, type VerifyResult } from '../verify';
import { parseWheelFileName } from '../wheel';
import { findVariantWheel } from './build-index';
import { stepHost } from './build-host';

const PYPI_SIMPLE = 'https://pypi.org/simple/';
import type { StepContext, TorchSpec, VariantSpec } from './context';
import type { RocmSpec } from '../rocm/base-wheels';
import type { RocmVariantSpec } from '../rocm/build';

export interface VerifyIndexInput {
  /** index.json (relative to the workspace) and its config: `publicUrl` is the default index. */
  readonly configFile: string;
  readonly config: IndexConfig;
  readonly variants: readonly (VariantSpec | RocmVariantSpec)[];
  readonly torch?: TorchSpec;
  /** A ROCm index: self-contained, each variant installed from it alone with rocm.json's python. */
  readonly rocm?: RocmSpec;
  /** The simple index to install from (overrides publicUrl + "/simple/"). */
  readonly indexUrl?: string;
  /** The CPU torch index (overrides torch.json's torchIndexUrl). */
  readonly torchIndexUrl?: string;
  /** Where the variants' other dependencies come from (overrides torch.json's indexUrl, else PyPI). */
  readonly dependenciesIndexUrl?: string;
  readonly installers?: readonly string[];
}

/** The simple index to verify: the option, else index.json's publicUrl + "/simple/". */
export function verifyIndexUrl(input: Pick<VerifyIndexInput, 'indexUrl' | 'config' | 'configFile'>): string {
  if (input.indexUrl) return input.indexUrl.endsWith('/') ? input.indexUrl : `${input.indexUrl}/`;
  if (input.config.publicUrl) return `${input.config.publicUrl.replace(/\/+$/, '')}/simple/`;
  throw new VerifyError(
    `No index to verify: pass --index-url=<simple index URL> (e.g. http://host/simple/), or set "publicUrl" in ${input.configFile} (the index root; its simple/ is used).`,
  );
}

function installersOf(list: readonly string[] | undefined): Installer[] {
  const wanted = list?.length ? list : [...INSTALLERS];
  const unknown = wanted.filter((i) => !(INSTALLERS as readonly string[]).includes(i));
  if (unknown.length) throw new VerifyError(`Unknown installer(s) ${unknown.join(', ')}: the installers are ${INSTALLERS.join(' and ')}.`);
  return [...new Set(wanted)] as Installer[];
}

/** Pin each variant to the version built here when its wheel is in dist/wheels, else the newest published. */
function packagesOf(variants: readonly (VariantSpec | RocmVariantSpec)[], ctx: StepContext): VerifyPackage[] {
  return variants.map((v) => {
    let version: string | undefined;
    try {
      const wheel = findVariantWheel(ctx, v.name, true);
      if (wheel) version = parseWheelFileName(basename(wheel)).version;
    } catch {
      // several or no wheels here: verify the newest published
    }
    return { variant: v.name, distribution: v.config.distribution, ...(version ? { version } : {}) };
  });
}

/**
 * `wheel-index:verify`: every member variant installed from the published index with pip and with uv,
 * each in a fresh venv, torch from the CPU index, then imported as vLLM's CPU build. Prints a table of
 * variant × installer; fails when any cell failed.
 */
export async function verifyWheelIndex(input: VerifyIndexInput, ctx: StepContext): Promise<VerifyResult[]> {
  const indexUrl = verifyIndexUrl(input);
  const torchIndexUrl = input.torchIndexUrl ?? input.torch?.config.torchIndexUrl ?? PYTORCH_CPU_INDEX;
  const dependenciesIndexUrl = input.dependenciesIndexUrl ?? input.torch?.config.indexUrl ?? PYPI_SIMPLE;
  const installers = installersOf(input.installers);
  if (!input.variants.length) throw new VerifyError(`${input.configFile}: no variants to verify.`);
  // An install is checked by importing it, which only a machine of the wheel's architecture can do.
  const host = stepHost(ctx);
  const elsewhere = input.variants.filter((v) => v.config.arch !== host);
  for (const v of elsewhere) ctx.log.info(`${v.name}: not verified here: its wheel is ${v.config.arch} and this machine is ${host} (run wheel-index:verify on ${v.config.arch}).`);
  const local = input.variants.filter((v) => v.config.arch === host);
  if (!local.length) throw new VerifyError(`${input.configFile}: no variant to verify on this ${host} machine (${elsewhere.map((v) => `${v.name}: ${v.config.arch}`).join(', ')}); run wheel-index:verify on a machine of their architecture.`);
  const packages = packagesOf(local, ctx);
  const describe = packages.map((p) => `${p.distribution}${p.version ? `==${p.version}` : ''}`).join(', ');
  // A private index's password stays out of the log.
  const [shownIndex, shownTorch, shownDependencies] = [indexUrl, torchIndexUrl, dependenciesIndexUrl].map(redactUrlCredentials);
  const selfContained = input.rocm !== undefined;
  const from = selfContained ? `${shownIndex} alone` : `${shownIndex} (torch from ${shownTorch}, other dependencies from ${shownDependencies})`;
  if (ctx.dryRun) {
    ctx.log.info(`[dry-run] would install ${describe} with ${installers.join(' and ')} from ${from} into fresh venvs and import vllm`);
  }
  const python = input.rocm
    ? (await findPython(input.rocm.config.python, ctx.env, input.rocm.configFile)).path
    : input.torch
      ? (await findPython(input.torch.config.python, ctx.env)).path
      : 'python3';
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['uv'], env: ctx.env, log: ctx.log, dryRun: ctx.dryRun });
  // Network settings (cert, proxy) of the user's pip config, carried over: the installs load no pip config.
  const pipConfig = { command: tools.python, args: ['-m', 'pip', 'config', 'list'], cwd: ctx.workspaceRoot };
  const options = { indexUrl, torchIndexUrl, dependenciesIndexUrl, packages, installers, python, uv: tools.bin('uv'), env: ctx.env, log: ctx.log, mode: selfContained ? ('self-contained' as const) : ('cpu' as const) };
  if (ctx.dryRun) {
    ctx.log.info(formatPlannedCommand({ ...pipConfig, env: {} }));
    ctx.log.info('[dry-run] the network settings it lists (cert, proxy, trusted-host…) would be set as PIP_* variables for the installs below');
    planVerifyInstalls(options);
    return [];
  }
  const configList = await run(pipConfig.command, pipConfig.args, { cwd: pipConfig.cwd, env: ctx.env, timeoutMs: 60_000, allowFailure: true });
  const results = await verifyInstalls({ ...options, pipNetwork: pipNetworkSettings(configList.stdout) });
  const table = formatVerifyTable(results);
  ctx.log.step(`Verified ${selfContained ? from : `${shownIndex} (torch from ${shownTorch})`}`);
  ctx.log.info(table);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    throw new VerifyError(`${failed.length} of ${results.length} installs from ${shownIndex} failed:\n${table}`);
  }
  return results;
}
