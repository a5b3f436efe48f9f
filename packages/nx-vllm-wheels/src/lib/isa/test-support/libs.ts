import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IsaExtension, X86Isa } from '../model';
import { run } from '../../process';
import { dosDateTimeFromEpoch, ZipWriter } from '../../wheel';

/** What the tests give objdump, gcc and c++filt: only PATH. */
export const TOOL_ENV = { PATH: process.env.PATH };

export type Level = 'baseline' | X86Isa;

/** A small C library per level, with the gcc flags of that level and the function that uses it. */
export const LIBRARIES: Record<Level, { flags: string[]; symbol: string; source: string }> = {
  baseline: {
    flags: [],
    symbol: 'scale',
    source: `void scale(float *a, float s, int n) { for (int i = 0; i < n; i++) a[i] *= s; }\n`,
  },
  avx2: {
    flags: ['-mavx2', '-mfma'],
    symbol: 'fma_avx2',
    source: `#include <immintrin.h>
void fma_avx2(float *a, const float *b, const float *c, int n) {
  for (int i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(a + i, _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), _mm256_loadu_ps(c + i)));
}
`,
  },
  avx512: {
    flags: ['-mavx512f', '-mavx512vl', '-mavx512bw', '-mavx512dq'],
    symbol: 'vec_add_avx512',
    source: `#include <immintrin.h>
void vec_add_avx512(int *a, const int *b, const int *c, int n) {
  for (int i = 0; i + 16 <= n; i += 16)
    _mm512_storeu_si512(a + i, _mm512_add_epi32(_mm512_loadu_si512(b + i), _mm512_loadu_si512(c + i)));
}
`,
  },
  avx512vnni: {
    flags: ['-mavx512f', '-mavx512vnni'],
    symbol: 'dot_vnni',
    source: `#include <immintrin.h>
void dot_vnni(__m512i *acc, const __m512i *a, const __m512i *b, int n) {
  for (int i = 0; i < n; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a[i], b[i]);
}
`,
  },
  avx512bf16: {
    flags: ['-mavx512f', '-mavx512bf16'],
    symbol: 'dot_bf16',
    source: `#include <immintrin.h>
void dot_bf16(__m512 *acc, const __m512bh *a, const __m512bh *b, int n) {
  for (int i = 0; i < n; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a[i], b[i]);
}
`,
  },
  amxbf16: {
    flags: ['-mamx-tile', '-mamx-bf16'],
    symbol: 'tile_dot',
    source: `#include <immintrin.h>
void tile_dot(const void *cfg, const void *a, const void *b, void *c) {
  _tile_loadconfig(cfg);
  _tile_zero(0);
  _tile_loadd(1, a, 64);
  _tile_loadd(2, b, 64);
  _tile_dpbf16ps(0, 1, 2);
  _tile_stored(0, c, 64);
  _tile_release();
}
`,
  },
};

export const LEVELS = Object.keys(LIBRARIES) as Level[];

/** Compiles `source` (C, or C++ with a .cc name) into a shared library `dir/name` with gcc/g++. */
export async function compileSharedLibrary(dir: string, name: string, source: string, flags: readonly string[], cxx = false): Promise<string> {
  const src = join(dir, `${name}.${cxx ? 'cc' : 'c'}`);
  const out = join(dir, name);
  writeFileSync(src, source);
  await run(cxx ? 'g++' : 'gcc', ['-O2', '-shared', '-fPIC', ...flags, src, '-o', out], { cwd: dir, env: TOOL_ENV, timeoutMs: 120_000 });
  return out;
}

/** One library per level: `dir/<level>.so`. */
export async function compileLevelLibraries(dir: string): Promise<Record<Level, string>> {
  const entries = await Promise.all(LEVELS.map(async (level) => [level, await compileSharedLibrary(dir, `${level}.so`, LIBRARIES[level].source, LIBRARIES[level].flags)] as const));
  return Object.fromEntries(entries) as Record<Level, string>;
}

/** A zip (no RECORD: the audit does not validate) with these members: a file path or literal content. */
export async function writeWheel(path: string, members: Record<string, { file: string } | { text: string }>): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  const out = await ZipWriter.create(path);
  const modified = dosDateTimeFromEpoch(1_700_000_000);
  for (const [name, m] of Object.entries(members)) {
    await out.addData(name, 'file' in m ? readFileSync(m.file) : m.text, { modified, mode: 0o100755 });
  }
  await out.finish();
  return path;
}

/** Varied code for the benchmark library: vector loops of every level and plain scalar code. */
const BENCH_SOURCE = `#include <immintrin.h>
#include <stddef.h>
#include <string.h>
${LIBRARIES.avx512.source.replace('#include <immintrin.h>', '')}
${LIBRARIES.avx2.source.replace('#include <immintrin.h>', '')}
${LIBRARIES.avx512vnni.source.replace('#include <immintrin.h>', '')}
${LIBRARIES.avx512bf16.source.replace('#include <immintrin.h>', '')}
long hash_mix(const long *a, size_t n) {
  long s = 17;
  for (size_t j = 0; j < n; j++) s = s * 31 + (a[j] ^ (s >> 7));
  return s;
}
int parse_digits(const char *p) {
  int v = 0;
  while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  return v;
}
void softmax_like(float *x, size_t n) {
  float m = x[0], s = 0;
  for (size_t i = 1; i < n; i++) if (x[i] > m) m = x[i];
  for (size_t i = 0; i < n; i++) { x[i] = x[i] - m; s += x[i] * x[i]; }
  for (size_t i = 0; i < n; i++) x[i] /= s;
}
void masked_copy(int *dst, const int *src, size_t n, int t) {
  for (size_t i = 0; i < n; i++) if (src[i] > t) dst[i] = src[i] * 3;
}
struct node { struct node *next; int key; char name[24]; };
struct node *find(struct node *h, const char *name) {
  for (; h; h = h->next) if (!strcmp(h->name, name)) return h;
  return 0;
}
`;

/**
 * A large library (`copies` x the benchmark functions, each copy renamed), compiled to assembly once
 * and assembled: gcc would take minutes to compile that much C.
 */
export async function generateLargeLibrary(dir: string, copies: number): Promise<string> {
  const src = join(dir, 'bench.c');
  const asm = join(dir, 'bench.s');
  writeFileSync(src, BENCH_SOURCE);
  const flags = ['-O2', '-fPIC', '-mavx512f', '-mavx512vl', '-mavx512bw', '-mavx512dq', '-mavx512vnni', '-mavx512bf16', '-mfma'];
  await run('gcc', [...flags, '-S', src, '-o', asm], { cwd: dir, env: TOOL_ENV, timeoutMs: 120_000 });
  const text = readFileSync(asm, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*\.(file|ident|section\s+\.note)/.test(l))
    .join('\n');
  const globals = [...text.matchAll(/^\s*\.globl\s+(\w+)/gm)].map((m) => m[1]);
  const rename = new RegExp(`\\b(${globals.join('|')})\\b|(\\.L\\w+)`, 'g');
  const big = join(dir, 'big.s');
  const parts: string[] = [];
  for (let i = 0; i < copies; i++) parts.push(text.replace(rename, (m) => `${m}_${i}`));
  parts.push('\t.section\t.note.GNU-stack,"",@progbits\n');
  writeFileSync(big, parts.join('\n'));
  const out = join(dir, 'big.so');
  await run('gcc', ['-shared', big, '-o', out], { cwd: dir, env: TOOL_ENV, timeoutMs: 300_000 });
  return out;
}

/**
 * One library per extension above the avx512 baseline that the model counts apart: each also uses
 * AVX-512F (so an avx512 floor holds) and then its own extension, through the compiler's intrinsics
 * where GCC 12.2 has them (FP16) and through inline asm or `.byte` otherwise (gas 2.40 cannot assemble
 * AMX-FP8, and objdump 2.40 prints it as `(bad)`).
 */
export const EXTENSION_PROBES: { extension: IsaExtension; flags: string[]; body: string }[] = [
  { extension: 'avx512vbmi', flags: [], body: asm('vpermb %zmm1,%zmm2,%zmm3') },
  { extension: 'avx512vbmi2', flags: [], body: asm('vpshldvw %zmm1,%zmm2,%zmm3') },
  { extension: 'avx512ifma', flags: [], body: asm('vpmadd52luq %zmm1,%zmm2,%zmm3') },
  { extension: 'avx512vpopcntdq', flags: [], body: asm('vpopcntq %zmm1,%zmm2') },
  { extension: 'avx512bitalg', flags: [], body: asm('vpopcntb %zmm1,%zmm2') },
  {
    extension: 'avx512fp16',
    flags: ['-mavx512fp16'],
    body: `#include <immintrin.h>
void probe(_Float16 *a, const _Float16 *b) { _mm512_storeu_ph(a, _mm512_add_ph(_mm512_loadu_ph(a), _mm512_loadu_ph(b))); }
`,
  },
  { extension: 'avx512vp2intersect', flags: [], body: asm('vp2intersectd %zmm1,%zmm2,%k2') },
  { extension: 'avx512vaes', flags: [], body: asm('vaesenc %zmm1,%zmm2,%zmm3') },
  { extension: 'vaes', flags: [], body: asm('vpclmulqdq $0x11,%ymm1,%ymm2,%ymm3') },
  { extension: 'gfni', flags: [], body: asm('vgf2p8mulb %zmm1,%zmm2,%zmm3') },
  { extension: 'avx512phi', flags: [], body: asm('vexp2ps %zmm1,%zmm2') },
  { extension: 'avxvnni', flags: [], body: asm('{vex} vpdpbusd %ymm1,%ymm2,%ymm3') },
  { extension: 'avxifma', flags: [], body: asm('{vex} vpmadd52luq %ymm1,%ymm2,%ymm3') },
  { extension: 'amxint8', flags: [], body: asm('tdpbssd %tmm1,%tmm2,%tmm3') },
  { extension: 'amxfp16', flags: [], body: asm('tdpfp16ps %tmm1,%tmm2,%tmm3') },
  // tdpbf8ps %tmm1,%tmm2,%tmm0 (VEX.128.NP.MAP5.W0 FD /r), then a ret for objdump to resynchronise on.
  { extension: 'amxfp8', flags: [], body: asm('.byte 0xc4,0xe5,0x70,0xfd,0xc2') },
];

/** A function using AVX-512F and then `instruction` (not run: only disassembled). */
function asm(instruction: string): string {
  return `void probe(void) { __asm__ volatile("vpaddd %%zmm1,%%zmm2,%%zmm0\\n\\t${instruction.replace(/[%{}]/g, (c) => (c === '%' ? '%%' : `%${c}`))}\\n\\tnop\\n\\tnop\\n\\tnop" ::: "memory"); }\n`;
}
