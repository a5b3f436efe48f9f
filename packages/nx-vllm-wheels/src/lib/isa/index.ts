/**
 * The ISA audit of a wheel's shared libraries: which instruction set extensions they use, compared with
 * the variant's declared level (no Nx here).
 */
export { classify, levelOf, levelRank, exceeds, ISA_EXTENSIONS, ISA_LEVEL } from './classify';
export type { IsaExtension } from './classify';
export { disassemble, objdumpCommand, OBJDUMP_ARGS } from './disassemble';
export type { Disassembly, DisassembleOptions, IsaExample } from './disassemble';
export { demangle } from './demangle';
export type { DemangleOptions } from './demangle';
export { auditWheel, isSharedLibraryName, plannedDisassemblies } from './audit';
export type { AuditWheelOptions, PlannedDisassembly } from './audit';
export { assertAuditOk, formatAuditFailure, IsaAuditError } from './report';
export type { AuditReport, LibraryAudit, IsaViolation, SkippedMember } from './report';
export { globToRegExp } from './glob';
