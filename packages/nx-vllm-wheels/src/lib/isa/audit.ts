import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ConfigError } from '../errors';
import { ZipReader, type ZipEntry } from '../wheel';
import { exceeds, levelOf, levelRank } from './classify';
import { demangle } from './demangle';
import { disassemble, ELF_FORMATS, hostMachine, objdumpCommand, objdumpFor, type Disassembly } from './disassemble';
import { firstMatch, globToRegExp } from './glob';
import {
  archOfLevel,
  CPU_ISAS,
  CPU_ISAS_BY_ARCH,
  DEFINING_EXTENSION,
  EXTENSIONS_BY_ARCH,
  ISA_ARCHS,
  LEVELS_BY_ARCH,
  levelIndex,
  levelsFrom,
  type CpuIsa,
  type DispatchedCode,
  type IsaArch,
  type IsaExtension,
  type IsaLevel,
  type LibraryCeiling,
} from './model';
import { IsaAuditError, type AuditReport, type FloorFailure, type IsaViolation, type LibraryAudit, type SkippedMember } from './report';

export interface AuditWheelOptions {
  /** Path of the wheel. */
  wheel: string;
  /**
   * The wheel's declared level: the ceiling of every library no `dispatch` rule names, and a floor (some
   * audited library must use the level's defining extension).
   */
  declared: CpuIsa;
  /**
   * Libraries with their own ceiling and floor, for wheels that pick their library at run time (e.g.
   * UNIFIED_X86_DISPATCH). Each rule's library must be in the wheel and reach its `min` (default `max`).
   */
  dispatch?: readonly LibraryCeiling[];
  /**
   * Code inside the libraries that picks its instructions at run time (ACL_DISPATCHED): counted apart in
   * each library's `dispatched`, under no ceiling and no floor.
   */
  dispatchedCode?: readonly DispatchedCode[];
  /** The environment of objdump and c++filt (PATH must lead to binutils); nothing is inherited. */
  env: Record<string, string | undefined>;
  /**
   * The machine the audit runs on (`uname -m`); default this one's. A wheel of another architecture is read
   * with that architecture's cross objdump (objdumpFor).
   */
  host?: string;
  /** Time limit of each library's disassembly, in milliseconds. */
  timeoutMs: number;
  /** Where the temporary directory for extracted libraries is made; default the OS temp dir. Removed afterwards. */
  workDir?: string;
  /**
   * Globs over member names of libraries not to audit (`torch/lib/*.so*`; `*` stays in one directory,
   * `**` spans any), e.g. libraries that choose their code path at run time. Excluded libraries are
   * listed in the report's `skipped`, never dropped silently.
   */
  exclude?: readonly string[];
  /** Examples kept per violation; default 5. */
  maxExamples?: number;
  signal?: AbortSignal;
}

/** `*.so` and `*.so.*` (`vllm/_C.abi3.so`, `vllm.libs/libgomp-a34b3233.so.1.0.0`). */
export function isSharedLibraryName(member: string): boolean {
  const name = member.slice(member.lastIndexOf('/') + 1);
  return name.endsWith('.so') || name.includes('.so.');
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * Disassembles every shared library in a wheel and compares the ISA extensions it uses with `declared`.
 * Libraries are extracted one at a time (streamed, hashed while written) into a temporary directory that
 * is removed afterwards. The report is deterministic; `assertAuditOk` turns a failed one into an error.
 */
export async function auditWheel(options: AuditWheelOptions): Promise<AuditReport> {
  const wheel = basename(options.wheel);
  if (!(CPU_ISAS as readonly string[]).includes(options.declared)) {
    const allowed = ISA_ARCHS.map((a) => `${CPU_ISAS_BY_ARCH[a].join(', ')} (${a})`).join(' or ');
    throw new ConfigError(`Cannot audit ${wheel}: declared isa must be one of ${allowed}, got ${JSON.stringify(options.declared)}.`);
  }
  // The declared level says which architecture the wheel's libraries must be, and how to read them.
  const arch = archOfLevel(options.declared);
  const objdump = objdumpFor(arch, options.host ?? hostMachine());
  const dispatch = dispatchRules(wheel, arch, options.dispatch ?? []);
  const dispatchedCode = options.dispatchedCode ?? [];
  const dispatchedSymbols = dispatchedCode.length ? new RegExp(dispatchedCode.map((c) => `(?:${c.symbols.source})`).join('|')) : undefined;
  const exclude = excludePatterns(options.exclude);
  const reader = await ZipReader.open(options.wheel);
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'vllm-wheels-isa-'));
  try {
    const libraries: LibraryAudit[] = [];
    const skipped: SkippedMember[] = [];
    for (const [index, entry] of sharedLibraryMembers(reader).entries()) {
      options.signal?.throwIfAborted();
      const pattern = firstMatch(entry.name, exclude);
      if (pattern !== undefined) {
        skipped.push({ path: entry.name, reason: `excluded by ${JSON.stringify(pattern)}` });
        continue;
      }
      const file = join(dir, extractedName(index));
      const { sha256, elf, machine } = await extract(reader, entry, file);
      if (!elf) {
        skipped.push({ path: entry.name, reason: 'not an ELF file' });
        await rm(file, { force: true });
        continue;
      }
      if (machine !== undefined && machine !== arch) {
        await rm(file, { force: true });
        throw new IsaAuditError(`Cannot audit ${wheel}: ${entry.name} is ${machine} code, not ${arch}, which its declared isa ${options.declared} is a level of.`);
      }
      let disassembly: Disassembly;
      try {
        disassembly = await disassemble(file, { env: options.env, cwd: dir, timeoutMs: options.timeoutMs, signal: options.signal, maxExamples: options.maxExamples, arch, objdump, dispatchedSymbols });
      } finally {
        await rm(file, { force: true });
      }
      if (disassembly.format !== ELF_FORMATS[arch]) {
        throw new IsaAuditError(
          `Cannot audit ${wheel}: ${entry.name} is ${disassembly.format || 'of an unknown format'}, not an ${arch} library (${ELF_FORMATS[arch]}), which its declared isa ${options.declared} is a level of.`,
        );
      }
      const rule = dispatch.find((r) => r.regexp.test(entry.name));
      const bounds = rule === undefined ? { ceiling: options.declared, floor: null, rule: null } : { ceiling: rule.max, floor: rule.min ?? rule.max, rule: rule.library };
      libraries.push(await libraryAudit(entry.name, sha256, disassembly, bounds, arch, options, dir));
    }
    const floorFailures = checkFloors(libraries, options.declared, dispatch);
    return {
      declared: options.declared,
      dispatch: dispatch.map(({ library, max, min }) => ({ library, max, min: min ?? max })),
      ...(dispatchedCode.length && { dispatchedCode: dispatchedCode.map((c) => c.name) }),
      floorFailures,
      libraries,
      ok: libraries.every((l) => l.violations.length === 0) && floorFailures.length === 0,
      skipped,
      wheel,
    };
  } finally {
    await reader.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function dispatchRules(wheel: string, arch: IsaArch, rules: readonly LibraryCeiling[]): (LibraryCeiling & { regexp: RegExp })[] {
  const levels = LEVELS_BY_ARCH[arch];
  for (const [i, r] of rules.entries()) {
    for (const [field, level] of [['max', r.max], ['min', r.min ?? r.max]] as const) {
      if (!(levels as readonly string[]).includes(level)) {
        throw new ConfigError(`Cannot audit ${wheel}: dispatch[${i}].${field} must be one of ${levels.join(', ')} (the ${arch} levels of its declared isa), got ${JSON.stringify(level)}.`);
      }
    }
    if (levelIndex(r.min ?? r.max) > levelIndex(r.max)) {
      throw new ConfigError(`Cannot audit ${wheel}: dispatch[${i}].min (${r.min}) must not be above its max (${r.max}).`);
    }
  }
  return rules.map((r) => ({ ...r, regexp: globToRegExp(r.library) }));
}

/**
 * The floors: every dispatch rule's library exists and uses its `min` level's defining extension, and
 * some audited library uses the declared level's (a wheel with no library at all has nothing to check).
 */
function checkFloors(libraries: readonly LibraryAudit[], declared: CpuIsa, dispatch: readonly (LibraryCeiling & { regexp: RegExp })[]): FloorFailure[] {
  const failures: FloorFailure[] = [];
  for (const rule of dispatch) {
    const expected = rule.min ?? rule.max;
    const matched = libraries.filter((l) => l.rule === rule.library);
    if (matched.length === 0) failures.push({ expected, found: null, library: null, rule: rule.library });
    for (const l of matched) {
      if (!reaches(l, expected)) failures.push({ expected, found: l.highest, library: l.path, rule: rule.library });
    }
  }
  if (libraries.length > 0 && !libraries.some((l) => reaches(l, declared))) {
    // Named: the library that comes closest (the carrier of the wheel's top level).
    const closest = libraries.reduce((best, l) => (rank(l.highest) > rank(best.highest) ? l : best));
    failures.push({ expected: declared, found: closest.highest, library: closest.path, rule: null });
  }
  return failures;
}

/** The library uses the defining extension of `level` or of a level above it. */
function reaches(library: LibraryAudit, level: IsaLevel): boolean {
  return levelsFrom(level).some((l) => (library.extensions[DEFINING_EXTENSION[l]] ?? 0) > 0);
}

function rank(extension: IsaExtension | null): number {
  return extension === null ? -1 : levelRank(extension);
}

function excludePatterns(globs: readonly string[] | undefined): { pattern: string; regexp: RegExp }[] {
  return (globs ?? []).map((pattern) => ({ pattern, regexp: globToRegExp(pattern) }));
}

/** The members auditWheel disassembles, in its order. */
function sharedLibraryMembers(reader: ZipReader): ZipEntry[] {
  return reader.entries.filter((e) => !e.isDirectory && isSharedLibraryName(e.name)).sort((a, b) => compare(a.name, b.name));
}

/** The name a member is extracted to in the audit's temporary directory. */
function extractedName(index: number): string {
  return `lib-${index}.so`;
}

export interface PlannedDisassembly {
  /** The wheel member. */
  member: string;
  command: string;
  args: string[];
  /** The audit's temporary directory (`workDir` stands for it). */
  cwd: string;
}

/**
 * The objdump commands auditWheel would run on a wheel (for a dry run): one per shared library not
 * excluded, each on its copy extracted into `workDir` (a placeholder for the temporary directory).
 * Reads the wheel's directory only; nothing is extracted. Members that turn out not to be ELF files
 * are skipped by the real audit.
 */
export async function plannedDisassemblies(
  wheel: string,
  workDir: string,
  options: { exclude?: readonly string[]; arch?: IsaArch; host?: string } = {},
): Promise<PlannedDisassembly[]> {
  const patterns = excludePatterns(options.exclude);
  const arch = options.arch ?? 'x86_64';
  const objdump = objdumpFor(arch, options.host ?? hostMachine());
  const reader = await ZipReader.open(wheel);
  try {
    return sharedLibraryMembers(reader).flatMap((entry, index) => {
      if (firstMatch(entry.name, patterns) !== undefined) return [];
      const [command, args] = objdumpCommand(join(workDir, extractedName(index)), { arch, objdump });
      return [{ member: entry.name, command, args, cwd: workDir }];
    });
  } finally {
    await reader.close();
  }
}

/** ELF e_machine values of the architectures audited (the ELF specification's EM_X86_64, EM_AARCH64). */
const ELF_MACHINES: Readonly<Record<number, IsaArch>> = { 62: 'x86_64', 183: 'aarch64' };
/** Bytes read from the start of a member: the ELF identification and e_type, e_machine. */
const ELF_HEAD = 20;

/**
 * Streams a member to `file`, hashing it; tells whether it starts with the ELF magic and, for an ELF file,
 * its machine (little-endian e_machine at offset 18: each objdump reads its own architecture only).
 */
async function extract(reader: ZipReader, entry: ZipEntry, file: string): Promise<{ sha256: string; elf: boolean; machine?: string }> {
  const hash = createHash('sha256');
  const out = await open(file, 'w');
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of reader.dataChunks(entry)) {
      hash.update(chunk);
      if (head.length < ELF_HEAD) head = Buffer.concat([head, chunk.subarray(0, ELF_HEAD - head.length)]);
      await out.write(chunk);
    }
  } finally {
    await out.close();
  }
  const elf = head.subarray(0, ELF_MAGIC.length).equals(ELF_MAGIC);
  if (!elf || head.length < ELF_HEAD) return { sha256: hash.digest('hex'), elf };
  const machine = head.readUInt16LE(18);
  return { sha256: hash.digest('hex'), elf, machine: ELF_MACHINES[machine] ?? `ELF machine ${machine}` };
}

async function libraryAudit(
  path: string,
  sha256: string,
  d: Disassembly,
  bounds: { ceiling: IsaLevel; floor: IsaLevel | null; rule: string | null },
  arch: IsaArch,
  options: AuditWheelOptions,
  cwd: string,
): Promise<LibraryAudit> {
  const count = (e: IsaExtension) => d.counts[e] ?? 0;
  const examples = (e: IsaExtension) => d.examples[e] ?? [];
  const used = EXTENSIONS_BY_ARCH[arch].filter((e) => count(e) > 0);
  const highest = used.reduce<IsaExtension | null>((best, e) => (best === null || levelRank(e) > levelRank(best) ? e : best), null);
  const offending = used.filter((e) => exceeds(e, bounds.ceiling)).sort((a, b) => levelRank(a) - levelRank(b));
  const names = await demangle(
    offending.flatMap((e) => examples(e).map((x) => x.symbol)),
    { env: options.env, cwd, timeoutMs: options.timeoutMs, signal: options.signal },
  );
  const violations: IsaViolation[] = offending.map((extension) => ({
    count: count(extension),
    examples: examples(extension).map((x) => ({ address: x.address, instruction: x.instruction, symbol: names.get(x.symbol) ?? x.symbol })),
    extension,
    level: levelOf(extension),
  }));
  const sorted = [...EXTENSIONS_BY_ARCH[arch]].sort(compare);
  const extensions: Partial<Record<IsaExtension, number>> = Object.fromEntries(sorted.map((e) => [e, count(e)]));
  const dispatched = d.dispatched && { dispatched: Object.fromEntries(sorted.map((e) => [e, d.dispatched?.[e] ?? 0])) as Partial<Record<IsaExtension, number>> };
  return { ceiling: bounds.ceiling, ...dispatched, extensions, floor: bounds.floor, highest, instructions: d.instructions, path, rule: bounds.rule, sha256, violations };
}

/** Code-unit order, independent of the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
