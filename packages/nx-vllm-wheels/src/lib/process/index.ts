export { run, formatCommand } from './run';
export { killProcessGroup, superviseChild } from './supervise';
export type { Supervision } from './supervise';
export type { RunOptions, RunResult, OutputStream } from './run';
export { redact } from './redact';
export { which } from './which';
