import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from '../../process';
import type { IsaExtension } from '../model';
import { TOOL_ENV } from './libs';

/**
 * The aarch64 cross toolchain of Debian (g++-aarch64-linux-gnu, binutils-aarch64-linux-gnu), or why the
 * tests that need it are skipped. `.ci/run` installs both when it may (root or passwordless sudo).
 */
export const CROSS = {
  gcc: 'aarch64-linux-gnu-gcc',
  gxx: 'aarch64-linux-gnu-g++',
  as: 'aarch64-linux-gnu-as',
  objdump: 'aarch64-linux-gnu-objdump',
} as const;

export function crossToolchain(): { ok: true } | { skip: string } {
  const missing = Object.values(CROSS).filter((tool) => !which(tool, TOOL_ENV));
  if (missing.length === 0) return { ok: true };
  return { skip: `${missing.join(', ')} not on PATH: install the Debian packages g++-aarch64-linux-gnu and binutils-aarch64-linux-gnu (.ci/run does, as root)` };
}

/** `it`, or `it.skip` with the reason in the test's name, by whether the cross toolchain is there. */
export function withCrossToolchain(name: string): [jest.It, string] {
  const tools = crossToolchain();
  return 'ok' in tools ? [it, name] : [it.skip, `${name} (skipped: ${tools.skip})`];
}

export type Aarch64Level = 'baseline' | 'armv8' | 'dotprod' | 'bf16' | 'i8mm' | 'sve' | 'sve2';

/** A small C library per aarch64 level: the -march of that level and a function that uses its defining extension. */
export const AARCH64_LIBRARIES: Record<Aarch64Level, { march: string; symbol: string; extension: IsaExtension | null; source: string }> = {
  baseline: {
    march: 'armv8-a+nosimd',
    symbol: 'scale',
    extension: null,
    source: 'long scale(long a, long s) { return a * s + 3; }\n',
  },
  armv8: {
    march: 'armv8-a',
    symbol: 'add_neon',
    extension: 'asimd',
    source: `#include <arm_neon.h>
void add_neon(float *a, const float *b) { vst1q_f32(a, vaddq_f32(vld1q_f32(a), vld1q_f32(b))); }
`,
  },
  dotprod: {
    march: 'armv8.2-a+dotprod+fp16',
    symbol: 'dot_s8',
    extension: 'dotprod',
    source: `#include <arm_neon.h>
int32x4_t dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
`,
  },
  bf16: {
    march: 'armv8.2-a+dotprod+fp16+bf16',
    symbol: 'dot_bf16',
    extension: 'bf16',
    source: `#include <arm_neon.h>
float32x4_t dot_bf16(float32x4_t acc, bfloat16x8_t a, bfloat16x8_t b) { return vbfdotq_f32(acc, a, b); }
`,
  },
  i8mm: {
    march: 'armv8.2-a+dotprod+fp16+bf16+i8mm',
    symbol: 'mmla_s8',
    extension: 'i8mm',
    source: `#include <arm_neon.h>
int32x4_t mmla_s8(int32x4_t acc, int8x16_t a, int8x16_t b) { return vmmlaq_s32(acc, a, b); }
`,
  },
  sve: {
    march: 'armv8.2-a+sve',
    symbol: 'add_sve',
    extension: 'sve',
    source: `#include <arm_sve.h>
void add_sve(float *a, const float *b, long n) {
  for (long i = 0; i < n; i += svcntw()) {
    svbool_t pg = svwhilelt_b32(i, n);
    svst1_f32(pg, a + i, svadd_f32_x(pg, svld1_f32(pg, a + i), svld1_f32(pg, b + i)));
  }
}
`,
  },
  sve2: {
    march: 'armv8.2-a+sve2',
    symbol: 'hadd_sve2',
    extension: 'sve2',
    source: `#include <arm_sve.h>
svint32_t hadd_sve2(svint32_t a, svint32_t b) { return svhadd_s32_x(svptrue_b32(), a, b); }
`,
  },
};

/** Compiles C `source` into an aarch64 shared library `dir/name` with the cross gcc. */
export async function crossCompileLibrary(dir: string, name: string, source: string, march: string): Promise<string> {
  const src = join(dir, `${name}.c`);
  const out = join(dir, name);
  writeFileSync(src, source);
  await run(CROSS.gcc, ['-O2', '-shared', '-fPIC', `-march=${march}`, src, '-o', out], { cwd: dir, env: TOOL_ENV, timeoutMs: 120_000 });
  return out;
}
