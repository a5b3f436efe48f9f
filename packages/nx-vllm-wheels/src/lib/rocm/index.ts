/**
 * The ROCm pipeline's own steps (no Nx here): the base wheels, the toolchain a ROCm build needs, its environment.
 */
export { collectBaseWheels, baseWheelsDir, BASE_WHEELS_MANIFEST } from './base-wheels';
export type { RocmSpec } from './base-wheels';
export { findRocmToolchain, requireRocmToolchain, DEFAULT_ROCM_PATH } from './toolchain';
export type { RocmToolchain } from './toolchain';
export { rocmBuildEnv, baseWheelsCommandEnv } from './build-env';
export { buildRocmVariant } from './build';
export type { RocmVariantSpec } from './build';
export { ROCM_LIBRARY_EXCLUDES, rocmAnalysisExcludes } from './audit';
export { ensureRocmBuildVenv, ROCM_BUILD_REQUIREMENTS } from './build-venv';
export { readBaseWheelsManifest, baseWheelRequirements } from './base-wheels-manifest';
export { normalizeRocmVariant } from './wheel';
export { buildRocmWheelhouse, readBaseWheels } from './wheelhouse';
export { buildRocmIndex, rocmIndexDir, rocmIndexPageOptions } from './index-build';
