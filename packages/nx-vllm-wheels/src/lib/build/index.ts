export { buildEnv, describedEnv } from './env';
export type { BuildEnvInput } from './env';
export { buildRawWheel, rawBuildCommand } from './build-wheel';
export type { RawBuildOptions } from './build-wheel';
