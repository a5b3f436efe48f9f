/**
 * A variant's ISA must not depend on the build machine: vLLM 0.16's CMake reads the host's
 * /proc/cpuinfo, so the plugin pins what it sees to the variant's declared ISA.
 */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { freshVenv, pipInstall, runPython } from './support/python';
import { createTestWorkspace, type TestWorkspace } from './support/workspace';

describe('the ISA pin', () => {
  let fixture: SharedFixture;
  let tmp: string;
  let n = 0;
  const workspace = (host: keyof SharedFixture['cpuinfo'], cxxVersion = '13.2.0') =>
    createTestWorkspace({ fixture, root: join(tmp, `ws-${++n}`), machineCache: join(tmp, 'machine-cache'), variants: ['vllm-cpu-avx512', 'vllm-cpu-avx512vnni'], host, cxxVersion });

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
    expect(report).toMatchObject({ ok: true, libraries: [{ path: 'vllm/_C.abi3.so', highest: 'avx512' }] });

    setEnv(ws, 'vllm-cpu-avx512', (env) => env, { pinIsa: false });
    const leaked = await ws.nx(['run', 'vllm-cpu-avx512:wheel', '--outputStyle=static']);
    expect(leaked.code).not.toBe(0);
    expect(leaked.output).toMatch(/declares isa avx512, but:\n\s+- vllm\/_C\.abi3\.so uses avx512vnni \(\d+ instructions?\), e\.g\. in .*kernel_avx512vnni.*: vpdpbusd/);
    expect(leaked.output).toMatch(/vllm\/_C\.abi3\.so uses amxbf16/);
  });

  it('a build host without AVX-512 still produces a real AVX-512 vllm-cpu-avx512, even without VLLM_CPU_AVX512', async () => {
    const ws = workspace('avx2');
    setEnv(ws, 'vllm-cpu-avx512', ({ VLLM_CPU_AVX512: _, ...rest }) => rest);
    await ws.nxOk(['run', 'vllm-cpu-avx512:wheel', '--outputStyle=static']);
    expect(isaOf(ws, 'vllm-cpu-avx512')).toEqual({ avx2: true, avx512f: true, avx512vnni: false, avx512bf16: false, amxbf16: false });
  });

  it('a compiler older than GCC 12.3 fails vllm-cpu-avx512vnni clearly instead of shipping plain AVX-512 under its name', async () => {
    const ws = workspace('avx512', '12.2.0');
    const result = await ws.nx(['run', 'vllm-cpu-avx512vnni:wheel', '--outputStyle=static']);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('The build did not produce what the variant declares: Disable AVX512-VNNI ISA support, requires gcc/g++ >= 12.3');
    expect(existsSync(join(ws.root, 'dist/raw/vllm-cpu-avx512vnni'))).toBe(false);
    expect(existsSync(join(ws.root, 'dist/wheels/vllm-cpu-avx512vnni'))).toBe(false);
  });
});
