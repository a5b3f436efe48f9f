import { TORCH_LIBRARY_EXCLUDES } from '../wheel';

/**
 * ROCm's own libraries (the HIP runtime, HSA, the code-object manager, the math and communication
 * libraries, the tracers): a vLLM ROCm build links them, and they come from the ROCm installation or
 * from the ROCm torch wheel (which may carry them in torch/lib), never from vLLM's wheel. Globs as
 * `auditwheel repair --exclude` takes them, matched against sonames. libtorch_hip.so is torch's
 * (TORCH_LIBRARY_EXCLUDES' libtorch*).
 */
export const ROCM_LIBRARY_EXCLUDES: readonly string[] = [
  'libamdhip64.so*',
  'libhsa-runtime64.so*',
  'libamd_comgr.so*',
  // librocm_smi64, librocblas, librocsolver, librocrand, librocprofiler…; libhiprtc, libhipblas, libhipfft…
  'libroc[a-z]*.so*',
  'libhip[a-z]*.so*',
  'libMIOpen.so*',
  'librccl.so*',
  'libroctx64.so*',
  'libroctracer64.so*',
  'libaotriton*.so*',
];

/** What the platform-tag analysis of a ROCm vLLM wheel excludes: torch's, ROCm's and the variant's system libraries. */
export function rocmAnalysisExcludes(systemLibraries: readonly string[]): string[] {
  return [...TORCH_LIBRARY_EXCLUDES, ...ROCM_LIBRARY_EXCLUDES, ...systemLibraries];
}
