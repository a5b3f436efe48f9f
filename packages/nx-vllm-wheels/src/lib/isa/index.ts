/**
 * The ISA audit of a wheel's shared libraries: which instruction set extensions they use, compared with
 * the variant's declared level (no Nx here).
 */
export { classify, levelRank, exceeds, ISA_LEVEL } from './classify';
export { classifyAarch64 } from './classify-aarch64';
export {
  AARCH64_LEVELS,
  ACL_DISPATCHED,
  ALLOWED_EXTENSIONS,
  archOfLevel,
  ARM_LEVEL_VARIABLES,
  CPU_ISAS,
  CPU_ISAS_BY_ARCH,
  DEFINING_EXTENSION,
  DROPPED_LEVEL_WARNINGS,
  ISA_EXTENSIONS,
  ISA_ARCHS,
  ISA_LEVELS,
  levelAtLeast,
  levelOf,
  PINNED_CPU_FLAGS,
  UNIFIED_X86_DISPATCH,
} from './model';
export type { CpuIsa, DispatchedCode, IsaArch, IsaExtension, IsaLevel, LibraryCeiling } from './model';
export { disassemble, ELF_FORMATS, hostMachine, objdumpCommand, objdumpFor, OBJDUMP_ARGS } from './disassemble';
export type { Disassembly, DisassembleOptions, IsaExample } from './disassemble';
export { demangle } from './demangle';
export type { DemangleOptions } from './demangle';
export { auditWheel, isSharedLibraryName, plannedDisassemblies } from './audit';
export type { AuditWheelOptions, PlannedDisassembly } from './audit';
export { assertAuditOk, baselineName, formatAuditFailure, IsaAuditError } from './report';
export type { AuditReport, FloorFailure, LibraryAudit, IsaViolation, SkippedMember } from './report';
export { globToRegExp } from './glob';
