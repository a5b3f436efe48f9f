export { parseConfigFile, parseConfigText, jsonPath } from './parse';
export { vllmConfigSchema, VLLM_BUILD_FIELDS, relativePathSchema } from './vllm';
export type { VllmConfig, LockedVllmConfig } from './vllm';
export { torchConfigSchema, TORCH_BUILD_FIELDS, TORCH_INDEX_FIELDS, TORCH_RESOLUTION_FIELDS, PYTORCH_CPU_INDEX, DEFAULT_REQUIREMENTS } from './torch';
export type { TorchConfig } from './torch';
export { wheelConfigSchema, WHEEL_BUILD_FIELDS, WHEEL_NORMALIZE_FIELDS, WHEELHOUSE_FIELDS, CPU_ISAS, PYPI_UPLOAD_URL, PYPI_DEFAULT_MAX_FILE_SIZE_MIB } from './wheel';
export type { WheelConfig, CpuIsa, PublishConfig } from './wheel';
export { indexConfigSchema, s3TargetSchema, INDEX_CONTENT_FIELDS } from './index-config';
export type { IndexConfig, S3Target } from './index-config';
