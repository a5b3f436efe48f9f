import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

// The fixture module is plain CommonJS so the offline demo can use it without a compiler.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require(join(REPO_ROOT, 'tools/fixtures/index.js')) as {
  createVllmRepo(dir: string): { path: string; url: string; tags: Record<string, string>; head: string };
  createTorchIndex(dir: string, options?: { version?: string; python?: string }): { indexUrl: string; wheelPath: string; version: string };
  writeCpuinfo(path: string, flags: readonly string[]): string;
  CPU_FLAGS: Record<'avx2' | 'avx512' | 'sapphireRapids', string[]>;
  FIXTURE_TORCH_VERSION: string;
};

export const { createVllmRepo, createTorchIndex, writeCpuinfo, CPU_FLAGS, FIXTURE_TORCH_VERSION } = fixtures;

export interface SharedFixture {
  root: string;
  repo: ReturnType<typeof createVllmRepo>;
  torch: ReturnType<typeof createTorchIndex>;
  /** Fake host CPUs (cpuinfo files) the fixture's CMake reads instead of /proc/cpuinfo. */
  cpuinfo: Record<'avx2' | 'avx512' | 'sapphireRapids', string>;
  /** A directory with a `ccache` that logs every compiler call to $VLLM_TEST_COMPILER_LOG, then runs it. */
  fakeBin: string;
}

/** The vLLM-shaped repo, the CPU torch index, fake hosts and a compiler-call recorder, under `root`. */
export function createSharedFixture(root: string): SharedFixture {
  mkdirSync(root, { recursive: true });
  const repo = createVllmRepo(join(root, 'vllm-src'));
  const torch = createTorchIndex(join(root, 'torch-index'));
  const cpuinfo = {
    avx2: writeCpuinfo(join(root, 'cpuinfo-avx2'), CPU_FLAGS.avx2),
    avx512: writeCpuinfo(join(root, 'cpuinfo-avx512'), CPU_FLAGS.avx512),
    sapphireRapids: writeCpuinfo(join(root, 'cpuinfo-spr'), CPU_FLAGS.sapphireRapids),
  };
  const fakeBin = join(root, 'bin');
  mkdirSync(fakeBin, { recursive: true });
  const ccache = join(fakeBin, 'ccache');
  writeFileSync(ccache, '#!/bin/sh\n# Test stand-in for ccache: records the compiler call, then runs it.\nprintf "%s\\n" "$*" >> "${VLLM_TEST_COMPILER_LOG:-/dev/null}"\nexec "$@"\n');
  chmodSync(ccache, 0o755);
  return { root, repo, torch, cpuinfo, fakeBin };
}
