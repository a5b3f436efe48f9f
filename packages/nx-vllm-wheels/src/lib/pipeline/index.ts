export type { StepContext, SourceSpec, TorchSpec, VariantSpec } from './context';
export { rawDir, wheelsDir } from './context';
export { checkoutSource, lockSource, prepareVariantSource, repositoryUrl, patchesOf, sourceAvailable } from './source';
export { installTorch } from './torch';
export { buildVariant } from './build';
export { normalizeVariant } from './normalize';
export { applyVersionPolicy } from './version';
export type { VersionPolicy } from './version';
