export { buildWheelhouse } from './build';
export type { BuildWheelhouseOptions } from './build';
export { resolveWheelhouse, sourceArgs } from './resolve';
export type { PackageSource, ResolveWheelhouseOptions } from './resolve';
export { renderDockerfile, DOCKERIGNORE, IMAGE_VENV, MOUNTED_WHEELS } from './dockerfile';
export type { DockerfileOptions } from './dockerfile';
export { readManifest, sha256File, serializeManifest, MANIFEST_FILE, CONSTRAINTS_FILE, WHEEL_ROLES } from './manifest';
export type { WheelhouseEntry, WheelhouseManifest, WheelRole } from './manifest';
