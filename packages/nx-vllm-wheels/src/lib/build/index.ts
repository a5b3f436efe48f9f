export { buildEnv, describedEnv } from './env';
export type { BuildEnvInput } from './env';
export { buildRawWheel, rawBuildCommand } from './build-wheel';
export type { RawBuildOptions } from './build-wheel';
export { isaPinEdit, droppedIsaWatcher, PINNED_CPU_FLAGS, PINNED_FLAGS_VARIABLE } from './isa-pin';
export { withBuildLock } from './build-lock';
export type { RecordBuildProcess } from './build-lock';
