import { basename, dirname, join } from 'node:path';
import { ToolError } from '../errors';
import { CPU_ISAS, levelAtLeast, type CpuIsa } from '../isa/model';
import { run, which } from '../process';
import { CPU_EXTENSION_CMAKE, type CommitProfile } from './commit-profile';
import { VERSIONED_GCCS } from './compiler-candidates';

/**
 * Which C/C++ compiler a build uses when its commit asks for a GNU version (decision 42): CXX/CC from
 * wheel.json `env`, else from the environment of nx, else c++/cc if they satisfy, else the first
 * g++-N/gcc-N on PATH that does. Decided before the worktree is touched, so a machine without one
 * fails in a second with what to install instead of after an hour of configuring.
 */

/** What the commit asks of this variant's compiler. */
export interface CompilerNeed {
  minVersion: string;
  /** Why, for messages: "for x86_64 (below it cmake/cpu_extension.cmake stops configuring, line 135)". */
  why: string;
  /** The short form for the one-line log: "for x86_64", "for avx512vnni". */
  forWhat: string;
}

/** The requirements of `profile` that apply to a variant of `arch` and `isa`; undefined when none does. */
export function compilerNeed(profile: CommitProfile, variant: { arch: string; isa: CpuIsa }): CompilerNeed | undefined {
  const rank = (isa: CpuIsa) => CPU_ISAS.indexOf(isa);
  // A dropped level counts for the variants at or above it, of its own architecture.
  const applying = profile.compilerRequirements.filter(
    (r) => (r.arch === undefined || r.arch === variant.arch) && (r.effect === 'fatal' || r.levels.some((l) => levelAtLeast(variant.isa, l))),
  );
  if (applying.length === 0) return undefined;
  const minVersion = applying.map((r) => r.minVersion).reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b));
  const fatal = applying.find((r) => r.effect === 'fatal');
  if (fatal) {
    return {
      minVersion,
      forWhat: `for ${variant.arch}`,
      why: `for ${variant.arch} (below it ${CPU_EXTENSION_CMAKE} stops configuring, line ${fatal.line})`,
    };
  }
  const dropped = [...new Set(applying.flatMap((r) => r.levels).filter((l) => levelAtLeast(variant.isa, l)))].sort((a, b) => rank(a) - rank(b));
  return {
    minVersion,
    forWhat: `for ${variant.isa}`,
    why: `for isa ${variant.isa} (below it ${CPU_EXTENSION_CMAKE} turns ${dropped.join(', ')} off with a warning, line ${applying.map((r) => r.line).join(', ')})`,
  };
}

/** -1, 0, 1 by numeric components; a missing component is 0 ("12.3" = "12.3.0"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export interface CompilerProbe {
  /** As given (`g++-13`, `/opt/gcc/bin/g++`). */
  program: string;
  found: boolean;
  /** GNU by its `--version` (clang prints no Free Software Foundation line). */
  gnu: boolean;
  /** `-dumpfullversion`, when it printed a version. */
  version?: string;
  /** The first line of `--version`. */
  banner?: string;
}

export interface ProbeOptions {
  /** The environment of nx: only its PATH is used. */
  env: Record<string, string | undefined>;
  cwd: string;
  timeoutMs?: number;
}

/** Asks a compiler what it is: `<program> -dumpfullversion` and `<program> --version`, in the C locale. */
export async function probeCompiler(program: string, options: ProbeOptions): Promise<CompilerProbe> {
  const [command, ...prefix] = program.trim().split(/\s+/); // CXX may carry arguments, as CMake allows
  if (!which(command, options.env)) return { program, found: false, gnu: false };
  const env = { PATH: options.env.PATH, LC_ALL: 'C', LANG: 'C' };
  const ask = (flag: string) => run(command, [...prefix, flag], { cwd: options.cwd, env, timeoutMs: options.timeoutMs ?? 20_000, allowFailure: true });
  const [full, banner] = await Promise.all([ask('-dumpfullversion'), ask('--version')]);
  const version = full.exitCode === 0 && /^\d+(\.\d+)*$/.test(full.stdout.trim()) ? full.stdout.trim() : undefined;
  const text = `${banner.stdout}\n${banner.stderr}`;
  const firstLine = text.trim().split('\n')[0]?.trim();
  const gnu = banner.exitCode === 0 && /Free Software Foundation/.test(text) && !/clang/i.test(firstLine ?? '');
  return { program, found: true, gnu, ...(version ? { version } : {}), ...(firstLine ? { banner: firstLine } : {}) };
}

export interface CompilerChoice {
  cxx: string;
  /** The C compiler set beside it; undefined leaves CMake's default. */
  cc?: string;
  version: string;
  /** Where the choice came from, for the log. */
  from: string;
  /** What the build's environment gets. */
  env: Record<string, string>;
  /** The log line: "compiler: g++-13 (GNU 13.2.0); vLLM 0123456789ab needs GNU >= 12.3 for x86_64". */
  message: string;
}

export interface SelectCompilerInput extends ProbeOptions {
  need: CompilerNeed;
  /** wheel.json `env` (its CXX/CC come first). */
  variantEnv: Record<string, string>;
  /** wheel.json, for messages. */
  configFile: string;
  commit: string;
}

function describe(probe: CompilerProbe, min: string): string {
  if (!probe.found) return 'not found';
  if (!probe.gnu) return `not GNU (${probe.banner ?? 'no --version output'})`;
  if (!probe.version) return `GNU, but -dumpfullversion printed no version (${probe.banner ?? ''})`;
  return compareVersions(probe.version, min) >= 0 ? `GNU ${probe.version}` : `GNU ${probe.version}, older than ${min}`;
}

const satisfies = (probe: CompilerProbe, min: string) => probe.gnu && probe.version !== undefined && compareVersions(probe.version, min) >= 0;

/** `g++-13` -> `gcc-13`, `/opt/x/bin/g++` -> `/opt/x/bin/gcc`; undefined for other names. */
function pairedCc(cxx: string): string | undefined {
  const name = basename(cxx);
  if (!/g\+\+/.test(name) || /\s/.test(cxx)) return undefined;
  const cc = name.replace(/g\+\+/, 'gcc');
  return cxx.includes('/') ? join(dirname(cxx), cc) : cc;
}

/**
 * The compiler for a build whose commit asks `need`, or a ToolError naming the requirement, every
 * compiler tried with its version, and how to fix it. A CXX that is set (wheel.json, then nx's
 * environment) is the user's choice: when it does not satisfy, the build fails rather than use another.
 */
export async function selectCompiler(input: SelectCompilerInput): Promise<CompilerChoice> {
  const { need, variantEnv, env } = input;
  const min = need.minVersion;
  const head = `vLLM ${input.commit.slice(0, 12)} needs GNU >= ${min}`;
  const tried: string[] = [];
  const choose = (cxx: string, cc: string | undefined, version: string, from: string): CompilerChoice => ({
    cxx,
    ...(cc ? { cc } : {}),
    version,
    from,
    env: { CXX: cxx, ...(cc ? { CC: cc } : {}) },
    message: `compiler: ${cxx} (GNU ${version}${from ? `, ${from}` : ''}); ${head} ${need.forWhat}`,
  });
  const explicitCc = variantEnv.CC !== undefined ? variantEnv.CC : env.CC;
  const explicit =
    variantEnv.CXX !== undefined ? { cxx: variantEnv.CXX, from: `${input.configFile} env.CXX` } : env.CXX ? { cxx: env.CXX, from: 'CXX in the environment of nx' } : undefined;

  if (explicit) {
    const probe = await probeCompiler(explicit.cxx, input);
    if (satisfies(probe, min)) {
      const cc = explicitCc || (pairedCc(explicit.cxx) && which(pairedCc(explicit.cxx) as string, env) ? pairedCc(explicit.cxx) : undefined);
      return choose(explicit.cxx, cc, probe.version as string, explicit.from);
    }
    tried.push(`  - ${explicit.cxx} (${explicit.from}): ${describe(probe, min)}`);
    const others = await availableOnPath(input, min);
    throw new ToolError(
      [
        `${input.configFile}: ${head} ${need.why}, and the compiler CXX names does not satisfy it:`,
        ...tried,
        `CXX is set, so no other compiler is tried.${others.length ? ` On PATH: ${others.join(', ')}.` : ''} Set CXX and CC to a GNU compiler >= ${min} (e.g. CXX=g++-13 CC=gcc-13), or unset CXX to let the plugin look for one.`,
      ].join('\n'),
    );
  }

  const candidates = [{ cxx: 'c++', cc: 'cc' }, ...VERSIONED_GCCS];
  for (const candidate of candidates) {
    const probe = await probeCompiler(candidate.cxx, input);
    let state = describe(probe, min);
    if (satisfies(probe, min)) {
      if (explicitCc || which(candidate.cc, env)) return choose(candidate.cxx, explicitCc || candidate.cc, probe.version as string, '');
      state += `, but ${candidate.cc} is not on PATH`;
    }
    tried.push(`  - ${candidate.cxx}: ${state}`);
  }
  throw new ToolError(
    [
      `${input.configFile}: ${head} ${need.why}, and no compiler here satisfies it:`,
      ...tried,
      `Install GCC >= ${min} so that one of ${VERSIONED_GCCS.map((c) => c.cxx).join(', ')} (with its gcc-N) is on PATH (e.g. the g++-13 package of Debian 13 or Ubuntu 24.04), or set CXX and CC to one (in the environment of nx, or in ${input.configFile} "env").`,
    ].join('\n'),
  );
}

/** The versioned GCCs on PATH that satisfy `min` ("g++-13 (GNU 13.2.0)"), for a hint. */
async function availableOnPath(options: ProbeOptions, min: string): Promise<string[]> {
  const out: string[] = [];
  for (const { cxx } of VERSIONED_GCCS) {
    const probe = await probeCompiler(cxx, options);
    if (satisfies(probe, min)) out.push(`${cxx} (GNU ${probe.version})`);
  }
  return out;
}
