import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { CommandError, WheelError } from '../errors';
import { run } from '../process';

/**
 * The honest platform tag of a wheel. `setup.py bdist_wheel` tags vLLM's CPU wheel `linux_x86_64`,
 * which PyPI refuses and which promises nothing; the seed scripts renamed it to a manylinux tag they
 * picked by hand. Here auditwheel's own analysis (python/analyze_wheel.py, run by the pinned tools
 * venv's python) says which manylinux policy the binaries qualify for, and choosePlatformTag holds a
 * wheel.json `platformTag` policy against that.
 *
 * Nothing is grafted: a vLLM wheel bundles at build time what it needs, and torch's libraries come
 * from the torch wheel at run time (they are excluded, never copied in).
 */

/** The analysis script shipped with the package (`files` in package.json); same place from src/ and dist/. */
export const ANALYZE_WHEEL_SCRIPT = resolve(__dirname, '..', '..', '..', 'python', 'analyze_wheel.py');

/**
 * torch's own libraries (torch/lib in the torch wheel: libtorch.so, libtorch_cpu.so, libtorch_python.so,
 * libtorch_global_deps.so, libc10.so, libshm.so): vLLM's extension links them, `import torch` loads
 * them first, and a second copy in our wheel would mean two ATen registries in one process. Globs as
 * `auditwheel repair --exclude` takes them, matched against sonames.
 *
 * Deliberately not here: libgomp. torch's wheel carries it under a hashed soname
 * (libgomp-<hash>.so.1), so it cannot satisfy an extension's DT_NEEDED libgomp.so.1; excluding it would
 * hide a real dependency on the system's OpenMP runtime.
 */
export const TORCH_LIBRARY_EXCLUDES: readonly string[] = ['libtorch*.so*', 'libc10*.so*', 'libshm.so*'];

const resolvedSchema = z.object({ path: z.string(), inWheel: z.boolean() }).nullable();
const elfSchema = z.object({
  path: z.string(),
  soname: z.string().nullable(),
  needed: z.array(z.string()),
  rpath: z.array(z.string()),
  runpath: z.array(z.string()),
  isa: z.string().nullable(),
  excluded: z.array(z.string()),
  resolved: z.record(z.string(), resolvedSchema),
});
const policySchema = z.object({
  name: z.string(),
  aliases: z.array(z.string()),
  priority: z.number(),
  missingSymbols: z.array(z.string()),
  externalLibs: z.array(z.string()),
  blacklisted: z.record(z.string(), z.array(z.string())),
});
const reportSchema = z.object({
  version: z.literal(1),
  auditwheel: z.string(),
  wheel: z.string(),
  exclude: z.array(z.string()),
  pure: z.literal(false),
  arch: z.string(),
  libc: z.string(),
  tag: z.string(),
  aliases: z.array(z.string()),
  limits: z.object({ symbols: z.string(), blacklist: z.string(), ucs2: z.boolean(), pyfpe: z.boolean() }),
  isa: z.object({ policy: z.string(), levels: z.record(z.string(), z.string()) }),
  versionedSymbols: z.record(z.string(), z.array(z.string())),
  externalLibs: z.record(z.string(), z.object({ path: z.string().nullable(), neededBy: z.array(z.string()) })),
  excluded: z.record(z.string(), z.array(z.string())),
  elfs: z.array(elfSchema),
  policies: z.array(policySchema),
});
const failureSchema = z.object({ error: z.string() });
const pureSchema = z.object({ pure: z.literal(true), message: z.string() });

export type ElfInfo = z.infer<typeof elfSchema>;
export type PolicyInfo = z.infer<typeof policySchema>;

export interface ExternalLibrary {
  soname: string;
  /** Where it was found on this machine (null: not found, still needed). */
  path: string | null;
  /** Wheel members (or external libraries) whose DT_NEEDED names it. */
  neededBy: string[];
}

export interface PlatformAnalysis {
  /** The wheel analyzed (absolute path). */
  wheel: string;
  /** The auditwheel version that analyzed it. */
  auditwheel: string;
  /** e.g. x86_64 */
  arch: string;
  /**
   * The most permissive tag the binaries qualify for by their versioned symbols (and blacklisted
   * symbols, UCS-2, PyFPE): `manylinux_2_34_x86_64`, or `linux_x86_64` when no manylinux policy fits.
   */
  tag: string;
  /** Legacy names of `tag` (`manylinux2014_x86_64` for `manylinux_2_17_x86_64`). */
  aliases: string[];
  /** Libraries `tag` would need grafted: not in the wheel, not in the policy's whitelist, not excluded. */
  externalLibs: ExternalLibrary[];
  /** Libraries matched by an exclude glob, with what needs them. */
  excluded: { soname: string; neededBy: string[] }[];
  /** Per ELF member, RPATH and RUNPATH as written (`$ORIGIN/...`, or absolute build paths that leaked). */
  rpaths: Record<string, { rpath: string[]; runpath: string[] }>;
  /** Versioned symbols the binaries need, per library: `{"libc.so.6": ["GLIBC_2.2.5", "GLIBC_2.34"]}`. */
  versionedSymbols: Record<string, string[]>;
  /** Instruction-set levels marked in the binaries (GNU property notes), and auditwheel's verdict on them; not part of `tag`. */
  isa: { policy: string; levels: Record<string, string> };
  /** What kept `tag` where it is. */
  limits: { symbols: string; blacklist: string; ucs2: boolean; pyfpe: boolean };
  elfs: ElfInfo[];
  /** Every manylinux policy of the arch (newest first), with what the wheel needs beyond it. */
  policies: PolicyInfo[];
}

export interface AnalyzePlatformOptions {
  wheel: string;
  /** The tools venv's python (auditwheel importable): `ensureToolsVenv(...).python`. */
  toolsPython: string;
  /** Sonames (globs) never to be grafted, e.g. TORCH_LIBRARY_EXCLUDES. */
  exclude: readonly string[];
  env: Record<string, string | undefined>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The analysis command analyzePlatform runs (and a dry run prints): program, arguments, working directory. */
export function analyzePlatformCommand(options: Pick<AnalyzePlatformOptions, 'wheel' | 'toolsPython' | 'exclude'>): { command: string; args: string[]; cwd: string } {
  const wheel = resolve(options.wheel);
  return { command: options.toolsPython, args: ['-I', ANALYZE_WHEEL_SCRIPT, wheel, ...options.exclude.flatMap((glob) => ['--exclude', glob])], cwd: dirname(wheel) };
}

/** Analyzes a wheel's binaries with auditwheel (see python/analyze_wheel.py). */
export async function analyzePlatform(options: AnalyzePlatformOptions): Promise<PlatformAnalysis> {
  const wheel = resolve(options.wheel);
  const { args, cwd } = analyzePlatformCommand(options);
  const result = await run(options.toolsPython, args, { cwd, env: options.env, timeoutMs: options.timeoutMs, signal: options.signal, allowFailure: true });
  let output: unknown;
  try {
    output = JSON.parse(result.stdout);
  } catch {
    output = undefined;
  }
  const failure = failureSchema.safeParse(output);
  if (failure.success) throw new WheelError(`Cannot analyze the binaries of ${wheel}: ${failure.data.error}`);
  const command = `${options.toolsPython} ${args.join(' ')}`;
  if (result.exitCode !== 0 || output === undefined) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new CommandError(`The wheel analysis exited with code ${result.exitCode} (cwd ${dirname(wheel)}): ${command}\n${tail}`, command, result.exitCode, tail);
  }
  if (pureSchema.safeParse(output).success) throw new WheelError(`${wheel} has no binaries (a pure wheel is tagged "any", not a Linux platform).`);
  const parsed = reportSchema.safeParse(output);
  if (!parsed.success) throw new WheelError(`The analysis of ${wheel} printed an unexpected report (${parsed.error.issues[0]?.message} at ${parsed.error.issues[0]?.path.join('.')}): is the tools venv's auditwheel the pinned one?`);
  const report = parsed.data;
  return {
    wheel,
    auditwheel: report.auditwheel,
    arch: report.arch,
    tag: report.tag,
    aliases: report.aliases,
    externalLibs: Object.entries(report.externalLibs).map(([soname, lib]) => ({ soname, ...lib })),
    excluded: Object.entries(report.excluded).map(([soname, neededBy]) => ({ soname, neededBy })),
    rpaths: Object.fromEntries(report.elfs.map((elf) => [elf.path, { rpath: elf.rpath, runpath: elf.runpath }])),
    versionedSymbols: report.versionedSymbols,
    isa: report.isa,
    limits: report.limits,
    elfs: report.elfs,
    policies: report.policies,
  };
}

/** wheel.json `platformTag`: `auto`, `linux_<arch>` or `manylinux_X_Y_<arch>`. */
export type PlatformTagPolicy = string;

export interface PlatformTagChoice {
  /** The tag the wheel will carry: `manylinux_X_Y_<arch>` or `linux_<arch>`. */
  tag: string;
  /** `tag` and its legacy aliases, for renameWheel's `platformTag` (a compressed set in the file name). */
  platformTags: string[];
  /** Said, not refused: external libraries of a `linux_<arch>` wheel (which promises nothing). */
  warnings: string[];
}

const MANYLINUX = /^manylinux_(\d+)_(\d+)_(.+)$/;

/**
 * Holds a wheel.json `platformTag` policy against the analysis:
 * - `auto`: the honest manylinux tag (with its legacy aliases);
 * - `manylinux_X_Y_<arch>`: allowed when at least as new as the honest tag (a stricter promise is
 *   still true); an older one (a promise the binaries break) is refused, naming both;
 * - `linux_<arch>`: only when asked for; it promises nothing, so it is never refused (the publish step
 *   refuses it for PyPI).
 * A manylinux tag is refused while any library would still need grafting (the error names them).
 */
export function choosePlatformTag(analysis: PlatformAnalysis, policy: PlatformTagPolicy): PlatformTagChoice {
  const name = basename(analysis.wheel);
  const linux = `linux_${analysis.arch}`;
  if (policy !== 'auto' && policy !== linux && !(MANYLINUX.exec(policy)?.[3] === analysis.arch)) {
    throw new WheelError(`platformTag ${JSON.stringify(policy)} cannot be used for ${name}: its binaries are ${analysis.arch}; use "auto", "${linux}" or "manylinux_X_Y_${analysis.arch}".`);
  }
  if (policy === linux) {
    const warnings = analysis.externalLibs.length
      ? [`${name} is tagged ${linux} (not installable from PyPI) and needs libraries from the system: ${describeLibs(analysis.externalLibs)}.`]
      : [];
    return { tag: linux, platformTags: [linux], warnings };
  }
  const honest = MANYLINUX.exec(analysis.tag);
  if (!honest) throw new WheelError(`${name} qualifies for no manylinux tag (${whyNoManylinux(analysis)}); platformTag ${JSON.stringify(policy)} cannot be honoured. Fix the build, or ask for "${linux}" (which PyPI refuses).`);
  let tag = analysis.tag;
  if (policy !== 'auto') {
    const [, major, minor] = MANYLINUX.exec(policy)!;
    const older = compareGlibc([Number(major), Number(minor)], [Number(honest[1]), Number(honest[2])]) < 0;
    if (older) {
      const missing = analysis.policies.find((p) => p.name === policy)?.missingSymbols ?? [];
      const because = missing.length ? `it uses ${missing.join(', ')}, which ${policy} does not allow` : `its symbol versions need glibc ${honest[1]}.${honest[2]}`;
      throw new WheelError(
        `platformTag ${JSON.stringify(policy)} promises more than ${name} keeps: ${because}. Its honest tag is ${analysis.tag}. Use "auto" or a tag at least as new as ${analysis.tag}, or build on an older glibc (a manylinux image).`,
      );
    }
    tag = policy;
  }
  const external = externalLibsFor(analysis, tag);
  if (external.length) {
    throw new WheelError(
      `${name} cannot be tagged ${tag}: it needs libraries that are not in the wheel, not allowed by ${tag}, and not excluded: ${describeLibs(external)}. ` +
        'The plugin does not graft libraries into wheels: bundle or link them at build time, or exclude them when another wheel provides them at run time (as torch does for libtorch*/libc10*).',
    );
  }
  const aliases = analysis.policies.find((p) => p.name === tag)?.aliases ?? [];
  return { tag, platformTags: [tag, ...aliases], warnings: [] };
}

/** Libraries needing grafting under `tag`: the honest tag's list narrowed to what `tag`'s whitelist does not cover. */
function externalLibsFor(analysis: PlatformAnalysis, tag: string): ExternalLibrary[] {
  const policy = analysis.policies.find((p) => p.name === tag);
  if (!policy || tag === analysis.tag) return analysis.externalLibs;
  const known = new Map(analysis.externalLibs.map((lib) => [lib.soname, lib]));
  return policy.externalLibs.map((soname) => known.get(soname) ?? { soname, path: null, neededBy: [] });
}

function describeLibs(libs: readonly ExternalLibrary[]): string {
  return libs
    .map((lib) => {
      const details = [lib.neededBy.length ? `needed by ${lib.neededBy.join(', ')}` : undefined, lib.path ? `found at ${lib.path}` : 'not found on this machine'].filter(Boolean);
      return `${lib.soname} (${details.join('; ')})`;
    })
    .join(', ');
}

function whyNoManylinux(analysis: PlatformAnalysis): string {
  const reasons: string[] = [];
  if (!MANYLINUX.test(analysis.limits.symbols)) reasons.push(`its symbol versions are newer than every manylinux policy auditwheel ${analysis.auditwheel} knows (${Object.values(analysis.versionedSymbols).flat().join(', ')})`);
  if (!MANYLINUX.test(analysis.limits.blacklist)) reasons.push('it uses symbols that manylinux blacklists');
  if (analysis.limits.ucs2) reasons.push('it is built for a narrow-unicode (UCS-2) Python');
  if (analysis.limits.pyfpe) reasons.push('it uses PyFPE_jbuf');
  return reasons.join('; ') || `auditwheel ${analysis.auditwheel} found none`;
}

function compareGlibc(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

