import type { RocmConfig, RocmWheelConfig } from '../../config';

/**
 * The variables a ROCm vLLM build is run with besides the caller's: vLLM's setup.py builds for ROCm
 * with VLLM_TARGET_DEVICE=rocm, and PyTorch's extension builder (which vLLM's CMake follows) compiles
 * for the GPU architectures in PYTORCH_ROCM_ARCH (";"-separated). ROCM_PATH is the toolchain found.
 */
export function rocmBuildEnv(rocm: RocmConfig, variant: RocmWheelConfig, rocmPath: string): Record<string, string> {
  return { ...variant.env, VLLM_TARGET_DEVICE: 'rocm', PYTORCH_ROCM_ARCH: rocm.gpuArchs.join(';'), ROCM_PATH: rocmPath };
}

/** The variables a base-wheel command gets: where to write the wheels, and what to build them for. */
export function baseWheelsCommandEnv(rocm: RocmConfig, outDir: string): Record<string, string> {
  return {
    VLLM_WHEELS_BASE_WHEELS_OUT: outDir,
    ROCM_VERSION: rocm.rocmVersion,
    PYTORCH_ROCM_ARCH: rocm.gpuArchs.join(';'),
    PYTHON_VERSION: rocm.python,
  };
}
