/**
 * A variant's ISA must not depend on the build machine: vLLM 0.16's CMake reads the host's
 * /proc/cpuinfo, so the plugin pins what it sees to the variant's declared ISA.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { freshVenv, pipInstall, runPython } from './support/python';
import { createTestWorkspace, type TestWorkspace } from './support/workspace';

/** Makes the fixture's cpu_extension.cmake ignore VLLM_CPU_DISABLE_AVX512 (applies at the locked commit). */
const IGNORE_DISABLE_AVX512_PATCH = `diff --git a/cmake/cpu_extension.cmake b/cmake/cpu_extension.cmake
--- a/cmake/cpu_extension.cmake
+++ b/cmake/cpu_extension.cmake
@@ -98,7 +98,7 @@ if (ENABLE_AVX512)
   set(AVX512_FOUND ON)
   message(STATUS "AVX512 support enabled via VLLM_CPU_AVX512 environment variable")
 endif()
-if ("$ENV{VLLM_CPU_DISABLE_AVX512}" STREQUAL "true")
+if ("$ENV{VLLM_CPU_DISABLE_AVX512}" STREQUAL "no longer honoured")
   set(AVX512_DISABLED ON)
 else()
   set(AVX512_DISABLED OFF)
`;

/** Makes the fixture drop an extension on GCC < 12.3 without its warning (stands for a source that drops it silently). */
const SILENT_GCC_GATE_PATCH = `diff --git a/cmake/cpu_extension.cmake b/cmake/cpu_extension.cmake
--- a/cmake/cpu_extension.cmake
+++ b/cmake/cpu_extension.cmake
@@ -73,7 +73,7 @@
                     " If cross-compilation is required, please set env \${ENV_VAR}=1.")
   elseif (NOT (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
                ISA_CHECK_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12.3))
-    message(WARNING "Disable \${LABEL} ISA support, requires gcc/g++ >= 12.3")
+    message(STATUS "\${LABEL}: needs gcc/g++ >= 12.3, left out")
   else()
     set(_enabled ON)
     set(CXX_COMPILE_FLAGS \${CXX_COMPILE_FLAGS} \${ARGN} PARENT_SCOPE)
`;

/** File name -> sha256 of every file in `dir`. */
function snapshotDir(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

describe('the ISA pin', () => {
  let fixture: SharedFixture;
  let tmp: string;
  let n = 0;
  const workspace = (host: keyof SharedFixture['cpuinfo'], cxxVersion = '13.2.0', variants = ['vllm-cpu-avx512', 'vllm-cpu-avx512vnni']) =>
    createTestWorkspace({ fixture, root: join(tmp, `ws-${++n}`), machineCache: join(tmp, 'machine-cache'), variants, host, cxxVersion });

  function isaOf(ws: TestWorkspace, variant: string): Record<string, boolean> {
    const dir = join(ws.root, 'dist/wheels', variant);
    const python = freshVenv(join(tmp, `venv-${++n}`));
    pipInstall(python, [join(dir, readdirSync(dir).find((f) => f.endsWith('.whl')) as string)], fixture.torch.indexUrl);
    return JSON.parse(runPython(python, 'import json, vllm._C as c; print(json.dumps(c.compiled_isa()))'));
  }

  const setEnv = (ws: TestWorkspace, variant: string, change: (env: Record<string, string>) => Record<string, string>, extra: Record<string, unknown> = {}) => {
    const file = `packages/${variant}/wheel.json`;
    const config = ws.readJson<{ env: Record<string, string> }>(file);
    ws.writeJson(file, { ...config, env: change(config.env), ...extra });
  };

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('isa');
    fixture = createSharedFixture(join(tmp, 'fixture'));
  });

  it('a Sapphire Rapids build host does not leak VNNI/BF16/AMX into vllm-cpu-avx512; unpinned it does, and the audit refuses it', async () => {
    const ws = workspace('sapphireRapids');
    const out = await ws.nxOk(['run', 'vllm-cpu-avx512:wheel', '--outputStyle=static']);
    expect(out).toContain('nx-vllm-wheels: CPU flags pinned to the variant');
    expect(isaOf(ws, 'vllm-cpu-avx512')).toEqual({ avx2: true, avx512f: true, avx512vnni: false, avx512bf16: false, amxbf16: false });

    const report = ws.readJson<{ ok: boolean; libraries: { path: string; highest: string }[] }>(
      `dist/wheels/vllm-cpu-avx512/${readdirSync(join(ws.root, 'dist/wheels/vllm-cpu-avx512')).find((f) => f.endsWith('.isa-audit.json'))}`,
    );
    expect(report).toMatchObject({
      ok: true,
      libraries: [
        { path: 'vllm/_C.abi3.so', highest: 'avx512' },
        { path: 'vllm/libs/libvllm_fixture_alloc.so', highest: null }, // the bundled library, built without ISA flags
      ],
    });

    setEnv(ws, 'vllm-cpu-avx512', (env) => env, { pinIsa: false });
    const leaked = await ws.nx(['run', 'vllm-cpu-avx512:wheel', '--outputStyle=static']);
    expect(leaked.code).not.toBe(0);
    expect(leaked.output).toMatch(/declares isa avx512, but:\n\s+- vllm\/_C\.abi3\.so uses avx512vnni \(\d+ instructions?\), e\.g\. in .*kernel_avx512vnni.*: vpdpbusd/);
    expect(leaked.output).toMatch(/vllm\/_C\.abi3\.so uses amxbf16/);
  });

  it('the baseline vllm-cpu on an AVX-512 host, from a source that ignores VLLM_CPU_DISABLE_AVX512: pinned it stays AVX2; unpinned the audit refuses it', async () => {
    const ws = workspace('avx512', '13.2.0', ['vllm-cpu']);
    // Stands for a vLLM version (or fork) whose CMake no longer honours the variable: only the host decides.
    mkdirSync(join(ws.root, 'packages/vllm/patches'));
    writeFileSync(join(ws.root, 'packages/vllm/patches/ignore-disable-avx512.patch'), IGNORE_DISABLE_AVX512_PATCH);
    ws.writeJson('packages/vllm/vllm.json', { ...ws.readJson<object>('packages/vllm/vllm.json'), patches: ['patches/ignore-disable-avx512.patch'] });

    await ws.nxOk(['run', 'vllm-cpu:wheel', '--outputStyle=static']);
    expect(isaOf(ws, 'vllm-cpu')).toEqual({ avx2: true, avx512f: false, avx512vnni: false, avx512bf16: false, amxbf16: false });
    const good = snapshotDir(join(ws.root, 'dist/wheels/vllm-cpu'));

    setEnv(ws, 'vllm-cpu', (env) => env, { pinIsa: false });
    const leaked = await ws.nx(['run', 'vllm-cpu:wheel', '--outputStyle=static']);
    expect(leaked.code).not.toBe(0);
    // Even the AVX2 kernel comes out with EVEX (AVX-512) encodings once the whole file gets -mavx512f.
    expect(leaked.output).toMatch(/declares isa avx2, but vllm\/_C\.abi3\.so uses avx512 \(\d+ instructions?\), e\.g\. in vllm_fixture::kernel_avx2\(.*\): v\w+ .*%[xyz]mm/);
    // The refused wheel never replaces the last good one.
    expect(snapshotDir(join(ws.root, 'dist/wheels/vllm-cpu'))).toEqual(good);
  });

  it('a build host without AVX-512 still produces a real AVX-512 vllm-cpu-avx512, even without VLLM_CPU_AVX512', async () => {
    const ws = workspace('avx2');
    setEnv(ws, 'vllm-cpu-avx512', ({ VLLM_CPU_AVX512: _, ...rest }) => rest);
    await ws.nxOk(['run', 'vllm-cpu-avx512:wheel', '--outputStyle=static']);
    expect(isaOf(ws, 'vllm-cpu-avx512')).toEqual({ avx2: true, avx512f: true, avx512vnni: false, avx512bf16: false, amxbf16: false });
  });

  it('a compiler older than GCC 12.3 fails vllm-cpu-avx512vnni clearly instead of shipping plain AVX-512 under its name: before the build when the plugin sees it, from the build log when only CMake does; a source that drops VNNI silently fails the audit', async () => {
    // The plugin asks the compiler (CXX: a GCC 12.2): refused before the worktree is prepared.
    const old = workspace('avx512', '12.2.0');
    const refused = await old.nx(['run', 'vllm-cpu-avx512vnni:wheel', '--outputStyle=static'], { CXX: 'g++-12' });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/vLLM [0-9a-f]{12} needs GNU >= 12\.3 for isa avx512vnni \(below it cmake\/cpu_extension\.cmake turns avx512vnni off with a warning, line \d+\), and the compiler CXX names does not satisfy it:\n\s+- g\+\+-12 \(CXX in the environment of nx\): GNU 12\.2\.0, older than 12\.3/);
    expect(existsSync(join(old.root, 'dist/raw/vllm-cpu-avx512vnni'))).toBe(false);

    // The plugin is given a g++-13 but CMake sees GCC 12.2 (the fixture's gate): upstream's warning fails the build.
    const ws = workspace('avx512', '13.2.0');
    const cmake122 = { VLLM_FIXTURE_CXX_COMPILER_VERSION: '12.2.0' };
    const result = await ws.nx(['run', 'vllm-cpu-avx512vnni:wheel', '--outputStyle=static'], cmake122);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/vllm-cpu-avx512vnni: compiler: g\+\+-13 \(GNU 13\.2\.0\); vLLM [0-9a-f]{12} needs GNU >= 12\.3 for avx512vnni/);
    expect(result.output).toContain('The build did not produce what the variant declares: Disable AVX512-VNNI ISA support, requires gcc/g++ >= 12.3');
    expect(existsSync(join(ws.root, 'dist/raw/vllm-cpu-avx512vnni'))).toBe(false);
    expect(existsSync(join(ws.root, 'dist/wheels/vllm-cpu-avx512vnni'))).toBe(false);

    // A source that drops VNNI without a word: the build passes, the audit's floor refuses the wheel.
    mkdirSync(join(ws.root, 'packages/vllm/patches'));
    writeFileSync(join(ws.root, 'packages/vllm/patches/silent-gcc-gate.patch'), SILENT_GCC_GATE_PATCH);
    ws.writeJson('packages/vllm/vllm.json', { ...ws.readJson<object>('packages/vllm/vllm.json'), patches: ['patches/silent-gcc-gate.patch'] });
    const silent = await ws.nx(['run', 'vllm-cpu-avx512vnni:wheel', '--outputStyle=static'], cmake122);
    expect(silent.code).not.toBe(0);
    expect(silent.output).toMatch(
      /vllm_cpu_avx512vnni-\S+\.whl declares isa avx512vnni, but vllm\/_C\.abi3\.so must reach avx512vnni \(at least one avx512vnni instruction, or of a level above\) as its declared isa, and its highest is avx512\n/,
    );
    expect(existsSync(join(ws.root, 'dist/wheels/vllm-cpu-avx512vnni'))).toBe(false);
  });
});
