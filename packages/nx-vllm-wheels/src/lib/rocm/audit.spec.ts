/**
 * auditwheel's analysis (the tools venv's, real) of a ROCm-shaped extension: compiled by the fixture's
 * hipcc stand-in, linking a HIP runtime, HSA and libtorch_hip stand-ins as a vLLM ROCm build links the real ones.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRocmToolchain, ROCM_FIXTURE_DIR } from '../../../../../tools/fixtures/index.js';
import { tempDir } from '../../test-support/temp';
import { testToolsVenv } from '../../test-support/tools';
import { run } from '../process';
import { analyzePlatform, TORCH_LIBRARY_EXCLUDES } from '../wheel';
import { recordFor, writeZipWithPython } from '../wheel/test-support/python';
import { rocmAnalysisExcludes } from './audit';

const ENV = { PATH: process.env.PATH, LANG: 'C.UTF-8' };
const sh = (command: string, args: string[], cwd: string) => run(command, args, { cwd, env: ENV, timeoutMs: 120_000 });

/** A shared library with this soname in `dir` (and the unversioned link name). */
async function stubLibrary(dir: string, soname: string): Promise<void> {
  const base = soname.replace(/\.so.*$/, '');
  writeFileSync(join(dir, `${base}.c`), `int ${base.replace(/\W/g, '_')}_stub(void) { return 1; }\n`);
  await sh('gcc', ['-O2', '-fPIC', '-shared', `-Wl,-soname,${soname}`, '-o', soname, `${base}.c`], dir);
  if (soname !== `${base}.so`) await sh('ln', ['-sf', soname, `${base}.so`], dir);
}

let wheel: string;
let rocmLib: string;

beforeAll(async () => {
  const root = tempDir('rocm-audit');
  const toolchain = createRocmToolchain(join(root, 'rocm'));
  // The toolchain has the HIP runtime and HSA (ROCM_RUNTIME_SONAMES); libtorch_hip is torch's, stubbed beside them.
  rocmLib = join(root, 'rocm', 'lib');
  await stubLibrary(rocmLib, 'libtorch_hip.so');
  const build = join(root, 'build');
  mkdirSync(build);
  await sh(toolchain.hipcc, ['--offload-arch=gfx942', '-O2', '-fPIC', '-shared', '-o', '_C.abi3.so', join(ROCM_FIXTURE_DIR, 'hip-src', 'kernels.hip'), `-L${rocmLib}`, '-Wl,--no-as-needed', '-lamdhip64', '-lhsa-runtime64', '-ltorch_hip', `-Wl,-rpath,${rocmLib}`], build);
  const di = 'vllm-0.16.0+rocm.dist-info';
  const members = [
    { name: 'vllm/__init__.py', data: '' },
    { name: 'vllm/_C.abi3.so', data: readFileSync(join(build, '_C.abi3.so')), mode: 0o755 },
    { name: `${di}/METADATA`, data: 'Metadata-Version: 2.1\nName: vllm\nVersion: 0.16.0+rocm\n' },
    { name: `${di}/WHEEL`, data: 'Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: false\nTag: cp38-abi3-linux_x86_64\n\n' },
  ];
  wheel = join(root, 'vllm-0.16.0+rocm-cp38-abi3-linux_x86_64.whl');
  await writeZipWithPython(wheel, [...members, { name: `${di}/RECORD`, data: recordFor(members, `${di}/RECORD`) }]);
}, 900_000);

it("excludes ROCm's and torch's libraries: nothing to graft, an honest manylinux tag", async () => {
  const tools = await testToolsVenv();
  const analyze = (exclude: readonly string[]) => analyzePlatform({ wheel, toolsPython: tools.python, exclude, env: ENV, timeoutMs: 120_000 });
  const rocm = await analyze(rocmAnalysisExcludes([]));
  expect(rocm.externalLibs).toEqual([]);
  expect(rocm.excluded.map((e) => e.soname).sort()).toEqual(['libamdhip64.so.7', 'libhsa-runtime64.so.1', 'libtorch_hip.so']);
  expect(rocm.tag).toMatch(/^manylinux_2_\d+_x86_64$/);
  // With torch's excludes alone, the HIP runtime and HSA would have to be grafted into vLLM's wheel.
  const torchOnly = await analyze(TORCH_LIBRARY_EXCLUDES);
  expect(torchOnly.externalLibs.map((l) => l.soname).sort()).toEqual(['libamdhip64.so.7', 'libhsa-runtime64.so.1']);
}, 600_000);
