import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The fixture modules are plain CommonJS (typed by their .d.ts) so the demo runs without a compiler.
import { createOnednnRepo, createTorchIndex, createVllmRepo, CPU_FLAGS, gitUrlRedirectEnv, ONEDNN_GITHUB_URL, writeCpuinfo } from '../../../../tools/fixtures/index.js';
export { createTorchIndex, createVllmRepo, CPU_FLAGS, writeCpuinfo, FIXTURE_TORCH_VERSION } from '../../../../tools/fixtures/index.js';
export { layOutWorkspace, SEED_VARIANTS } from '../../../../tools/fixtures/workspace.js';

export interface SharedFixture {
  root: string;
  repo: ReturnType<typeof createVllmRepo>;
  /** The oneDNN-shaped repository the unified family's cmake fetches from GitHub, and the git redirect to it. */
  onednn: ReturnType<typeof createOnednnRepo>;
  gitRedirectEnv: Record<string, string>;
  torch: ReturnType<typeof createTorchIndex>;
  /** Fake host CPUs (cpuinfo files) the fixture's CMake reads instead of /proc/cpuinfo. */
  cpuinfo: Record<'avx2' | 'avx512' | 'sapphireRapids', string>;
  /** A directory with a `ccache` that logs every compiler call to $VLLM_WHEELS_TEST_COMPILER_LOG, then runs it. */
  fakeBin: string;
}

/** The vLLM-shaped repo, the CPU torch index, fake hosts and a compiler-call recorder, under `root`. */
export function createSharedFixture(root: string): SharedFixture {
  mkdirSync(root, { recursive: true });
  const repo = createVllmRepo(join(root, 'vllm-src'));
  const torch = createTorchIndex(join(root, 'torch-index'));
  const onednn = createOnednnRepo(join(root, 'onednn'));
  const cpuinfo = {
    avx2: writeCpuinfo(join(root, 'cpuinfo-avx2'), CPU_FLAGS.avx2),
    avx512: writeCpuinfo(join(root, 'cpuinfo-avx512'), CPU_FLAGS.avx512),
    sapphireRapids: writeCpuinfo(join(root, 'cpuinfo-spr'), CPU_FLAGS.sapphireRapids),
  };
  const gitRedirectEnv = gitUrlRedirectEnv({ [ONEDNN_GITHUB_URL]: onednn.url });
  return { root, repo, onednn, gitRedirectEnv, torch, cpuinfo, fakeBin: writeCompilerRecorder(join(root, 'bin')) };
}

/**
 * `dir`/ccache, a stand-in that appends each compiler call to $VLLM_WHEELS_TEST_COMPILER_LOG and runs it
 * (the fixture's setup.py, like vLLM's, uses ccache when it is on PATH). Returns `dir`, for PATH.
 */
export function writeCompilerRecorder(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const ccache = join(dir, 'ccache');
  writeFileSync(ccache, '#!/bin/sh\n# Test stand-in for ccache: records the compiler call, then runs it.\nprintf "%s\\n" "$*" >> "${VLLM_WHEELS_TEST_COMPILER_LOG:-/dev/null}"\nexec "$@"\n');
  chmodSync(ccache, 0o755);
  return dir;
}
