export { run, formatCommand, shellQuote } from './run';
export { interruptChildren, interruptSignal, killProcessGroup, superviseChild } from './supervise';
export { stopChildrenOnInterrupt } from './interrupt';
export type { Supervision } from './supervise';
export type { RunOptions, RunResult, OutputStream } from './run';
export { redact, redactUrlCredentials } from './redact';
export { envChanges, formatEnvChanges, formatPlannedCommand, isSecretVariable } from './dry-run';
export type { PlannedCommand } from './dry-run';
export { which } from './which';
