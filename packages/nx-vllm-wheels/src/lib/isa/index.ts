/**
 * The ISA audit of a wheel's shared libraries: which instruction set extensions they use, compared with
 * the variant's declared level (no Nx here).
 */
export { classify, levelRank, exceeds, ISA_LEVEL } from './classify';
export {
  ALLOWED_EXTENSIONS,
  CPU_ISAS,
  DEFINING_EXTENSION,
  DROPPED_LEVEL_WARNINGS,
  ISA_EXTENSIONS,
  ISA_LEVELS,
  levelOf,
  PINNED_CPU_FLAGS,
  UNIFIED_X86_DISPATCH,
} from './model';
export type { CpuIsa, IsaExtension, IsaLevel, LibraryCeiling } from './model';
export { disassemble, objdumpCommand, OBJDUMP_ARGS } from './disassemble';
export type { Disassembly, DisassembleOptions, IsaExample } from './disassemble';
export { demangle } from './demangle';
export type { DemangleOptions } from './demangle';
export { auditWheel, isSharedLibraryName, plannedDisassemblies } from './audit';
export type { AuditWheelOptions, PlannedDisassembly } from './audit';
export { assertAuditOk, formatAuditFailure, IsaAuditError } from './report';
export type { AuditReport, FloorFailure, LibraryAudit, IsaViolation, SkippedMember } from './report';
export { globToRegExp } from './glob';
