export { run, formatCommand, killProcessGroup } from './run';
export type { RunOptions, RunResult, OutputStream } from './run';
export { redact } from './redact';
export { which } from './which';
